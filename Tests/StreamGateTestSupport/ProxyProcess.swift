import Foundation

/// A running `streamgate run` child process: writes the config to a temporary directory, starts the real binary,
/// waits for every listener's "listening on" line on stderr, and is always stopped by PID (at the latest on deinit).
public final class ProxyProcess: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let configURL: URL
    private let logURL: URL
    private let process: Process
    private let logHandle: FileHandle
    private let ports: [String: Int]
    private let stopped = StopFlag()
    private let lock = NSLock()
    private var termination: ProcessResult?

    /// Starts the proxy and waits up to `startupTimeout` seconds for each name in `listeners` to report its port.
    /// `extraArguments` go after `run --config FILE`, e.g. `["--log-level", "debug"]`; `launcher` goes before the
    /// binary (e.g. `ip netns exec HOST`, which becomes the proxy: signals to its PID reach the proxy).
    public init(
        yaml: String,
        listeners: [String] = ["plain"],
        extraArguments: [String] = [],
        launcher: [String] = [],
        startupTimeout: TimeInterval = 10
    ) throws {
        directory = try TemporaryDirectory(prefix: "streamgate-proxy")
        configURL = try directory.write(yaml, to: "streamgate.yaml")
        logURL = try directory.write("", to: "stderr.log")
        logHandle = try FileHandle(forWritingTo: logURL)
        process = Process()
        let command = [try StreamGateBinary.url().path, "run", "--config", configURL.path] + extraArguments
        process.executableURL = URL(fileURLWithPath: launcher.first ?? command[0])
        process.arguments = Array((launcher + command).dropFirst())
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()

        var found: [String: Int] = [:]
        let logURL = self.logURL
        let process = self.process
        Wait.until(timeout: startupTimeout) {
            found = Self.listeningPorts(in: (try? String(contentsOf: logURL, encoding: .utf8)) ?? "")
            return listeners.allSatisfy { found[$0] != nil } || !process.isRunning
        }
        ports = found
        let missing = listeners.filter { found[$0] == nil }
        if !missing.isEmpty {
            stop()
            throw TestSupportError(
                "streamgate did not report listener(s) \(missing) within \(startupTimeout)s "
                    + "(exit code \(termination?.exitCode.description ?? "none")). Log:\n\(log)"
            )
        }
    }

    /// The port listener `name` bound last, read from the log now (a reload that adds a listener logs its line).
    public func currentPort(of listener: String) -> Int? {
        Self.listeningPorts(in: log)[listener]
    }

    /// The port listener `name` bound (as read from its "listening on" log line).
    public func port(of listener: String) throws -> Int {
        guard let port = ports[listener] else {
            throw TestSupportError("no port known for listener \(listener); known: \(ports)")
        }
        return port
    }

    /// `http://127.0.0.1:PORT` of listener `name`.
    public func baseURL(of listener: String = "plain") throws -> String {
        "http://127.0.0.1:\(try port(of: listener))"
    }

    /// Everything the proxy wrote to stdout and stderr so far.
    public var log: String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    public var processIdentifier: Int32 { process.processIdentifier }

    public var isRunning: Bool { process.isRunning }

    /// Sends SIGTERM to the proxy's PID, waits up to `timeout` seconds, then SIGKILLs it. Returns how it ended
    /// (`timedOut` when it had to be killed). Later calls return the first result.
    @discardableResult
    public func stop(timeout: TimeInterval = 5) -> ProcessResult {
        if stopped.markStopped() {
            let pid = process.processIdentifier
            if process.isRunning {
                ProcessSignal.terminate(pid)
            }
            let exited = Wait.until(timeout: timeout, interval: 0.01) { !process.isRunning }
            if !exited {
                ProcessSignal.forceKill(pid)
            }
            process.waitUntilExit()
            try? logHandle.close()
            let result = ProcessResult(exitCode: process.shellExitCode, timedOut: !exited, stdoutData: Data(), stderr: log)
            lock.withLock { termination = result }
            return result
        }
        Wait.until(timeout: timeout + 1) { lock.withLock { termination != nil } }
        return lock.withLock { termination } ?? ProcessResult(exitCode: -1, timedOut: true, stdoutData: Data(), stderr: log)
    }

    deinit {
        stop(timeout: 2)
    }

    /// Parses `listener NAME listening on HOST:PORT` lines, and `admin listening on HOST:PORT` as "admin".
    static func listeningPorts(in log: String) -> [String: Int] {
        var ports: [String: Int] = [:]
        for line in log.split(separator: "\n") {
            // Text or JSON lines: the port is the digits after the address's last colon.
            func port(_ address: Substring) -> Int? {
                let afterHost = address.split(separator: " ").first?.split(separator: ":").last ?? ""
                return Int(afterHost.prefix { $0.isNumber })
            }
            if let range = line.range(of: "admin listening on "), let port = port(line[range.upperBound...]) {
                ports["admin"] = port
                continue
            }
            guard let range = line.range(of: "listener ") else { continue }
            let words = line[range.upperBound...].split(separator: " ")
            guard words.count >= 4, words[1] == "listening", words[2] == "on", let port = port(words[3])
            else { continue }
            ports[String(words[0])] = port
        }
        return ports
    }
}
