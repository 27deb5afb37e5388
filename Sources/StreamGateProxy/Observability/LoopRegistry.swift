import NIOCore

/// The live connections of one event loop, and the totals of streams that ended on it. Used only on its loop,
/// so it needs no lock: connections and streams register and leave with plain dictionary updates, and a snapshot
/// copies values.
final class LoopRegistry {
    private(set) var connections: [UInt64: LiveConnection] = [:]
    private(set) var totals = StreamTotals()

    /// Registers a connection accepted on this loop until its channel closes.
    func open(id: UInt64, listener: String, channel: any Channel) -> LiveConnection {
        let client = channel.remoteAddress.map(ProxyServer.describe) ?? "unknown"
        let connection = LiveConnection(id: id, listener: listener, client: client, channel: channel, registry: self)
        connections[id] = connection
        channel.closeFuture.assumeIsolated().whenComplete { [self] _ in
            connections[id] = nil
        }
        return connection
    }

    func count(kind: StreamKind, outcome: StreamOutcome) {
        totals.count(kind: kind, outcome: outcome)
    }

    func snapshot(now: NIODeadline) -> [ConnectionSnapshot] {
        connections.values.map { $0.snapshot(now: now) }
    }
}
