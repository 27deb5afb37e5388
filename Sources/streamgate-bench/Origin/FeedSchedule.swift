/// The one event feed both failover origins serve: event n (1, 2, 3, ...) is published at `start + n * interval`,
/// in `MonotonicClock` nanoseconds, whichever origin serves it; so either origin can replay any part of it, and the
/// client can tell which ids it should have seen by a given time.
struct FeedSchedule: Sendable {
    let startNanoseconds: UInt64
    let intervalNanoseconds: UInt64

    init(start: UInt64, eventsPerSecond: Double) {
        self.startNanoseconds = start
        self.intervalNanoseconds = UInt64(max(1, (1_000_000_000 / max(eventsPerSecond, 0.001)).rounded()))
    }

    /// The id of the latest event published by `now`; 0 before the first.
    func lastPublished(at now: UInt64) -> UInt64 {
        now <= startNanoseconds ? 0 : (now - startNanoseconds) / intervalNanoseconds
    }

    /// When event `id` is published.
    func publishTime(of id: UInt64) -> UInt64 {
        startNanoseconds + id * intervalNanoseconds
    }
}
