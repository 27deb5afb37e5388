import NIOCore

/// The one clock of the benchmark: monotonic nanoseconds, read by the origin when it writes an event and by the
/// load client when it parses it. Both live in this process, so the difference is the event's latency.
enum MonotonicClock {
    static func nanoseconds() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds
    }
}
