import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A peer process the benchmark started: its PID, its combined stdout/stderr log, and a stop that signals only
/// this PID and the worker children it had (SIGTERM, then SIGKILL after a grace period). Never by name.
final class ChildProcess: @unchecked Sendable {
    let pid: Int32
    let logPath: String
    let commandLine: String
    private let process: Process

    private init(process: Process, logPath: String, commandLine: String) {
        self.process = process
        self.pid = process.processIdentifier
        self.logPath = logPath
        self.commandLine = commandLine
    }

    /// Starts `executable` with `arguments`; under `wrapper` (a program and its arguments, e.g. valgrind's
    /// callgrind) when one is given, which then runs the executable.
    static func launch(
        executable: String,
        arguments: [String],
        logPath: String,
        wrapper: [String] = []
    ) throws -> ChildProcess {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw PeerStartFailure(reason: "cannot write \(logPath)")
        }
        let process = Process()
        if let program = wrapper.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(wrapper.dropFirst()) + [executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try? log.close()
        let commandLine = (wrapper + [executable] + arguments).joined(separator: " ")
        return ChildProcess(process: process, logPath: logPath, commandLine: commandLine)
    }

    var isRunning: Bool { process.isRunning }

    func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The last `count` lines of the log, for error messages.
    func logTail(_ count: Int = 5) -> String {
        log().split(separator: "\n").suffix(count).joined(separator: " | ")
    }

    /// SIGTERM to the process; after `grace`, SIGKILL to it and to any of its children still alive.
    func stop(grace: Duration = .seconds(5)) async {
        let workers = ProcessStats.children(of: pid)
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            kill(pid, SIGKILL)
        }
        for worker in workers where kill(worker, 0) == 0 {
            try? await Task.sleep(for: .milliseconds(200))
            if kill(worker, 0) == 0 {
                kill(worker, SIGKILL)
            }
        }
        while process.isRunning {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Why a peer could not be started, with what its log said.
struct PeerStartFailure: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
