import Foundation

/// Runs a child process to completion within a time limit, output captured through files (no pipe can fill up).
public enum ProcessRunner {
    /// Runs `executable` with `arguments`; after `timeout` seconds the process is killed by its PID.
    public static func run(_ executable: URL, _ arguments: [String], timeout: TimeInterval) throws -> ProcessResult {
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
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()

        let finished = Wait.until(timeout: timeout, interval: 0.01) { !process.isRunning }
        if !finished {
            ProcessSignal.forceKill(process.processIdentifier)
        }
        process.waitUntilExit()
        return ProcessResult(
            exitCode: process.shellExitCode,
            timedOut: !finished,
            stdoutData: (try? Data(contentsOf: stdoutURL)) ?? Data(),
            stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        )
    }

    /// The first executable named `name` in `PATH` (or the usual system directories).
    public static func findInPath(_ name: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/bin"]
        for directory in directories {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        throw TestSupportError("\(name) not found in PATH (\(path))")
    }
}
