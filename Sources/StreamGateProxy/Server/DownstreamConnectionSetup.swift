import Logging
import NIOCore
import StreamGateTLS

/// The first handlers of every accepted downstream connection: traffic counting, the idle close, then TLS and
/// ALPN, or the cleartext sniffer that tells HTTP/1.1 from HTTP/2 prior knowledge. Registers the connection, or
/// refuses it at once when its listener already holds `max_connections` (cleartext: after a 503).
enum DownstreamConnectionSetup {
    static func configure(
        _ channel: any Channel,
        settings: ListenerSettings,
        limiter: ConnectionLimiter,
        context: ProxyContext,
        logger baseLogger: Logger
    ) -> EventLoopFuture<Void> {
        let listener = settings.config
        let limits = settings.limits
        guard limiter.take(limit: listener.maxConnections) else {
            refuse(channel, settings: settings, limiter: limiter, context: context, logger: baseLogger)
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        channel.closeFuture.whenComplete { _ in limiter.giveBack() }
        let connection = context.registry.open(channel: channel, listener: listener.name)
        var logger = baseLogger
        logger[metadataKey: "listener"] = "\(listener.name)"
        logger[metadataKey: "connection"] = "\(connection.id)"
        if let peer = channel.remoteAddress {
            logger[metadataKey: "peer"] = "\(ProxyServer.describe(peer))"
        }
        let pipeline = DownstreamPipeline(
            proxy: context,
            listener: listener,
            limits: limits,
            scheme: settings.tlsContext == nil ? "http" : "https"
        )
        return channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            // HTTP/1.1 streams are bounded by the socket's write buffer: at most stream_buffer_bytes queued.
            let buffer = limits.streamBufferBytes
            try channel.syncOptions?.setOption(.writeBufferWaterMark, value: .init(low: buffer / 2, high: buffer))
            try sync.addHandler(ConnectionTrafficCounter(connection: connection))
            if limits.clientIdleTimeout > .zero {
                // Closes connections that carry no stream and send nothing (keep-alive, like nginx's 75 s).
                try sync.addHandler(IdleStateHandler(readTimeout: TimeAmount(limits.clientIdleTimeout)))
            }
            if let tlsContext = settings.tlsContext {
                let handshakeTimeout = TimeAmount(listener.tls?.handshakeTimeout ?? .seconds(10))
                try sync.addHandler(
                    TLSHandler(context: tlsContext, handshakeTimeout: handshakeTimeout, logger: logger)
                )
                try sync.addHandler(ALPNProtocolSwitch(pipeline: pipeline, connection: connection, logger: logger))
            } else {
                try sync.addHandler(
                    CleartextProtocolSniffer(
                        pipeline: pipeline,
                        connection: connection,
                        headerTimeout: TimeAmount(limits.headerTimeout),
                        logger: logger
                    )
                )
            }
        }
    }

    /// Over `max_connections`: a cleartext client gets a 503 (an HTTP/1.1 one; a client speaking HTTP/2 sees the
    /// connection close), a TLS client the close; counted, and logged at most every ten seconds.
    private static func refuse(
        _ channel: any Channel,
        settings: ListenerSettings,
        limiter: ConnectionLimiter,
        context: ProxyContext,
        logger: Logger
    ) {
        let listener = settings.config
        context.registry.connectionRefused(listener: listener.name, on: channel.eventLoop)
        if let refused = limiter.refused(now: Int64(NIODeadline.now().uptimeNanoseconds)) {
            logger.warning(
                "listener \(listener.name) holds max_connections \(listener.maxConnections): refusing new connections (\(refused) since the last notice)"
            )
        }
        guard settings.tlsContext == nil else {
            channel.close(promise: nil)
            return
        }
        let body = "listener \(listener.name) is at max_connections\n"
        var response = channel.allocator.buffer(capacity: 128 + body.utf8.count)
        response.writeString(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
                + "content-length: \(body.utf8.count)\r\nconnection: close\r\nretry-after: 1\r\n\r\n\(body)"
        )
        channel.writeAndFlush(response).whenComplete { _ in channel.close(promise: nil) }
    }
}
