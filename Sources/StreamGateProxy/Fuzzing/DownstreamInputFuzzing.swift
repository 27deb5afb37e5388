import Logging
import NIOCore
import NIOEmbedded
import StreamGateConfig

/// Fuzzing of the downstream input paths: a connection set up by the same `DownstreamPipeline` a listener uses, on
/// an `EmbeddedChannel`, fed the input in pieces. The route table is empty, so every request is answered by
/// StreamGate itself (404 and the errors before it) and nothing leaves the process. Whatever the bytes, the
/// connection must answer or close without a trap, and its output is drained as it goes.
enum DownstreamInputFuzzing {
    private static let config: StreamGateConfiguration = {
        let yaml = """
            version: 1
            listeners:
              - { name: plain, address: "127.0.0.1:0" }
            upstreams:
              - { name: app, servers: ["127.0.0.1:9"] }
            routes:
              - { match: { path_prefix: / }, upstream: app }
            """
        do {
            return try ConfigLoader.load(yaml: yaml, sourcePath: "fuzz.yaml")
        } catch {
            fatalError("the fuzzing config does not load: \(error)")
        }
    }()

    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    static func run(_ bytes: [UInt8], version: DownstreamPipeline.HTTPVersion) {
        let channel = EmbeddedChannel()
        let loop = channel.embeddedEventLoop
        let proxy = ProxyContext(routes: RouteTable(routes: []), group: loop, clock: StreamClock { loop.now })
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        do {
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
            let connection = proxy.registry.open(channel: channel, listener: "plain")
            let pipeline = DownstreamPipeline(
                proxy: proxy, listener: config.listeners[0], limits: config.limits, scheme: "http"
            )
            try pipeline.configure(version, channel: channel, connection: connection, logger: logger)
        } catch {
            fatalError("the fuzzing pipeline cannot be set up: \(error)")
        }
        let (_, pieces) = FuzzChunking.pieces(of: bytes)
        if version == .http2 {
            feed(preface[...], to: channel)
        }
        for piece in pieces where channel.isActive {
            feed(piece, to: channel)
        }
        // Past every timer (header timeout, idle close): the connection ends by itself.
        loop.advanceTime(by: .seconds(300))
        drain(channel)
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    private static func feed(_ piece: ArraySlice<UInt8>, to channel: EmbeddedChannel) {
        do {
            try channel.writeInbound(channel.allocator.buffer(bytes: piece))
        } catch {
            // A handler closed the connection on bad input: an answer, not a failure.
        }
        channel.embeddedEventLoop.run()
        drain(channel)
    }

    private static func drain(_ channel: EmbeddedChannel) {
        while (try? channel.readOutbound(as: ByteBuffer.self)) ?? nil != nil {}
        while (try? channel.readInbound(as: ByteBuffer.self)) ?? nil != nil {}
    }
}

/// `http1-input`.
enum HTTP1InputFuzzing {
    static func run(_ bytes: [UInt8]) { DownstreamInputFuzzing.run(bytes, version: .http1) }
}

/// `http2-input`.
enum HTTP2InputFuzzing {
    static func run(_ bytes: [UInt8]) { DownstreamInputFuzzing.run(bytes, version: .http2) }
}
