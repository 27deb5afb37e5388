import NIOCore

/// What the benchmark origin serves, chosen by request path:
/// - `/sse?rate=R`: an event stream with R events per second, each `data: <monotonic ns at send>`;
/// - `/flood`: 200-byte events as fast as the connection takes them;
/// - `/idle`: the response head and one comment, then nothing;
/// - `/ticker?rate=R`: the origin's one feed of R events per second, the same events written to every `/ticker`
///   stream of that rate at once (`TickerFeeds`), each `id: <n>` and `data: <monotonic ns at publication>`;
/// - `/ws`: a WebSocket echo (HTTP/1.1 Upgrade, see `OriginWebSocketUpgrader`); without an upgrade, `426`.
enum OriginEndpoint: Equatable {
    case sse(eventsPerSecond: Double)
    case flood
    case idle
    case ticker(eventsPerSecond: Double)
    case webSocket
    case notFound

    init(uri: String) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? "/"
        let query = parts.count > 1 ? String(parts[1]) : ""
        switch path {
        case "/sse":
            let rate = Self.queryValue("rate", in: query).flatMap(Double.init) ?? 1
            self = .sse(eventsPerSecond: min(max(rate, 0.001), 100_000))
        case "/flood":
            self = .flood
        case "/idle":
            self = .idle
        case "/ticker":
            let rate = Self.queryValue("rate", in: query).flatMap(Double.init) ?? 10
            self = .ticker(eventsPerSecond: min(max(rate, 0.001), 1_000))
        case "/ws":
            self = .webSocket
        default:
            self = .notFound
        }
    }

    private static func queryValue(_ name: String, in query: String) -> String? {
        for pair in query.split(separator: "&") {
            let keyValue = pair.split(separator: "=", maxSplits: 1)
            if keyValue.first.map(String.init) == name, keyValue.count == 2 {
                return String(keyValue[1])
            }
        }
        return nil
    }
}

/// The bytes the origin writes.
enum OriginPayload {
    static let floodEventSize = 200
    /// Events per `/flood` write (one HTTP/1.1 chunk).
    static let floodEventsPerWrite = 16

    /// One timestamped event.
    static func timestampedEvent(allocator: ByteBufferAllocator) -> ByteBuffer {
        allocator.buffer(string: "data: \(MonotonicClock.nanoseconds())\n\n")
    }

    /// `floodEventsPerWrite` events of exactly `floodEventSize` bytes each, built once and written again and again.
    static func floodBatch(allocator: ByteBufferAllocator) -> ByteBuffer {
        let prefix = "data: 0 "
        let padding = String(repeating: "x", count: floodEventSize - prefix.utf8.count - 2)
        let event = prefix + padding + "\n\n"
        return allocator.buffer(string: String(repeating: event, count: floodEventsPerWrite))
    }

    static let idleComment = ": idle\n\n"
}
