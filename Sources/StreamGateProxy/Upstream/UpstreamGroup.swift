import Logging
import NIOCore
import StreamGateConfig

/// A configured upstream: its servers with their addresses resolved when the configuration was loaded, their
/// shared state (`UpstreamServer`: streams in flight, health), and its connection settings. Immutable and shared by
/// every event loop; the balancer's per-loop state and the pooled connections live per event loop in
/// `UpstreamConnectionPool`.
public final class UpstreamGroup: Sendable {
    public let config: UpstreamConfig
    public let addresses: [SocketAddress]
    /// `addresses` as `ip:port`, made once for logs, the admin view and metrics labels.
    public let addressTexts: [String]
    /// Same order as `addresses`.
    public let servers: [UpstreamServer]
    /// Position of the group in the config's `upstreams` list.
    public let index: Int
    /// The OpenSSL contexts when the servers are reached over TLS; nil for cleartext.
    public let tls: UpstreamTLS?

    /// `directory` hands out the servers' shared state; without one (tests) each server gets its own.
    public init(
        index: Int,
        config: UpstreamConfig,
        addresses: [SocketAddress],
        directory: UpstreamServerDirectory? = nil,
        tls: UpstreamTLS? = nil
    ) {
        self.index = index
        self.config = config
        self.tls = tls
        self.addresses = addresses
        let texts = addresses.map(ProxyServer.describe)
        self.addressTexts = texts
        let directory = directory ?? UpstreamServerDirectory(logger: Logger(label: "streamgate.upstream"))
        self.servers = texts.map { directory.server(upstream: config.name, address: $0) }
    }

    public var name: String { config.name }

    /// The weight of server `index` (1 unless configured).
    func weight(of index: Int) -> Int {
        index < config.weights.count ? config.weights[index] : 1
    }
}
