import NIOCore

/// The live connections of one event loop, and the totals of what ended on it. Used only on its loop, so it
/// needs no lock: connections and streams register and leave with plain dictionary updates, and a snapshot
/// copies values.
final class LoopRegistry {
    private(set) var connections: [UInt64: LiveConnection] = [:]
    var totals = RegistryTotals()
    let observers: [any StreamObserver]
    /// Set once a drain has started on this loop.
    private(set) var drainPlan: DrainPlan?

    init(observers: [any StreamObserver]) {
        self.observers = observers
    }

    /// Registers a connection accepted on this loop until its channel closes.
    func open(id: UInt64, listener: String, channel: any Channel) -> LiveConnection {
        let client = channel.remoteAddress.map(ProxyServer.describe) ?? "unknown"
        let connection = LiveConnection(id: id, listener: listener, client: client, channel: channel, registry: self)
        connections[id] = connection
        channel.closeFuture.assumeIsolated().whenComplete { [self] _ in
            connections[id] = nil
            totals.connectionClosed(bytesIn: connection.bytesIn, bytesOut: connection.bytesOut)
        }
        return connection
    }

    /// Starts the drain of this loop: the event streams get slots spread over the window in connection and
    /// stream order, and so do the WebSockets, each kind over the whole window; returns how many streams got one.
    func drain(_ plan: DrainPlan) -> Int {
        drainPlan = plan
        var eventStreams: [any LiveStream] = []
        var webSockets: [any LiveStream] = []
        for id in connections.keys.sorted() {
            guard let connection = connections[id] else { continue }
            for streamID in connection.streams.keys.sorted() {
                guard let stream = connection.streams[streamID] else { continue }
                switch stream.counters.kind {
                case .sse: eventStreams.append(stream)
                case .websocket: webSockets.append(stream)
                case .http: break
                }
            }
        }
        for streams in [eventStreams, webSockets] {
            for (index, stream) in streams.enumerated() {
                stream.drain(plan.slot(index: index, of: streams.count))
            }
        }
        return eventStreams.count + webSockets.count
    }

    func streamEnded(_ finished: FinishedStream) {
        if finished.outcome == .local {
            totals.answeredLocally()
        } else {
            totals.streamEnded(finished.stream, outcome: finished.outcome)
        }
        for observer in observers {
            observer.streamFinished(finished)
        }
    }

    /// This loop's share of `RegistryAggregate`.
    func aggregate() -> RegistryAggregate {
        var aggregate = RegistryAggregate()
        aggregate.totals = totals
        var sharedFeeds = Set<ObjectIdentifier>()
        for connection in connections.values {
            let key = RegistryAggregate.ConnectionKey(
                listener: connection.listener,
                protocolName: connection.protocolName ?? "unknown"
            )
            aggregate.connections[key, default: 0] += 1
            aggregate.liveBytesIn += connection.bytesIn
            aggregate.liveBytesOut += connection.bytesOut
            for stream in connection.streams.values {
                let counters = stream.counters
                let routeKey = RegistryTotals.RouteKey(kind: counters.kind, route: counters.route)
                aggregate.streams[routeKey, default: 0] += 1
                if counters.kind == .sse && counters.events > 0 {
                    aggregate.liveEvents[counters.route, default: 0] += counters.events
                }
                if counters.heartbeats > 0 {
                    aggregate.liveHeartbeats[routeKey, default: 0] += counters.heartbeats
                }
                if let feed = counters.sharedFeed {
                    aggregate.sharedSubscribers[counters.route, default: 0] += 1
                    if sharedFeeds.insert(feed).inserted {
                        aggregate.sharedUpstreams[counters.route, default: 0] += 1
                    }
                }
            }
        }
        return aggregate
    }

    func snapshot(now: NIODeadline) -> [ConnectionSnapshot] {
        connections.values.map { $0.snapshot(now: now) }
    }
}
