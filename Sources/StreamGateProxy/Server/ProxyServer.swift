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
import NIOConcurrencyHelpers
import Synchronization

/// The proxy as a service: binds every configured listener, serves until graceful shutdown is requested, then
/// drains (the `drain` block of the config serving then): reports unready on `/healthz` for `drain.grace` while
/// still serving, then stops accepting, sends HTTP/2 GOAWAY and HTTP/1.1
/// `Connection: close`, ends event streams (after a `retry:`) and WebSockets (Close 1012) spread over
/// `drain.spread`, lets other responses finish, and at `drain.timeout` closes what is left. `apply`
/// switches it to a new configuration while it runs (a reload): new connections and new streams follow the new
/// one at once, live streams and tunnels carry on untouched, in the same process.
public final class ProxyServer: Service, Sendable {
    private let group: any EventLoopGroup
    private let logger: Logger
    /// Overrides `drain.timeout` of the config (the command line's `--drain-seconds`).
    private let drainTimeout: Duration?
    private let context: ProxyContext
    private let boundAddresses = AsyncBoundAddresses()
    private let listeners: ListenerSet
    private let current: NIOLockedValueBox<ProxyGeneration>
    private let reloads = ReloadQueue()
    private let draining = Atomic<Bool>(false)
    /// The servers of every upstream with their health and streams in flight, kept across reloads.
    private let upstreamServers: UpstreamServerDirectory
    /// The serving generation's active health checks, once `run` has started them.
    private let healthChecks = NIOLockedValueBox<UpstreamHealthChecks?>(nil)

    /// Resolves upstream addresses, builds the route table and the listeners' TLS contexts; throws when an upstream
    /// host name does not resolve or a certificate cannot be loaded.
    public init(
        config: StreamGateConfiguration,
        group: any EventLoopGroup,
        logger: Logger,
        drainTimeout: Duration? = nil,
        observers: [any StreamObserver] = []
    ) throws {
        let upstreamServers = UpstreamServerDirectory(logger: logger)
        let generation = try ProxyGeneration.build(number: 1, config: config, servers: upstreamServers)
        self.upstreamServers = upstreamServers
        self.group = group
        self.logger = logger
        self.drainTimeout = drainTimeout
        self.current = NIOLockedValueBox(generation)
        self.context = ProxyContext(routes: generation.routes, group: group, observers: observers)
        self.listeners = ListenerSet(group: group, context: context, logger: logger)
    }

    /// Every live connection and stream, as the admin view shows them.
    public var registry: LiveRegistry { context.registry }

    /// The configuration new connections and streams get now.
    public var generation: ProxyGeneration { current.withLockedValue { $0 } }

    /// True from the moment a graceful shutdown starts: listeners close, `/healthz` answers 503.
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// The addresses the listeners bound, by listener name, once `run` has bound them.
    public func listeningAddresses() async -> [String: SocketAddress] {
        await boundAddresses.wait()
    }

    public func run() async throws {
        do {
            let bound = try await listeners.bindNew(generation)
            for (name, address) in bound {
                logger.info("listener \(name) listening on \(address.map(Self.describe) ?? "?")")
                if let address {
                    await boundAddresses.add(name: name, address: address)
                }
            }
        } catch {
            await boundAddresses.finish()
            // The startup error reads as the listener and the reason; the config key is for reloads.
            throw StartupBindError(errors: error)
        }
        await boundAddresses.finish()
        startHealthChecks(for: generation)

        try? await gracefulShutdown()
        draining.store(true, ordering: .relaxed)
        let signalled = ContinuousClock.now

        let registry = context.registry
        let drain = generation.config.drain
        let timeout = drainTimeout ?? drain.timeout
        // A shorter timeout from the command line pulls the grace and the spread in with it: the last stream
        // still ends first.
        let grace = drainTimeout.map { min(drain.grace, $0 / 4) } ?? drain.grace
        let spread = drainTimeout.map { min(drain.spread, ($0 - grace) / 2) } ?? drain.spread
        if grace > .zero {
            logger.info(
                "shutting down: /healthz answers 503 draining; listeners keep accepting for \(grace.configText) (drain.grace) so load balancers take this instance out first"
            )
            // A second signal cancels the wait: the drain proper starts at once.
            try? await Task.sleep(for: grace)
        }
        let open = await registry.connectionCount()
        await reloads.acquire()
        await listeners.closeAll()
        await reloads.release()
        await registry.fireAll(ChannelShouldQuiesceEvent())
        let longLived = await registry.drain(drain, spread: spread)
        logger.info(
            "shutting down: no new connections; draining \(open) connections for up to \((timeout - grace).configText); \(longLived) event streams and WebSockets end over \(spread.configText)"
        )
        let deadline = signalled + timeout
        while await registry.connectionCount() > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let remaining = await registry.aggregate()
        let remainingConnections = remaining.connections.values.reduce(0, +)
        if remainingConnections > 0 {
            let streams = remaining.streams.values.reduce(0, +)
            logger.warning(
                "drain timeout (\(timeout.configText)): closing \(remainingConnections) connections with \(streams) streams still open"
            )
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
        healthChecks.withLockedValue { $0?.stop() }
        _ = await context.pools.visitAll { $0.closeAll() }
        logger.info("stopped")
    }

    /// Switches to `config` (a reload): builds the next generation (resolving upstreams, loading certificates),
    /// binds listeners it adds, then hands every event loop the new route table, points kept listeners at their
    /// new settings and closes the listeners it drops. Nothing changes when any step before the switch fails: the
    /// errors are thrown, each at its config key. Reloads run one at a time, in the order asked.
    public func apply(_ config: StreamGateConfiguration) async throws(ConfigErrors) -> ProxyGeneration {
        await reloads.acquire()
        do throws(ConfigErrors) {
            let next = try await switchTo(config)
            await reloads.release()
            return next
        } catch {
            await reloads.release()
            throw error
        }
    }

    private func switchTo(_ config: StreamGateConfiguration) async throws(ConfigErrors) -> ProxyGeneration {
        guard !isDraining else {
            throw ConfigErrors(errors: [
                ConfigError(file: config.sourcePath, line: nil, keyPath: "", message: "not applied: shutting down")
            ])
        }
        let next = try ProxyGeneration.build(number: generation.number + 1, config: config, servers: upstreamServers)
        let added = try await listeners.bindNew(next)
        await context.routes.replace(with: next.routes)
        let removed = await listeners.retarget(next)
        current.withLockedValue { $0 = next }
        startHealthChecks(for: next)
        for (name, address) in added {
            logger.info("listener \(name) listening on \(address.map(Self.describe) ?? "?")")
        }
        for name in removed {
            logger.info("listener \(name) removed: no longer accepting; its open connections stay until they end")
        }
        return next
    }

    /// Replaces the running health checks by `generation`'s.
    private func startHealthChecks(for generation: ProxyGeneration) {
        let checks = UpstreamHealthChecks(groups: generation.upstreams, eventLoops: group)
        let previous = healthChecks.withLockedValue { current -> UpstreamHealthChecks? in
            defer { current = checks }
            return current
        }
        previous?.stop()
    }

    /// `127.0.0.1:8080` / `[::1]:8080`.
    public static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// A listener could not bind at start: the bind errors without the config location (`listener public: cannot
/// bind 0.0.0.0:443: address already in use`).
struct StartupBindError: Error, CustomStringConvertible {
    var errors: ConfigErrors

    var description: String {
        errors.errors.map(\.message).joined(separator: "; ")
    }
}

/// One at a time, first come first served: the reloads (and the shutdown's closing of the listeners).
actor ReloadQueue {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
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
