import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Signals to one child process, always by its PID.
public enum ProcessSignal {
    public static func terminate(_ pid: Int32) {
        _ = kill(pid, SIGTERM)
    }

    /// SIGHUP (reopen logs).
    public static func hangUp(_ pid: Int32) {
        _ = kill(pid, SIGHUP)
    }

    public static func forceKill(_ pid: Int32) {
        _ = kill(pid, SIGKILL)
    }

    /// SIGTERM to `process` by its PID, up to `timeout` seconds to exit, then SIGKILL; returns once it has exited.
    public static func stop(_ process: Process, timeout: TimeInterval) {
        if process.isRunning {
            terminate(process.processIdentifier)
            if !Wait.until(timeout: timeout, interval: 0.01, { !process.isRunning }) {
                forceKill(process.processIdentifier)
            }
        }
        process.waitUntilExit()
    }
}
