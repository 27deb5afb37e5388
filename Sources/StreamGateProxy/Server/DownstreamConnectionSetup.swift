import Logging
import NIOCore
import StreamGateTLS

/// The first handlers of every accepted downstream connection: traffic counting, the idle close, then TLS and
/// ALPN, or the cleartext sniffer that tells HTTP/1.1 from HTTP/2 prior knowledge. Registers the connection.
enum DownstreamConnectionSetup {
    /// How long a downstream connection with no stream in flight may stay silent before it is closed.
    static let idleConnectionTimeout = TimeAmount.seconds(75)

    static func configure(
        _ channel: any Channel,
        settings: ListenerSettings,
        context: ProxyContext,
        logger baseLogger: Logger
    ) -> EventLoopFuture<Void> {
        let listener = settings.config
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
            scheme: settings.tlsContext == nil ? "http" : "https"
        )
        return channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(ConnectionTrafficCounter(connection: connection))
            // Closes connections that carry no stream and send nothing (keep-alive, like nginx's 75 s).
            try sync.addHandler(IdleStateHandler(readTimeout: idleConnectionTimeout))
            if let tlsContext = settings.tlsContext {
                let handshakeTimeout = TimeAmount(listener.tls?.handshakeTimeout ?? .seconds(10))
                try sync.addHandler(
                    TLSServerHandler(context: tlsContext, handshakeTimeout: handshakeTimeout, logger: logger)
                )
                try sync.addHandler(ALPNProtocolSwitch(pipeline: pipeline, connection: connection, logger: logger))
            } else {
                try sync.addHandler(CleartextProtocolSniffer(pipeline: pipeline, connection: connection, logger: logger))
            }
        }
    }
}
