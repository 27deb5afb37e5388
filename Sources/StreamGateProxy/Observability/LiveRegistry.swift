import NIOCore
import Synchronization

/// Every live downstream connection and stream of the process, kept per event loop (`LoopRegistry`): what the
/// admin view shows and what shutdown works through. Registering and counting happen on the connection's own
/// loop with no lock; a snapshot visits each loop once and copies values there.
public final class LiveRegistry: Sendable {
    private let loops: PerEventLoop<LoopRegistry>
    private let nextConnectionID = Atomic<UInt64>(1)

    init(group: any EventLoopGroup) {
        self.loops = PerEventLoop(group: group) { _ in LoopRegistry() }
    }

    /// Registers a connection just accepted, on its channel's loop, until it closes.
    func open(channel: any Channel, listener: String) -> LiveConnection {
        let id = nextConnectionID.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops.value(on: channel.eventLoop).open(id: id, listener: listener, channel: channel)
    }

    /// The totals of the loop `channel` runs on; call on that loop (tests).
    func loopTotals(_ channel: any Channel) -> StreamTotals {
        loops.value(on: channel.eventLoop).totals
    }

    /// Every live connection with its streams, and the totals of streams ended so far.
    public func snapshot() async -> LiveSnapshot {
        let parts = await loops.visitAll { registry -> ([ConnectionSnapshot], StreamTotals) in
            (registry.snapshot(now: .now()), registry.totals)
        }
        var snapshot = LiveSnapshot(connections: [], totals: StreamTotals())
        for (connections, totals) in parts {
            snapshot.connections.append(contentsOf: connections)
            snapshot.totals.add(totals)
        }
        snapshot.connections.sort { $0.id < $1.id }
        return snapshot
    }

    /// How many downstream connections are open.
    func connectionCount() async -> Int {
        await loops.visitAll { $0.connections.count }.reduce(0, +)
    }

    /// Fires `event` into the pipeline of every open connection (shutdown notices).
    func fireAll(_ event: some Sendable) async {
        _ = await loops.visitAll { registry in
            for connection in registry.connections.values {
                connection.channel.pipeline.fireUserInboundEventTriggered(event)
            }
        }
    }

    /// Closes every open connection.
    func closeAll() async {
        _ = await loops.visitAll { registry in
            for connection in registry.connections.values {
                connection.channel.close(promise: nil)
            }
        }
    }
}
