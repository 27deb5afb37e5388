import Foundation

/// Tells when to stop watching a browser that opens event streams over HTTP/1.1, where it allows itself six
/// connections per origin: as soon as a seventh stream opens (the limit did not hold), or once six have been open
/// for `grace` seconds with no seventh (each stream's first bytes come at once, so one would show up well within).
public final class SixConnectionWatch {
    private let grace: TimeInterval
    private var sixOpenSince: Date?

    public init(grace: TimeInterval = 3) {
        self.grace = grace
    }

    /// Whether the watch is over, given how many streams are open now.
    public func isSettled(opened: Int) -> Bool {
        if opened > 6 { return true }
        guard opened == 6 else { return false }
        let since = sixOpenSince ?? Date()
        sixOpenSince = since
        return Date().timeIntervalSince(since) > grace
    }
}
