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
}
