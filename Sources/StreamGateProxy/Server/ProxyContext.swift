import NIOCore

/// Everything a downstream connection needs to proxy its streams, shared by all connections of all listeners:
/// the route table (one copy per event loop, swapped whole by a reload), the per-event-loop upstream pools, the live
/// registry and the clock.
final class ProxyContext: Sendable {
    let routes: LoopReplicated<RouteTable>
    let pools: PerEventLoop<UpstreamConnectionPool>
    let registry: LiveRegistry
    let clock: StreamClock

    init(
        routes: RouteTable,
        group: any EventLoopGroup,
        clock: StreamClock = .system,
        observers: [any StreamObserver] = []
    ) {
        self.routes = LoopReplicated(routes, group: group)
        self.pools = PerEventLoop(group: group) { UpstreamConnectionPool(eventLoop: $0) }
        self.registry = LiveRegistry(group: group, observers: observers)
        self.clock = clock
    }

    /// How a stream to `route` on `loop` gets its upstream connection; call on `loop`.
    func lease(for route: Route, on loop: any EventLoop) -> UpstreamLease {
        UpstreamLease(group: route.upstream, pool: pools.value(on: loop))
    }
}
