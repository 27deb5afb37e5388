import Foundation

/// How a child process ended and what it wrote.
public struct ProcessResult: Sendable {
    /// The exit status, or 128 + the signal number when a signal ended it.
    public let exitCode: Int32
    /// True when the process was killed because it outlived its time limit.
    public let timedOut: Bool
    public let stdoutData: Data
    public let stderr: String

    public var stdout: String { String(decoding: stdoutData, as: UTF8.self) }

    public init(exitCode: Int32, timedOut: Bool, stdoutData: Data, stderr: String) {
        self.exitCode = exitCode
        self.timedOut = timedOut
        self.stdoutData = stdoutData
        self.stderr = stderr
    }
}

extension Process {
    /// `terminationStatus`, as a shell would report it: 128 + signal when a signal ended the process.
    var shellExitCode: Int32 {
        terminationReason == .uncaughtSignal ? 128 + terminationStatus : terminationStatus
    }
}
