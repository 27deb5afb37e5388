#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import StreamGateConfig
import StreamGateTLS
import Synchronization

/// The proxy as a service: binds every configured listener, serves until graceful shutdown is requested, then
/// stops accepting, lets responses in flight finish for up to `drainTimeout`, and closes what is left.
public final class ProxyServer: Service, Sendable {
    private let config: StreamGateConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let drainTimeout: Duration
    private let context: ProxyContext
    private let boundAddresses = AsyncBoundAddresses()
    private let tlsContexts: [String: TLSContext]
    private let draining = Atomic<Bool>(false)

    /// Resolves upstream addresses, builds the route table and the listeners' TLS contexts; throws when an upstream
    /// host name does not resolve or a certificate cannot be loaded.
    public init(
        config: StreamGateConfiguration,
        group: any EventLoopGroup,
        logger: Logger,
        drainTimeout: Duration = .seconds(10),
        observers: [any StreamObserver] = []
    ) throws {
        self.config = config
        self.group = group
        self.logger = logger
        self.drainTimeout = drainTimeout
        var groups: [String: UpstreamGroup] = [:]
        for (index, upstream) in config.upstreams.enumerated() {
            groups[upstream.name] = try UpstreamGroup.resolve(index: index, config: upstream)
        }
        let routes = config.routes.enumerated().compactMap { index, route -> Route? in
            guard let upstream = groups[route.upstream] else { return nil }
            return Route(index: index, config: route, upstream: upstream)
        }
        self.tlsContexts = try ListenerTLS.makeContexts(for: config)
        self.context = ProxyContext(routes: RouteTable(routes: routes), group: group, observers: observers)
    }

    /// Every live connection and stream, as the admin view shows them.
    public var registry: LiveRegistry { context.registry }

    /// True from the moment a graceful shutdown starts: listeners close, `/healthz` answers 503.
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// The addresses the listeners bound, by listener name, once `run` has bound them.
    public func listeningAddresses() async -> [String: SocketAddress] {
        await boundAddresses.wait()
    }

    public func run() async throws {
        var listeners: [any Channel] = []
        do {
            for listener in config.listeners {
                let channel: any Channel
                do {
                    channel = try await bind(listener)
                } catch {
                    throw BindError(listener: listener.name, address: "\(listener.address)", underlying: error)
                }
                listeners.append(channel)
                let address = channel.localAddress.map(Self.describe) ?? "\(listener.address)"
                logger.info("listener \(listener.name) listening on \(address)")
                if let local = channel.localAddress {
                    await boundAddresses.add(name: listener.name, address: local)
                }
            }
        } catch {
            for channel in listeners {
                try? await channel.close()
            }
            await boundAddresses.finish()
            throw error
        }
        await boundAddresses.finish()

        try? await gracefulShutdown()
        draining.store(true, ordering: .relaxed)

        let registry = context.registry
        let open = await registry.connectionCount()
        logger.info("shutting down: no new connections; draining \(open) for up to \(drainTimeout.configText)")
        for channel in listeners {
            try? await channel.close()
        }
        await registry.fireAll(ChannelShouldQuiesceEvent())
        let deadline = ContinuousClock.now + drainTimeout
        while await registry.connectionCount() > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let remaining = await registry.connectionCount()
        if remaining > 0 {
            logger.info("closing \(remaining) connections still open after the drain period")
            await registry.fireAll(ProxyGoingAwayEvent())
            try? await Task.sleep(for: .milliseconds(200))
            await registry.closeAll()
            // A TLS close waits for its close_notify to flush: give the closes a moment to finish, so every
            // stream has ended (and been logged) before the proxy reports it stopped.
            let closing = ContinuousClock.now + .seconds(1)
            while await registry.connectionCount() > 0 && ContinuousClock.now < closing {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        _ = await context.pools.visitAll { $0.closeAll() }
        logger.info("stopped")
    }

    private func bind(_ listener: ListenerConfig) async throws -> any Channel {
        let registry = context.registry
        let baseLogger = logger
        let tlsContext = tlsContexts[listener.name]
        let handshakeTimeout = TimeAmount(listener.tls?.handshakeTimeout ?? .seconds(10))
        let pipeline = DownstreamPipeline(
            proxy: context,
            listener: listener,
            scheme: tlsContext == nil ? "http" : "https"
        )
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                let connection = registry.open(channel: channel, listener: listener.name)
                var logger = baseLogger
                logger[metadataKey: "listener"] = "\(listener.name)"
                logger[metadataKey: "connection"] = "\(connection.id)"
                if let peer = channel.remoteAddress {
                    logger[metadataKey: "peer"] = "\(Self.describe(peer))"
                }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ConnectionTrafficCounter(connection: connection))
                    // Closes connections that carry no stream and send nothing (keep-alive, like nginx's 75 s).
                    try sync.addHandler(IdleStateHandler(readTimeout: Self.idleConnectionTimeout))
                    if let tlsContext {
                        try sync.addHandler(
                            TLSServerHandler(context: tlsContext, handshakeTimeout: handshakeTimeout, logger: logger)
                        )
                        try sync.addHandler(
                            ALPNProtocolSwitch(pipeline: pipeline, connection: connection, logger: logger)
                        )
                    } else {
                        try sync.addHandler(
                            CleartextProtocolSniffer(pipeline: pipeline, connection: connection, logger: logger)
                        )
                    }
                }
            }
            .bind(host: listener.address.host, port: listener.address.port)
            .get()
    }

    /// How long a downstream connection with no stream in flight may stay silent before it is closed.
    static let idleConnectionTimeout = TimeAmount.seconds(75)

    /// `127.0.0.1:8080` / `[::1]:8080`.
    public static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// A listener could not bind its address: names both, with the system's reason (`address already in use`).
public struct BindError: Error, CustomStringConvertible {
    public var listener: String
    public var address: String
    public var underlying: any Error

    public init(listener: String, address: String, underlying: any Error) {
        self.listener = listener
        self.address = address
        self.underlying = underlying
    }

    public var description: String {
        var reason = "\(underlying)"
        if let io = underlying as? IOError {
            reason = String(cString: strerror(io.errnoCode)).lowercased()
        }
        return "listener \(listener): cannot bind \(address): \(reason)"
    }
}

/// The listeners' bound addresses, published once all are bound.
actor AsyncBoundAddresses {
    private var addresses: [String: SocketAddress] = [:]
    private var done = false
    private var waiters: [CheckedContinuation<[String: SocketAddress], Never>] = []

    func add(name: String, address: SocketAddress) {
        addresses[name] = address
    }

    func finish() {
        done = true
        for waiter in waiters {
            waiter.resume(returning: addresses)
        }
        waiters.removeAll()
    }

    func wait() async -> [String: SocketAddress] {
        if done { return addresses }
        return await withCheckedContinuation { waiters.append($0) }
    }
}
