import NIOCore

/// The body of the origin's event streams: event N is `id: N` and `data: {"seq":N,"sentAt":MS}` (see `OriginEvent`),
/// the first sent at once, the next every 100 ms. Runs on its connection's event loop only.
final class OriginEventStream {
    enum Pace {
        /// An event every 100 ms; after `limit` events (when given) the response ends.
        case every100ms(limit: Int?)
        /// One event, then silence with the response left open.
        case firstOnly
    }

    static let interval = TimeAmount.milliseconds(100)

    private let pace: Pace
    private let eventLoop: any EventLoop
    private let send: (String) -> Void
    private let finish: () -> Void
    private var sent = 0
    private var next: Scheduled<Void>?
    private var cancelled = false

    init(pace: Pace, eventLoop: any EventLoop, send: @escaping (String) -> Void, finish: @escaping () -> Void) {
        self.pace = pace
        self.eventLoop = eventLoop
        self.send = send
        self.finish = finish
    }

    func start() {
        sendNext()
    }

    /// Stops the timer; nothing more is sent.
    func cancel() {
        cancelled = true
        next?.cancel()
        next = nil
    }

    private func sendNext() {
        guard !cancelled else { return }
        switch pace {
        case .every100ms(let limit?) where sent >= limit:
            cancelled = true
            finish()
            return
        default:
            break
        }
        sent += 1
        send(OriginEvent(seq: sent, sentAt: Wait.nowMilliseconds()).wireText)
        if case .firstOnly = pace { return }
        next = eventLoop.assumeIsolated().scheduleTask(in: Self.interval) { [weak self] in
            self?.sendNext()
        }
    }
}
