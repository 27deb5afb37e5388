#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Signals to one child process, always by its PID.
enum ProcessSignal {
    static func terminate(_ pid: Int32) {
        _ = kill(pid, SIGTERM)
    }

    static func forceKill(_ pid: Int32) {
        _ = kill(pid, SIGKILL)
    }
}
