import Foundation
import NIOCore
import StreamGateConfig
import StreamGateTLS

/// One loaded configuration as the proxy serves it: the numbered generation, when it was loaded, the validated
/// config, and what was built from it (upstream addresses resolved, the route table, every TLS listener's OpenSSL
/// context). Immutable; a reload builds the next one whole before anything switches to it.
public final class ProxyGeneration: Sendable {
    /// 1 for the configuration the process started with, one more for each reload applied.
    public let number: Int
    /// When this generation was built.
    public let loadedAt: Date
    public let config: StreamGateConfiguration
    let routes: RouteTable
    /// Each listener's settings, by the identity its socket keeps across reloads.
    let listeners: [ListenerKey: ListenerSettings]
    /// The upstreams in config order.
    let upstreams: [UpstreamGroup]

    private init(
        number: Int,
        loadedAt: Date,
        config: StreamGateConfiguration,
        routes: RouteTable,
        listeners: [ListenerKey: ListenerSettings],
        upstreams: [UpstreamGroup]
    ) {
        self.number = number
        self.loadedAt = loadedAt
        self.config = config
        self.routes = routes
        self.listeners = listeners
        self.upstreams = upstreams
    }

    /// Every server of every upstream now: its state, streams in flight and ejections.
    public func upstreamStatus(at now: NIODeadline = .now()) -> [UpstreamStatus] {
        upstreams.map { UpstreamStatus($0, at: now) }
    }

    /// Resolves every upstream server and loads every certificate of `config`; throws every problem found, each at
    /// the config key it comes from. The servers' shared state comes from `servers`, so a server the previous
    /// generation had keeps its streams in flight and its health.
    static func build(
        number: Int,
        config: StreamGateConfiguration,
        servers: UpstreamServerDirectory
    ) throws(ConfigErrors) -> ProxyGeneration {
        var errors: [ConfigError] = []
        var groups: [String: UpstreamGroup] = [:]
        for (index, upstream) in config.upstreams.enumerated() {
            var addresses: [SocketAddress] = []
            for (position, server) in upstream.servers.enumerated() {
                do {
                    addresses.append(try SocketAddress.makeAddressResolvingHost(server.host, port: server.port))
                } catch {
                    let location = ConfigLocation(keyPath: "upstreams[\(index)].servers[\(position)]")
                    errors.append(config.error(at: location, "cannot resolve \(server): \(error)"))
                }
            }
            var tls: UpstreamTLS?
            do {
                tls = try UpstreamTLS.make(for: upstream, in: config)
            } catch {
                errors.append(error)
                continue
            }
            if addresses.count == upstream.servers.count {
                groups[upstream.name] = UpstreamGroup(
                    index: index,
                    config: upstream,
                    addresses: addresses,
                    directory: servers,
                    tls: tls
                )
            }
        }
        var contexts: [String: TLSContext] = [:]
        do {
            contexts = try ListenerTLS.makeContexts(for: config)
        } catch {
            errors += error.errors
        }
        guard errors.isEmpty else {
            throw ConfigErrors(errors: errors)
        }
        let routes = config.routes.enumerated().compactMap { index, route -> Route? in
            groups[route.upstream].map { Route(index: index, config: route, upstream: $0) }
        }
        var listeners: [ListenerKey: ListenerSettings] = [:]
        for listener in config.listeners {
            listeners[ListenerKey(listener)] = ListenerSettings(
                config: listener,
                tlsContext: contexts[listener.name],
                limits: config.limits
            )
        }
        let upstreams = config.upstreams.compactMap { groups[$0.name] }
        servers.keepOnly(upstreams.flatMap(\.servers))
        return ProxyGeneration(
            number: number,
            loadedAt: Date(),
            config: config,
            routes: RouteTable(routes: routes),
            listeners: listeners,
            upstreams: upstreams
        )
    }
}

/// Which listening socket a configured listener is, across reloads: its address, so a listener renamed in place
/// keeps its socket; for port 0 (any free port, which many listeners may ask for) its address and name.
struct ListenerKey: Hashable, Sendable {
    let address: HostPort
    let name: String?

    init(_ listener: ListenerConfig) {
        self.address = listener.address
        self.name = listener.address.port == 0 ? listener.name : nil
    }
}

/// What a listener's new connections are set up with: its config, on a TLS listener the OpenSSL context holding
/// its certificates, and the limits every connection gets.
struct ListenerSettings: Sendable {
    let config: ListenerConfig
    let tlsContext: TLSContext?
    let limits: LimitsConfig
}
