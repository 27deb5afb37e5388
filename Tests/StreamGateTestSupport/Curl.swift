import Foundation

/// Runs the real `curl` binary, silent but showing errors, never through an environment proxy.
public enum Curl {
    /// Arguments put before the caller's: `-sS` and no proxy from the environment.
    static let baseArguments = ["--silent", "--show-error", "--noproxy", "*"]

    /// Runs `curl` with `arguments`; killed by PID after `timeout` seconds.
    public static func run(_ arguments: [String], timeout: TimeInterval = 15) throws -> ProcessResult {
        try ProcessRunner.run(try executable(), baseArguments + arguments, timeout: timeout)
    }

    static func executable() throws -> URL {
        try ProcessRunner.findInPath("curl")
    }
}
