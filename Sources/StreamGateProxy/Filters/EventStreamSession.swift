import NIOCore
import NIOHTTP1
import StreamGateConfig

/// StreamGate's policy for one event stream, from its response head to its end, and the one place heartbeats live:
/// the head held until the upstream's first byte (`first_byte: upstream`) or sent at once with its preamble, the
/// heartbeat due an interval after the last bytes the client got (on a grid shared by all streams, so heartbeats
/// of one connection leave together), the heartbeat that waits for the next event boundary when it falls due inside
/// an event, and an end asked for at the next boundary (max_lifetime, shutdown). A value owned by its stream;
/// times come in as arguments, so it runs the same under a test's clock.
struct EventStreamSession {
    private var filter: EventStreamFilter
    private let heartbeatInterval: TimeAmount
    /// When the client last got bytes of this stream (StreamGate's own included).
    private var lastClientWrite: NIODeadline
    private(set) var heartbeatCount = 0
    /// The rewritten head, held until the upstream's first byte.
    private var heldHead: HTTPResponseHead?
    /// A heartbeat fell due inside an event: none is due again before the next upstream bytes.
    private(set) var heartbeatWaitsForBoundary = false
    /// The stream is to end at its next event boundary.
    private(set) var endsAtNextBoundary = false

    init(config: SSEConfig, heartbeat: ByteBuffer, now: NIODeadline) {
        self.filter = EventStreamFilter(config: config, heartbeat: heartbeat)
        self.heartbeatInterval = TimeAmount(config.heartbeatInterval)
        self.lastClientWrite = now
    }

    var eventCount: Int { filter.eventCount }
    var lastEventID: String? { filter.lastEventID }
    var isAtEventBoundary: Bool { filter.isAtEventBoundary }
    /// The last event ID the client holds, which a resumed request sends as `Last-Event-ID`.
    var relayedEventID: String? { filter.relayedEventID }
    /// The upstream may be replaced without the client noticing (`sse.resume`, and not inside an event too long
    /// to hold back).
    var canFailOver: Bool { filter.canFailOver }

    /// The upstream is gone and another will continue the stream: its unfinished event is dropped, the client
    /// stands at a boundary (heartbeats may go out), and the next upstream's replay is filtered. Returns the id to
    /// resume from, nil when the client has none.
    mutating func beginFailover() -> String? {
        heartbeatWaitsForBoundary = false
        return filter.beginFailover()
    }

    /// The upstream's response head arrived: the head to send now with the bytes that follow it at once, or nil
    /// when the head waits for the upstream's first byte.
    mutating func start(
        head: HTTPResponseHead,
        now: NIODeadline,
        allocator: ByteBufferAllocator
    ) -> (head: HTTPResponseHead, preamble: ByteBuffer?)? {
        let eventHead = EventStreamFilter.rewrite(head)
        if filter.firstByte == .upstream && filter.retry == nil {
            heldHead = eventHead
            return nil
        }
        lastClientWrite = now
        return (eventHead, filter.preamble(allocator: allocator))
    }

    /// The held head, once: it goes out ahead of whatever the stream sends first.
    mutating func takeHeldHead() -> HTTPResponseHead? {
        defer { heldHead = nil }
        return heldHead
    }

    /// One upstream chunk: the bytes to forward, and whether the stream ends right after them (an end was asked
    /// for at the next boundary, and this chunk reached one: only the bytes up to it are forwarded).
    mutating func forward(
        _ chunk: ByteBuffer,
        now: NIODeadline,
        allocator: ByteBufferAllocator
    ) -> (bytes: ByteBuffer, endsHere: Bool) {
        lastClientWrite = now
        if endsAtNextBoundary {
            let (bytes, reachedBoundary) = filter.forwardToBoundary(chunk, allocator: allocator)
            return (bytes, reachedBoundary)
        }
        heartbeatWaitsForBoundary = false
        return (filter.forward(chunk, allocator: allocator), false)
    }

    /// When the next heartbeat is due; nil with heartbeats off, while one waits for a boundary, or while the
    /// stream is about to end.
    var nextHeartbeat: NIODeadline? {
        guard heartbeatInterval > .zero, !heartbeatWaitsForBoundary else { return nil }
        return Self.heartbeatSlot(after: lastClientWrite + heartbeatInterval, interval: heartbeatInterval)
    }

    /// The heartbeat that fell due: the comment to send, or nil inside an event (it then waits for the next
    /// upstream bytes, and the next one falls due an interval after those).
    mutating func heartbeat(now: NIODeadline) -> ByteBuffer? {
        guard let bytes = filter.heartbeat() else {
            heartbeatWaitsForBoundary = true
            return nil
        }
        heartbeatCount += 1
        lastClientWrite = now
        return bytes
    }

    /// Asks the stream to end at an event boundary: true when it stands at one now (end it at once), false when
    /// the end waits for the upstream bytes that close the current event.
    mutating func endAtBoundary() -> Bool {
        if filter.isAtEventBoundary {
            return true
        }
        endsAtNextBoundary = true
        return false
    }

    /// The heartbeat time for a stream due at `due`: the nearest point of a grid shared by all streams (an eighth
    /// of the interval, at most 250 ms apart; no grid for intervals under 8 ms), so the heartbeats of streams due
    /// at about the same time fire in the same event-loop tick and leave each client connection in one write (one
    /// TLS record, one syscall) instead of one each. A heartbeat may so come up to half a step early, never more
    /// than half a step late, and a stream that stays idle gets them exactly one interval apart.
    static func heartbeatSlot(after due: NIODeadline, interval: TimeAmount) -> NIODeadline {
        // Below 8 ms a grid step would be under a millisecond: no point, and rounding could reach back before
        // the last write.
        guard interval.nanoseconds >= 8_000_000 else { return due }
        let step = UInt64(min(interval.nanoseconds / 8, 250_000_000))
        let nearest = (due.uptimeNanoseconds + step / 2) / step * step
        return .uptimeNanoseconds(nearest)
    }
}
