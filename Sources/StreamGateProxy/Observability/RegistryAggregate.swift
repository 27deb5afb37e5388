/// What `/metrics` and the dashboard's summary need, counted on each event loop without copying any stream:
/// live connections by listener and protocol, live streams by kind and route, the live streams' events,
/// heartbeats and bytes, and the totals of what ended. Cheap enough to take every second with tens of thousands
/// of streams open.
public struct RegistryAggregate: Sendable {
    public struct ConnectionKey: Hashable, Sendable {
        public var listener: String
        public var protocolName: String
    }

    public var connections: [ConnectionKey: Int] = [:]
    public var streams: [RegistryTotals.RouteKey: Int] = [:]
    /// SSE events relayed by live streams, by route.
    public var liveEvents: [String: Int] = [:]
    public var liveHeartbeats: [RegistryTotals.RouteKey: Int] = [:]
    /// Subscribers of shared feeds, and the shared feeds they read (one upstream stream each), by route.
    public var sharedSubscribers: [String: Int] = [:]
    public var sharedUpstreams: [String: Int] = [:]
    /// Client socket bytes of live connections.
    public var liveBytesIn = 0
    public var liveBytesOut = 0
    public var totals = RegistryTotals()

    public init() {}

    public var connectionCount: Int { connections.values.reduce(0, +) }

    mutating func add(_ other: RegistryAggregate) {
        connections.merge(other.connections, uniquingKeysWith: +)
        streams.merge(other.streams, uniquingKeysWith: +)
        liveEvents.merge(other.liveEvents, uniquingKeysWith: +)
        liveHeartbeats.merge(other.liveHeartbeats, uniquingKeysWith: +)
        sharedSubscribers.merge(other.sharedSubscribers, uniquingKeysWith: +)
        sharedUpstreams.merge(other.sharedUpstreams, uniquingKeysWith: +)
        liveBytesIn += other.liveBytesIn
        liveBytesOut += other.liveBytesOut
        totals.add(other.totals)
    }
}

/// The few figures of one live stream that aggregates need, read without building a snapshot.
struct StreamCounters {
    var kind: StreamKind
    /// The route's label (its name, else host and prefix): a stored string, shared, not built.
    var route: String
    var events: Int
    var heartbeats: Int
    /// The shared feed a subscriber reads (`sse.shared`); nil for every other stream.
    var sharedFeed: ObjectIdentifier? = nil
}
