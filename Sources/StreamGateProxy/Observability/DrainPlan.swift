import NIOCore
import StreamGateConfig

/// How a shutdown ends the long-lived streams of one event loop: the event streams and WebSockets open when it
/// starts get end times one after another, evenly over `spread` (so their clients reconnect in a trickle, not a
/// herd); each event stream is first told a reconnection delay of its own (`retry:`, jittered around
/// `sse_retry`). A stream that becomes one of them during the drain ends when the spread does.
struct DrainPlan: Sendable {
    let startedAt: NIODeadline
    let spread: TimeAmount
    let sseRetryMilliseconds: Int64?
    let webSocketCloseCode: UInt16

    init(config: DrainConfig, spread: Duration, startedAt: NIODeadline) {
        self.startedAt = startedAt
        self.spread = TimeAmount(spread)
        self.sseRetryMilliseconds = config.sseRetry.map { Int64($0.components.seconds) * 1000 + $0.components.attoseconds / 1_000_000_000_000_000 }
        self.webSocketCloseCode = UInt16(config.webSocketCloseCode)
    }

    /// The slot of the `index`th (from 0) of `count` streams: ends at `(index + 1) / count` of the spread.
    func slot(index: Int, of count: Int) -> DrainSlot {
        let offset = TimeAmount.nanoseconds(spread.nanoseconds / Int64(max(count, 1)) * Int64(index + 1))
        return DrainSlot(endAt: startedAt + offset, retryMilliseconds: jitteredRetry(), webSocketCloseCode: webSocketCloseCode)
    }

    /// The slot of a stream that became an event stream or a WebSocket after the drain started.
    func lateSlot(now: NIODeadline) -> DrainSlot {
        DrainSlot(endAt: max(now, startedAt + spread), retryMilliseconds: jitteredRetry(), webSocketCloseCode: webSocketCloseCode)
    }

    /// Between half and one and a half times `sse_retry`.
    private func jitteredRetry() -> Int64? {
        guard let base = sseRetryMilliseconds else { return nil }
        return max(1, Int64.random(in: (base / 2)...(base + base / 2)))
    }
}

/// When one stream ends in a drain, and what it is told first.
struct DrainSlot: Sendable {
    let endAt: NIODeadline
    /// The `retry:` an event stream gets at once; nil sends none.
    let retryMilliseconds: Int64?
    /// The Close code a WebSocket client gets.
    let webSocketCloseCode: UInt16

    /// `retry: N` and a blank line: a field that sets the client's reconnection delay and dispatches no event.
    func retryField(allocator: ByteBufferAllocator) -> ByteBuffer? {
        retryMilliseconds.map { allocator.buffer(string: "retry: \($0)\n\n") }
    }
}
