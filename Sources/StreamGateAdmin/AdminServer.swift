import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import StreamGateConfig
import StreamGateProxy

/// The admin endpoint as a service: an HTTP/1.1 listener (loopback unless configured otherwise) on the proxy's
/// event loops, serving the live registry as JSON, Prometheus metrics, health, the effective config and a live
/// dashboard. Runs until graceful shutdown reaches it, which the service group does after the proxy has drained,
/// so `/healthz` answers 503 throughout the drain.
public final class AdminServer: Service, Sendable {
    private let config: AdminConfig
    private let state: AdminState
    private let group: any EventLoopGroup
    private let logger: Logger
    private let bound = AsyncAddress()

    public init(
        config: AdminConfig,
        proxy: ProxyServer,
        reloader: ConfigReloader?,
        metrics: MetricsExporter,
        group: any EventLoopGroup,
        logger: Logger
    ) {
        self.config = config
        self.group = group
        self.logger = logger
        self.state = AdminState(
            proxy: proxy,
            token: config.token,
            publicHealthz: config.publicHealthz,
            reloader: reloader,
            metrics: metrics,
            logger: logger
        )
    }

    /// The address the admin listener bound, once it has.
    public func listeningAddress() async -> SocketAddress? {
        await bound.wait()
    }

    public func run() async throws {
        let state = self.state
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 128)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.configureHTTPServerPipeline(
                            withPipeliningAssistance: true,
                            withErrorHandling: true
                        )
                        try sync.addHandler(AdminHTTPHandler(state: state))
                    }
                }
                .bind(host: config.address.host, port: config.address.port)
                .get()
        } catch {
            await bound.publish(nil)
            throw BindError(listener: "admin", address: "\(config.address)", underlying: error)
        }
        let address = channel.localAddress
        logger.info("admin listening on \(address.map(ProxyServer.describe) ?? "\(config.address)")")
        await bound.publish(address)
        try? await gracefulShutdown()
        try? await channel.close()
    }
}

/// What every admin connection shares: the proxy to read, the token to check, the reloader behind `POST /reload`,
/// the metrics.
final class AdminState: Sendable {
    let proxy: ProxyServer
    let token: String?
    /// `/healthz` needs no token (`admin.public_healthz`).
    let publicHealthz: Bool
    let reloader: ConfigReloader?
    let metrics: MetricsExporter
    let logger: Logger

    init(
        proxy: ProxyServer,
        token: String?,
        publicHealthz: Bool = false,
        reloader: ConfigReloader?,
        metrics: MetricsExporter,
        logger: Logger
    ) {
        self.proxy = proxy
        self.token = token
        self.publicHealthz = publicHealthz
        self.reloader = reloader
        self.metrics = metrics
        self.logger = logger
    }

    /// Whether a request for `host` (its Host header) may be served without a token: only when it names a loopback
    /// address or `localhost`, so a web page that rebinds its own name to 127.0.0.1 cannot read the endpoint.
    func acceptsHost(_ host: String?) -> Bool {
        guard token == nil else { return true }
        guard let host else { return false }
        var name = Substring(host.lowercased())
        if name.hasPrefix("["), let close = name.firstIndex(of: "]") {
            name = name[name.index(after: name.startIndex)..<close]
        } else if let colon = name.lastIndex(of: ":") {
            name = name[..<colon]
        }
        if name == "localhost" || name == "::1" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Whether `header` (the request's Authorization) carries the token; compared in constant time.
    func authorizes(_ header: String?) -> Bool {
        guard let token else { return true }
        return Self.header(header, carries: token)
    }

    /// Whether an Authorization header value is `Bearer <token>` (scheme in any case), compared in constant time.
    static func header(_ header: String?, carries token: String) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let given = Array(header.utf8.dropFirst(7))
        let expected = Array(token.utf8)
        var difference: UInt8 = given.count == expected.count ? 0 : 1
        for index in 0..<max(given.count, expected.count) {
            let left = index < given.count ? given[index] : 0
            let right = index < expected.count ? expected[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}

/// The admin listener's bound address, published once.
actor AsyncAddress {
    private var address: SocketAddress?
    private var done = false
    private var waiters: [CheckedContinuation<SocketAddress?, Never>] = []

    func publish(_ address: SocketAddress?) {
        self.address = address
        done = true
        for waiter in waiters {
            waiter.resume(returning: address)
        }
        waiters.removeAll()
    }

    func wait() async -> SocketAddress? {
        if done { return address }
        return await withCheckedContinuation { waiters.append($0) }
    }
}
