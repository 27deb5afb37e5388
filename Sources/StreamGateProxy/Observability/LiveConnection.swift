import NIOCore

/// One downstream connection as the registry knows it: its identity (id, listener, client), what was negotiated
/// (protocol, TLS), and its live streams. Owned by its event loop's `LoopRegistry` from accept to close; the
/// connection's handlers add and remove streams as they start and end.
final class LiveConnection {
    let id: UInt64
    let listener: String
    /// `ip:port` of the client.
    let client: String
    let startedAt: NIODeadline
    let channel: any Channel
    var protocolName: String?
    var tls: TLSSummary?
    private(set) var streams: [UInt32: any LiveStream] = [:]
    /// The id of the next HTTP/1.1 request on this connection.
    private var nextRequestNumber: UInt32 = 1
    private unowned let registry: LoopRegistry

    init(id: UInt64, listener: String, client: String, channel: any Channel, registry: LoopRegistry) {
        self.id = id
        self.listener = listener
        self.client = client
        self.channel = channel
        self.registry = registry
        self.startedAt = .now()
    }

    /// The id of a new HTTP/1.1 request: its position on the connection.
    func nextRequestID() -> UInt32 {
        defer { nextRequestNumber &+= 1 }
        return nextRequestNumber
    }

    /// `stream` is live under `id` (a proxied stream, or the tunnel that took over from it under the same id).
    func streamStarted(_ id: UInt32, _ stream: any LiveStream) {
        streams[id] = stream
    }

    /// The stream under `id` ended; counted in the totals of its loop. A stream that hands over to a tunnel does
    /// not end: the tunnel calls `streamStarted` with the same id.
    func streamEnded(_ id: UInt32, stream: any LiveStream, kind: StreamKind, outcome: StreamOutcome) {
        if let current = streams[id], current === stream {
            streams[id] = nil
        }
        registry.count(kind: kind, outcome: outcome)
    }

    /// A request StreamGate answered itself, with no stream behind it.
    func answeredLocally() {
        registry.count(kind: .http, outcome: .local)
    }

    func snapshot(now: NIODeadline) -> ConnectionSnapshot {
        ConnectionSnapshot(
            id: id,
            listener: listener,
            client: client,
            protocolName: protocolName,
            tls: tls,
            ageMilliseconds: StreamSnapshot.milliseconds(from: startedAt, to: now),
            streams: streams.values.map { $0.snapshot(now: now) }.sorted { $0.id < $1.id }
        )
    }
}
