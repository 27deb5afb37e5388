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
    /// Client socket bytes, counted by `ConnectionTrafficCounter`.
    var bytesIn = 0
    var bytesOut = 0
    private(set) var streams: [UInt32: any LiveStream] = [:]
    /// The id of the next HTTP/1.1 request on this connection.
    private var nextRequestNumber: UInt32 = 1
    /// Held strongly: a stream may outlive the process's hold on the registry by a callback at shutdown (a connect
    /// that fails as the loops stop, for a stream whose client had gone), and must still be able to count it. The
    /// registry lets go of the connection when its channel closes, so the two do not keep each other.
    private let registry: LoopRegistry

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

    /// The drain slot of a stream that became an event stream or a WebSocket after a drain started; nil while
    /// no drain runs.
    func lateDrainSlot(now: NIODeadline) -> DrainSlot? {
        registry.drainPlan?.lateSlot(now: now)
    }

    /// The stream under `id` ended: counted in the totals of its loop and told to the observers, with its last
    /// snapshot. A stream that hands over to a tunnel does not end: the tunnel calls `streamStarted` with the same
    /// id.
    func streamEnded(_ id: UInt32, stream: any LiveStream, outcome: StreamOutcome) {
        if let current = streams[id], current === stream {
            streams[id] = nil
        }
        switch outcome {
        case .slowConsumer: limitHit(.slowConsumer)
        case .requestTooLarge: limitHit(.maxRequestBody)
        default: break
        }
        registry.streamEnded(finished(stream.snapshot(now: .now()), outcome: outcome))
    }

    /// A request StreamGate answered itself, with no stream behind it.
    func answeredLocally(id: UInt32, method: String, host: String?, path: String, status: Int) {
        let snapshot = StreamSnapshot(
            id: id, kind: .http, phase: .finished, method: method, host: host, path: path, route: "",
            routeName: nil, upstream: "", upstreamAddress: nil, status: status, ageMilliseconds: 0,
            idleMilliseconds: 0, bytesIn: 0, bytesOut: 0, events: 0, heartbeats: 0, lastEventID: nil, queuedBytes: 0
        )
        registry.streamEnded(finished(snapshot, outcome: .local))
        switch status {
        case 413: limitHit(.maxRequestBody)
        case 431: limitHit(.maxHeaderBytes)
        default: break
        }
    }

    /// A client of this connection ran into `limit`.
    func limitHit(_ limit: LimitKind) {
        registry.totals.limitHit(limit, listener: listener)
    }

    /// The connection is about to close (drain over, or closed by the admin): tells every live stream.
    func goingAway(outcome: StreamOutcome) {
        for stream in Array(streams.values) {
            stream.serverGoingAway(outcome: outcome)
        }
    }

    /// The client's TLS handshake failed; the connection closes.
    func tlsHandshakeFailed() {
        registry.totals.tlsHandshakeFailed(listener: listener)
    }

    /// A connect to `server` of `upstream` failed.
    func upstreamConnectFailed(upstream: String, server: String) {
        registry.totals.connectFailed(upstream: upstream, server: server)
    }

    /// An event stream of `route` lost its upstream, and this came of it.
    func resumeEnded(route: String, result: ResumeResult) {
        registry.totals.resumeEnded(route: route, result: result)
    }

    func responseHeadArrived(route: String, latency: TimeAmount) {
        for observer in registry.observers {
            observer.responseHeadArrived(route: route, latency: latency)
        }
    }

    private func finished(_ snapshot: StreamSnapshot, outcome: StreamOutcome) -> FinishedStream {
        FinishedStream(
            connectionID: id,
            listener: listener,
            client: client,
            protocolName: protocolName,
            stream: snapshot,
            outcome: outcome
        )
    }

    func snapshot(now: NIODeadline) -> ConnectionSnapshot {
        ConnectionSnapshot(
            id: id,
            listener: listener,
            client: client,
            protocolName: protocolName,
            tls: tls,
            ageMilliseconds: StreamSnapshot.milliseconds(from: startedAt, to: now),
            bytesIn: bytesIn,
            bytesOut: bytesOut,
            streams: streams.values.map { $0.snapshot(now: now) }.sorted { $0.id < $1.id }
        )
    }
}
