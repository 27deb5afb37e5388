import NIOCore

/// Everything a downstream connection needs to proxy its streams, shared by all connections of all listeners:
/// the route table and the per-event-loop upstream pools. Immutable after start.
final class ProxyContext: Sendable {
    let routes: RouteTable
    let pools: EventLoopBoundPools

    init(routes: RouteTable, pools: EventLoopBoundPools) {
        self.routes = routes
        self.pools = pools
    }
}

/// One `UpstreamConnectionPool` per event loop of the group, made on its loop at start and reached only from it.
final class EventLoopBoundPools: Sendable {
    private let pools: [ObjectIdentifier: NIOLoopBound<UpstreamConnectionPool>]

    /// Builds a pool on each loop of `group`. Blocks until done: call at start, before serving.
    init(group: any EventLoopGroup) throws {
        var pools: [ObjectIdentifier: NIOLoopBound<UpstreamConnectionPool>] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = try loop.submit {
                NIOLoopBound(UpstreamConnectionPool(eventLoop: loop), eventLoop: loop)
            }.wait()
        }
        self.pools = pools
    }

    /// The pool of `loop`; call on `loop` only.
    func pool(for loop: any EventLoop) -> UpstreamConnectionPool {
        guard let bound = pools[ObjectIdentifier(loop)] else {
            preconditionFailure("event loop outside the proxy's group")
        }
        return bound.value
    }

    /// Closes every idle upstream connection on every loop.
    func closeAll() -> [EventLoopFuture<Void>] {
        pools.values.map { bound in
            bound.eventLoop.submit { bound.value.closeAll() }
        }
    }
}
