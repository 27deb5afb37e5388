import Logging
import NIOCore
import NIOHTTP1

/// Everything a downstream connection needs to proxy its streams, shared by all connections of all listeners:
/// the route table (one copy per event loop, swapped whole by a reload), the per-event-loop upstream pools, the live
/// registry and the clock.
final class ProxyContext: Sendable {
    let routes: LoopReplicated<RouteTable>
    let pools: PerEventLoop<UpstreamConnectionPool>
    let registry: LiveRegistry
    /// Each loop's shared event-stream feeds (`sse.shared`).
    let sharedFeeds: PerEventLoop<SharedFeedHub>
    /// Each loop's stream and tunnel deadlines.
    let timers: PerEventLoop<LoopTimers>
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
        let timers = PerEventLoop(group: group) { LoopTimers(eventLoop: $0, clock: clock) }
        self.timers = timers
        self.sharedFeeds = PerEventLoop(group: group) { SharedFeedHub(timers: timers.value(on: $0)) }
        self.clock = clock
    }

    /// How a stream to `route` on `loop` gets its upstream connection; call on `loop`.
    func lease(for route: Route, on loop: any EventLoop) -> UpstreamLease {
        UpstreamLease(group: route.upstream, pool: pools.value(on: loop))
    }
}

extension ProxyContext {
    /// The stream that serves an admitted request on `eventLoop`: a subscriber of a shared feed when the route
    /// shares its event streams and the request may be shared (`SharedFeedKey`), else a `ProxyStream` with an
    /// upstream of its own.
    func makeStream(
        route: Route,
        upstreamHead: HTTPRequestHead,
        isWebSocket: Bool,
        eventLoop: any EventLoop,
        downstream: any DownstreamResponder,
        connection: LiveConnection,
        streamID: UInt32,
        host: String?,
        slowConsumerTimeout: TimeAmount,
        logger: Logger
    ) -> any ClientStream {
        let lease = lease(for: route, on: eventLoop)
        if !isWebSocket, let shared = route.config.sse.shared,
            let key = SharedFeedKey(route: route, head: upstreamHead, host: host, config: shared)
        {
            let origin = SharedSubscriber.Origin(
                route: route,
                upstreamHead: upstreamHead,
                key: key,
                lease: lease,
                clock: clock,
                slowConsumerTimeout: slowConsumerTimeout
            )
            return SharedSubscriber(
                origin: origin,
                hub: sharedFeeds.value(on: eventLoop),
                eventLoop: eventLoop,
                downstream: downstream,
                connection: connection,
                streamID: streamID,
                host: host,
                logger: logger
            )
        }
        return ProxyStream(
            route: route,
            upstreamHead: upstreamHead,
            isWebSocket: isWebSocket,
            lease: lease,
            timers: timers.value(on: eventLoop),
            downstream: downstream,
            connection: connection,
            streamID: streamID,
            host: host,
            slowConsumerTimeout: slowConsumerTimeout,
            logger: logger
        )
    }
}
