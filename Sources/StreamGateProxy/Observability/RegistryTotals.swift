/// What ended so far on one event loop (or, added up, in the process): streams by kind, route and outcome, the
/// events, heartbeats and bytes of streams and connections that are gone, upstream connect failures and failed
/// TLS handshakes. Cumulative: with the counters of what is still live, each figure only grows, so metrics can be
/// derived from a snapshot at scrape time and nothing is counted on the per-event path.
public struct RegistryTotals: Sendable, Equatable {
    public struct StreamKey: Hashable, Sendable {
        public var kind: StreamKind
        public var route: String
        public var outcome: StreamOutcome
    }

    public struct RouteKey: Hashable, Sendable {
        public var kind: StreamKind
        public var route: String
    }

    public struct LimitKey: Hashable, Sendable {
        public var listener: String
        public var limit: LimitKind
    }

    public struct ServerKey: Hashable, Sendable {
        public var upstream: String
        public var server: String
    }

    public struct ResumeKey: Hashable, Sendable {
        public var route: String
        public var result: ResumeResult
    }

    public private(set) var streams: [StreamKey: Int] = [:]
    /// SSE events and heartbeats (SSE comments, WebSocket pings) of ended streams, by kind and route.
    public private(set) var events: [RouteKey: Int] = [:]
    public private(set) var heartbeats: [RouteKey: Int] = [:]
    /// Client socket bytes of closed connections.
    public private(set) var bytesIn = 0
    public private(set) var bytesOut = 0
    public private(set) var connectErrors: [ServerKey: Int] = [:]
    public private(set) var tlsHandshakeErrors: [String: Int] = [:]
    /// How often clients of each listener ran into each limit.
    public private(set) var limitHits: [LimitKey: Int] = [:]
    /// Event streams that lost their upstream (`sse.resume`), by route and what came of it.
    public private(set) var resumes: [ResumeKey: Int] = [:]

    public init() {}

    /// Streams of `kind` that ended with `outcome`, over all routes.
    public subscript(kind: StreamKind, outcome: StreamOutcome) -> Int {
        streams.reduce(0) { $0 + ($1.key.kind == kind && $1.key.outcome == outcome ? $1.value : 0) }
    }

    mutating func streamEnded(_ stream: StreamSnapshot, outcome: StreamOutcome) {
        let route = stream.routeName ?? stream.route
        streams[StreamKey(kind: stream.kind, route: route, outcome: outcome), default: 0] += 1
        let key = RouteKey(kind: stream.kind, route: route)
        if stream.events > 0 {
            events[key, default: 0] += stream.events
        }
        if stream.heartbeats > 0 {
            heartbeats[key, default: 0] += stream.heartbeats
        }
    }

    /// A request StreamGate answered itself (no route, malformed, refused): no route to name when none matched.
    mutating func answeredLocally() {
        streams[StreamKey(kind: .http, route: "", outcome: .local), default: 0] += 1
    }

    mutating func connectionClosed(bytesIn: Int, bytesOut: Int) {
        self.bytesIn += bytesIn
        self.bytesOut += bytesOut
    }

    mutating func connectFailed(upstream: String, server: String) {
        connectErrors[ServerKey(upstream: upstream, server: server), default: 0] += 1
    }

    mutating func tlsHandshakeFailed(listener: String) {
        tlsHandshakeErrors[listener, default: 0] += 1
    }

    mutating func resumeEnded(route: String, result: ResumeResult) {
        resumes[ResumeKey(route: route, result: result), default: 0] += 1
    }

    mutating func limitHit(_ limit: LimitKind, listener: String) {
        limitHits[LimitKey(listener: listener, limit: limit), default: 0] += 1
    }

    mutating func add(_ other: RegistryTotals) {
        streams.merge(other.streams, uniquingKeysWith: +)
        events.merge(other.events, uniquingKeysWith: +)
        heartbeats.merge(other.heartbeats, uniquingKeysWith: +)
        bytesIn += other.bytesIn
        bytesOut += other.bytesOut
        connectErrors.merge(other.connectErrors, uniquingKeysWith: +)
        tlsHandshakeErrors.merge(other.tlsHandshakeErrors, uniquingKeysWith: +)
        limitHits.merge(other.limitHits, uniquingKeysWith: +)
        resumes.merge(other.resumes, uniquingKeysWith: +)
    }
}
