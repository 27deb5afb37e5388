import Foundation

/// A `curl` left running while its stdout is read line by line as it arrives, each line stamped with its arrival
/// time (ms since the epoch, the clock `OriginEvent.sentAt` uses). Killed by PID on `kill()` or deinit.
public final class CurlStream: @unchecked Sendable {
    /// One line of curl's stdout (without its newline) and when the test process read it.
    public struct Line: Sendable {
        public let text: String
        public let arrivedAt: Double
    }

    private let process: Process
    private let stderrURL: URL
    private let directory: TemporaryDirectory
    private let collector = LineCollector()

    /// Starts `curl` with the standard arguments plus `arguments` (add `-N` to stop curl buffering its output).
    public init(_ arguments: [String]) throws {
        directory = try TemporaryDirectory(prefix: "streamgate-curl")
        stderrURL = try directory.write("", to: "stderr")
        let stderr = try FileHandle(forWritingTo: stderrURL)
        let stdout = Pipe()
        process = Process()
        process.executableURL = try Curl.executable()
        process.arguments = Curl.baseArguments + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        try? stderr.close()
        let reader = stdout.fileHandleForReading
        let collector = self.collector
        Thread { collector.read(from: reader) }.start()
    }

    public var processIdentifier: Int32 { process.processIdentifier }

    /// The complete lines received so far.
    public var lines: [Line] { collector.lines }

    /// True once curl closed its stdout.
    public var finishedOutput: Bool { collector.finished }

    /// What curl wrote to stderr so far.
    public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits up to `timeout` seconds until `condition` holds for the lines received.
    @discardableResult
    public func waitForLines(timeout: TimeInterval, _ condition: ([Line]) -> Bool) -> Bool {
        Wait.until(timeout: timeout) { condition(lines) }
    }

    /// Waits up to `timeout` seconds for curl to exit; its exit code, or nil while it still runs. Once it has
    /// exited, also waits (up to 5 s) until the reader thread has taken every line it wrote, so `lines` is whole.
    public func waitForExit(timeout: TimeInterval) -> Int32? {
        guard Wait.until(timeout: timeout, interval: 0.01, { !process.isRunning }) else { return nil }
        process.waitUntilExit()
        Wait.until(timeout: 5, interval: 0.01) { collector.finished }
        return process.shellExitCode
    }

    /// SIGKILLs curl by PID (no-op once it has exited) and reaps it.
    public func kill() {
        if process.isRunning {
            ProcessSignal.forceKill(process.processIdentifier)
        }
        process.waitUntilExit()
    }

    deinit {
        kill()
    }
}

/// Splits a byte stream into lines on a reader thread, stamping each with its arrival time.
private final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [CurlStream.Line] = []
    private var pending = Data()
    private var reachedEOF = false

    var lines: [CurlStream.Line] { lock.withLock { received } }
    var finished: Bool { lock.withLock { reachedEOF } }

    /// Reads until end of file; blocks the calling thread.
    func read(from handle: FileHandle) {
        while true {
            let data = handle.availableData
            let now = Date().timeIntervalSince1970 * 1000
            lock.withLock {
                if data.isEmpty {
                    reachedEOF = true
                } else {
                    append(data, arrivedAt: now)
                }
            }
            if data.isEmpty { return }
        }
    }

    private func append(_ data: Data, arrivedAt: Double) {
        pending.append(data)
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let text = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
            received.append(CurlStream.Line(text: text, arrivedAt: arrivedAt))
            pending = Data(pending[pending.index(after: newline)...])
        }
    }
}
