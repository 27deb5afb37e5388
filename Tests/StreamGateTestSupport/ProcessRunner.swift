import Foundation

/// Runs a child process to completion within a time limit, output captured through files (no pipe can fill up).
public enum ProcessRunner {
    /// How a process still running at the end of its time is stopped.
    public enum Stop {
        /// SIGKILL by PID; the result says `timedOut`.
        case kill
        /// SIGTERM by PID (so it can end its own children), SIGKILL two seconds later if needed; `timedOut` only
        /// when SIGKILL was needed. For processes that are meant to be stopped, like a browser visit.
        case terminate
    }

    /// Runs `executable` with `arguments`; after `timeout` seconds the process is killed by its PID.
    public static func run(_ executable: URL, _ arguments: [String], timeout: TimeInterval) throws -> ProcessResult {
        try run(executable, arguments, environment: nil, timeout: timeout, stop: .kill, until: { false })
    }

    /// Runs `executable` until it exits, `condition` holds (polled) or `timeout` passes, then stops it as `stop`
    /// says. `environment` nil inherits this process's.
    public static func run(
        _ executable: URL,
        _ arguments: [String],
        environment: [String: String]?,
        timeout: TimeInterval,
        stop: Stop,
        until condition: () -> Bool
    ) throws -> ProcessResult {
        let directory = try TemporaryDirectory(prefix: "streamgate-run")
        let stdoutURL = try directory.write("", to: "stdout")
        let stderrURL = try directory.write("", to: "stderr")
        let stdout = try FileHandle(forWritingTo: stdoutURL)
        let stderr = try FileHandle(forWritingTo: stderrURL)
        defer {
            try? stdout.close()
            try? stderr.close()
        }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment {
            process.environment = environment
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()

        Wait.until(timeout: timeout, interval: 0.01) { !process.isRunning || condition() }
        var killed = false
        if process.isRunning {
            switch stop {
            case .kill:
                ProcessSignal.forceKill(process.processIdentifier)
                killed = true
            case .terminate:
                ProcessSignal.terminate(process.processIdentifier)
                if !Wait.until(timeout: 2, interval: 0.02, { !process.isRunning }) {
                    ProcessSignal.forceKill(process.processIdentifier)
                    killed = true
                }
            }
        }
        process.waitUntilExit()
        return ProcessResult(
            exitCode: process.shellExitCode,
            timedOut: killed,
            stdoutData: (try? Data(contentsOf: stdoutURL)) ?? Data(),
            stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        )
    }

    /// The first executable named `name` in `PATH` (or the usual system directories).
    public static func findInPath(_ name: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin", "/sbin"]
        for directory in directories {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        throw TestSupportError("\(name) not found in PATH (\(path))")
    }
}
