import NIOCore
import StreamGateConfig

/// A configured upstream: its servers with their addresses resolved when the configuration was loaded, and its connection settings.
/// Immutable and shared by every event loop; the round-robin cursor and the pooled connections live per event loop
/// in `UpstreamConnectionPool`.
public final class UpstreamGroup: Sendable {
    public let config: UpstreamConfig
    public let addresses: [SocketAddress]
    /// `addresses` as `ip:port`, made once for logs, the admin view and metrics labels.
    public let addressTexts: [String]
    /// Position of the group in the config's `upstreams` list.
    public let index: Int

    public init(index: Int, config: UpstreamConfig, addresses: [SocketAddress]) {
        self.index = index
        self.config = config
        self.addresses = addresses
        self.addressTexts = addresses.map(ProxyServer.describe)
    }

    public var name: String { config.name }
}
