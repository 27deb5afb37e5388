import Logging
import NIOCore
import NIOHTTP1
import StreamGateConfig
import StreamGateHTTP2

/// Installs the HTTP handlers of a downstream connection once its protocol is known (after ALPN, or after
/// sniffing a cleartext connection for the HTTP/2 preface).
struct DownstreamPipeline {
    let proxy: ProxyContext
    let listener: ListenerConfig
    /// `https` on TLS listeners, `http` otherwise: what X-Forwarded-Proto says.
    let scheme: String

    enum HTTPVersion {
        case http1
        case http2
    }

    func configure(_ version: HTTPVersion, channel: any Channel, connection: LiveConnection, logger: Logger) throws {
        let sync = channel.pipeline.syncOperations
        logger.debug("connection speaks \(version == .http2 ? "HTTP/2" : "HTTP/1.1")")
        switch version {
        case .http1:
            // NIO's server pipeline, with a decoder that hands on the bytes after a WebSocket upgrade request.
            try sync.addHandler(HTTPResponseEncoder())
            try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
            try sync.addHandler(HTTPServerPipelineHandler())
            try sync.addHandler(HTTPServerProtocolErrorHandler())
            try sync.addHandler(HTTP1DownstreamHandler(proxy: proxy, scheme: scheme, connection: connection, logger: logger))
        case .http2:
            var logger = logger
            logger[metadataKey: "protocol"] = "h2"
            let session = HTTP2DownstreamSession(
                proxy: proxy,
                scheme: scheme,
                eventLoop: channel.eventLoop,
                clientAddress: channel.remoteAddress,
                allocator: channel.allocator,
                acceptsWebSockets: listener.http2.websocket,
                connection: connection,
                logger: logger
            )
            let settings = HTTP2ServerSettings(
                maxConcurrentStreams: listener.http2.maxConcurrentStreams,
                initialWindowSize: listener.http2.initialWindowSize,
                enableConnectProtocol: listener.http2.websocket
            )
            try sync.addHandler(HTTP2ServerConnectionHandler(settings: settings, delegate: session, logger: logger))
        }
    }
}
