import Synchronization

/// A listener's open connections against its `max_connections`: taken at accept, given back at close, shared by
/// every event loop. Remembers how many it refused since it last said so, so the log says it once in a while,
/// not once per refused connection.
final class ConnectionLimiter: Sendable {
    private let open = Atomic<Int>(0)
    private let refusedSinceNotice = Atomic<Int>(0)
    private let lastNotice = Atomic<Int64>(.min)

    /// How often the log may say connections are being refused.
    static let noticeInterval: Int64 = 10_000_000_000

    /// Takes a place for a new connection; false (nothing taken) when `limit` (> 0) are open already.
    func take(limit: Int) -> Bool {
        let count = open.wrappingAdd(1, ordering: .relaxed).newValue
        guard limit > 0, count > limit else { return true }
        open.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    func giveBack() {
        open.wrappingSubtract(1, ordering: .relaxed)
    }

    var openCount: Int { open.load(ordering: .relaxed) }

    /// Counts a refusal; returns how many were refused since the last notice when one is due now (at most every
    /// `noticeInterval`), else nil.
    func refused(now: Int64) -> Int? {
        let count = refusedSinceNotice.wrappingAdd(1, ordering: .relaxed).newValue
        let last = lastNotice.load(ordering: .relaxed)
        guard last == .min || now - last >= Self.noticeInterval else { return nil }
        guard lastNotice.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged else { return nil }
        refusedSinceNotice.wrappingSubtract(count, ordering: .relaxed)
        return count
    }
}
