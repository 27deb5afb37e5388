import NIOCore

/// The live connections of one event loop, and the totals of what ended on it. Used only on its loop, so it
/// needs no lock: connections and streams register and leave with plain dictionary updates, and a snapshot
/// copies values.
final class LoopRegistry {
    private(set) var connections: [UInt64: LiveConnection] = [:]
    var totals = RegistryTotals()
    let observers: [any StreamObserver]

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

    func snapshot(now: NIODeadline) -> [ConnectionSnapshot] {
        connections.values.map { $0.snapshot(now: now) }
    }
}
