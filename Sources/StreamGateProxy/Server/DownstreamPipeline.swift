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
    let limits: LimitsConfig
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
            // The head limits first, then NIO's server pipeline, with a decoder that hands on the bytes after a
            // WebSocket upgrade request.
            let headGuard = RequestHeadGuard(
                maxBytes: limits.maxHeaderBytes,
                timeout: TimeAmount(limits.headerTimeout),
                acceptedAt: connection.startedAt,
                connection: connection,
                logger: logger
            )
            try sync.addHandler(headGuard)
            try sync.addHandler(HTTPResponseEncoder())
            try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
            try sync.addHandler(ParsedHeadNotifier(headGuard: headGuard))
            try sync.addHandler(HTTPServerPipelineHandler())
            try sync.addHandler(HTTPServerProtocolErrorHandler())
            try sync.addHandler(
                HTTP1DownstreamHandler(
                    proxy: proxy,
                    scheme: scheme,
                    connection: connection,
                    headGuard: headGuard,
                    slowConsumerTimeout: TimeAmount(limits.slowConsumerTimeout),
                    logger: logger
                )
            )
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
                slowConsumerTimeout: TimeAmount(limits.slowConsumerTimeout),
                logger: logger
            )
            let settings = HTTP2ServerSettings(
                maxConcurrentStreams: listener.http2.maxConcurrentStreams,
                initialWindowSize: listener.http2.initialWindowSize,
                maxHeaderListSize: limits.maxHeaderBytes,
                enableConnectProtocol: listener.http2.websocket,
                streamQueueBytes: limits.streamBufferBytes
            )
            try sync.addHandler(HTTP2ServerConnectionHandler(settings: settings, delegate: session, logger: logger))
        }
    }
}
