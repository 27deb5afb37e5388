import NIOCore

/// Where a stream or tunnel reads the time: the system clock in production, a test's own clock in unit and
/// `EmbeddedChannel` tests, so deadline logic runs without waiting.
struct StreamClock: Sendable {
    let now: @Sendable () -> NIODeadline

    static let system = StreamClock { .now() }
}

/// The earliest of several candidate deadlines and what it is for: the owner offers each one that applies in its
/// current state; the earliest wins, the first offered on a tie.
struct EarliestDeadline<Kind> {
    private(set) var earliest: (at: NIODeadline, kind: Kind)?

    mutating func offer(_ deadline: NIODeadline?, _ kind: Kind) {
        guard let deadline else { return }
        if let current = earliest, current.at <= deadline { return }
        earliest = (deadline, kind)
    }
}
