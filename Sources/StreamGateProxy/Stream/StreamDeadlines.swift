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

/// One scheduled callback for every deadline of a stream or tunnel, on its event loop: armed for the earliest,
/// moved only when an earlier one appears (a later one waits for the callback, whose owner then asks again), and
/// cancelled at the end. Nothing is allocated per arm. The owner is the callback's handler.
struct DeadlineTimer {
    private var scheduled: NIOScheduledCallback?
    private var armedFor: NIODeadline?

    /// Arms for `deadline` unless already armed for it or earlier. Throws when the loop no longer takes timers
    /// (it is shutting down).
    mutating func arm(
        at deadline: NIODeadline,
        on eventLoop: any EventLoop,
        handler: some NIOScheduledCallbackHandler
    ) throws {
        if let armedFor, armedFor <= deadline { return }
        cancel(on: eventLoop)
        scheduled = try eventLoop.assumeIsolated().scheduleCallback(at: deadline, handler: handler)
        armedFor = deadline
    }

    /// The callback ran: nothing is armed any more.
    mutating func fired() {
        scheduled = nil
        armedFor = nil
    }

    mutating func cancel(on eventLoop: any EventLoop) {
        if let scheduled {
            eventLoop.assumeIsolated().cancelScheduledCallback(scheduled)
        }
        scheduled = nil
        armedFor = nil
    }
}
