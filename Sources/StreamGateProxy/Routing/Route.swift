import NIOCore
import StreamGateConfig

/// One configured route, resolved: its match, its timeouts and the upstream group serving it. Immutable.
public final class Route: Sendable {
    /// Position in the config file's `routes` list, for logs (`routes[2]`).
    public let index: Int
    public let config: RouteConfig
    public let upstream: UpstreamGroup
    /// The heartbeat comment of this route's event streams, made once and shared by all of them.
    let heartbeatBytes: ByteBuffer
    /// `timeouts` as event-loop time spans, converted once for every stream of the route.
    let responseHeaderTimeout: TimeAmount
    let idleTimeout: TimeAmount
    let maxLifetime: TimeAmount

    public init(index: Int, config: RouteConfig, upstream: UpstreamGroup) {
        self.index = index
        self.config = config
        self.upstream = upstream
        self.heartbeatBytes = ByteBufferAllocator().buffer(string: ":" + config.sse.heartbeatComment + "\n\n")
        self.displayName = "\(config.match.host)\(config.match.pathPrefix)"
        self.label = config.name ?? displayName
        self.responseHeaderTimeout = TimeAmount(config.timeouts.responseHeader)
        self.idleTimeout = TimeAmount(config.timeouts.idle)
        self.maxLifetime = TimeAmount(config.timeouts.maxLifetime)
    }

    /// The route's host pattern and path prefix, as the admin view shows it: `*/events/`.
    public let displayName: String
    /// How metrics and the access log label the route: its `name`, else `displayName`.
    public let label: String

    /// How the route is named in logs: `routes[1] (*/events/)`, or `routes[1] events (*/events/)` with a name.
    public var logName: String {
        "routes[\(index)] \(config.name.map { "\($0) " } ?? "")(\(displayName))"
    }
}
