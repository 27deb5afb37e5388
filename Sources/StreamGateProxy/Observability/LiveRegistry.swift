import NIOCore
import StreamGateConfig
import Synchronization

/// Every live downstream connection and stream of the process, kept per event loop (`LoopRegistry`): what the
/// admin view shows and what shutdown works through. Registering and counting happen on the connection's own
/// loop with no lock; a snapshot visits each loop once and copies values there.
public final class LiveRegistry: Sendable {
    private let loops: PerEventLoop<LoopRegistry>
    private let nextConnectionID = Atomic<UInt64>(1)

    init(group: any EventLoopGroup, observers: [any StreamObserver] = []) {
        self.loops = PerEventLoop(group: group) { _ in LoopRegistry(observers: observers) }
    }

    /// Registers a connection just accepted, on its channel's loop, until it closes.
    func open(channel: any Channel, listener: String) -> LiveConnection {
        let id = nextConnectionID.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops.value(on: channel.eventLoop).open(id: id, listener: listener, channel: channel)
    }

    /// A connection of `listener` on `loop` was refused before it was registered (`max_connections`); call on
    /// `loop`.
    func connectionRefused(listener: String, on loop: any EventLoop) {
        loops.value(on: loop).totals.limitHit(.maxConnections, listener: listener)
    }

    /// The totals of the loop `channel` runs on; call on that loop (tests).
    func loopTotals(_ channel: any Channel) -> RegistryTotals {
        loops.value(on: channel.eventLoop).totals
    }

    /// Every live connection with its streams, and the totals of streams ended so far.
    public func snapshot() async -> LiveSnapshot {
        let parts = await loops.visitAll { registry -> ([ConnectionSnapshot], RegistryTotals) in
            (registry.snapshot(now: .now()), registry.totals)
        }
        var snapshot = LiveSnapshot(connections: [], totals: RegistryTotals())
        for (connections, totals) in parts {
            snapshot.connections.append(contentsOf: connections)
            snapshot.totals.add(totals)
        }
        snapshot.connections.sort { $0.id < $1.id }
        return snapshot
    }

    /// Closes connection `id` gracefully: event streams end at their next boundary, WebSockets get Close 1001,
    /// HTTP/1.1 closes after the response in flight, HTTP/2 gets GOAWAY. False when no such connection is open.
    public func closeConnection(_ id: UInt64) async -> Bool {
        await loops.visitAll { registry -> Bool in
            guard let connection = registry.connections[id] else { return false }
            guard connection.protocolName != nil else {
                connection.channel.close(promise: nil)
                return true
            }
            let pipeline = connection.channel.pipeline
            pipeline.fireUserInboundEventTriggered(ProxyGoingAwayEvent(outcome: .closedByAdmin))
            pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            return true
        }.contains(true)
    }

    /// Ends one stream gracefully (see `LiveStream.endGracefully`). False when no such stream is live.
    public func closeStream(connection id: UInt64, stream streamID: UInt32) async -> Bool {
        await loops.visitAll { registry -> Bool in
            guard let stream = registry.connections[id]?.streams[streamID] else { return false }
            stream.endGracefully(outcome: .closedByAdmin)
            return true
        }.contains(true)
    }

    /// Counts by listener, kind and route and the live counters, without copying any stream (for `/metrics` and
    /// the dashboard's summary).
    public func aggregate() async -> RegistryAggregate {
        var total = RegistryAggregate()
        for part in await loops.visitAll({ $0.aggregate() }) {
            total.add(part)
        }
        return total
    }

    /// Connection `id` with its streams, if open; only that connection is copied.
    public func snapshot(connection id: UInt64) async -> ConnectionSnapshot? {
        await loops.visitAll { registry in registry.connections[id]?.snapshot(now: .now()) }.compactMap { $0 }.first
    }

    /// Starts a drain on every loop (see `DrainPlan`); returns how many event streams and WebSockets got a slot.
    func drain(_ config: DrainConfig, spread: Duration) async -> Int {
        let startedAt = NIODeadline.now()
        return await loops.visitAll { registry in
            registry.drain(DrainPlan(config: config, spread: spread, startedAt: startedAt))
        }.reduce(0, +)
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
