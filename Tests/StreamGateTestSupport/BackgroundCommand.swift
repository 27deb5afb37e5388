import Foundation

/// A long-running command (a third-party server such as HAProxy) started for a test: stdout and stderr go to one
/// file, readable at any time; stopped by its PID with SIGTERM, then SIGKILL (at the latest on deinit).
public final class BackgroundCommand: @unchecked Sendable {
    /// What the command is (e.g. `haproxy`), for messages.
    public let name: String
    private let directory: TemporaryDirectory
    private let outputURL: URL
    private let outputHandle: FileHandle
    private let process: Process
    private let stopped = StopFlag()

    /// Starts `command` (an absolute executable path first, e.g. after a `NetworkLab.Host.launcher`).
    public init(name: String, _ command: [String]) throws {
        guard let executable = command.first else { throw TestSupportError("empty command for \(name)") }
        self.name = name
        directory = try TemporaryDirectory(prefix: "streamgate-command")
        outputURL = try directory.write("", to: "output.log")
        outputHandle = try FileHandle(forWritingTo: outputURL)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst())
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outputHandle
        process.standardError = outputHandle
        try process.run()
    }

    /// Everything the command wrote so far.
    public var output: String {
        (try? String(contentsOf: outputURL, encoding: .utf8)) ?? ""
    }

    public var isRunning: Bool { process.isRunning }

    /// SIGTERM by PID, up to `timeout` seconds to exit, then SIGKILL. Safe to call twice.
    public func stop(timeout: TimeInterval = 3) {
        guard stopped.markStopped() else { return }
        ProcessSignal.stop(process, timeout: timeout)
        try? outputHandle.close()
    }

    deinit {
        stop(timeout: 1)
    }
}
