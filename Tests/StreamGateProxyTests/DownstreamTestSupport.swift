import Logging
import NIOCore
import NIOEmbedded
import StreamGateConfig

@testable import StreamGateProxy

/// A downstream connection on an `EmbeddedChannel`, set up by the same `DownstreamPipeline` a listener uses, with
/// routes whose upstream is never reached (these tests stop at admission's answers).
struct EmbeddedDownstream {
    let channel: EmbeddedChannel
    let proxy: ProxyContext
    let connection: LiveConnection

    static let yaml = """
        version: 1
        listeners:
          - { name: plain, address: "127.0.0.1:0" }
        upstreams:
          - { name: app, servers: ["127.0.0.1:9"] }
        routes:
          - match: { host: api.example.com, path_prefix: /api/ }
            upstream: app
            websocket: { allowed_origins: ["https://app.example.com"] }
        """

    init(_ version: DownstreamPipeline.HTTPVersion) throws {
        let config = try ConfigLoader.load(yaml: Self.yaml, sourcePath: "embedded.yaml")
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        let upstream = UpstreamGroup(
            index: 0,
            config: config.upstreams[0],
            addresses: [try SocketAddress(ipAddress: "127.0.0.1", port: 9)]
        )
        let routes = config.routes.enumerated().map { Route(index: $0, config: $1, upstream: upstream) }
        let loop = channel.embeddedEventLoop
        proxy = ProxyContext(routes: RouteTable(routes: routes), group: loop, clock: StreamClock { loop.now })
        connection = proxy.registry.open(channel: channel, listener: "plain")
        let pipeline = DownstreamPipeline(
            proxy: proxy, listener: config.listeners[0], limits: config.limits, scheme: "http"
        )
        var logger = Logger(label: "embedded")
        logger.logLevel = .critical
        try pipeline.configure(version, channel: channel, connection: connection, logger: logger)
        self.channel = channel
    }

    /// Feeds `text` to the connection as client bytes and returns everything it wrote back, as text.
    func exchange(_ text: String) throws -> String {
        try channel.writeInbound(channel.allocator.buffer(string: text))
        return try readAll()
    }

    func readAll() throws -> String {
        var output = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            output += String(buffer: buffer)
        }
        return output
    }
}
