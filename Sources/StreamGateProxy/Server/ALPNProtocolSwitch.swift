import Logging
import NIOCore
import StreamGateTLS

/// Sits after the TLS handler until the handshake completes, then installs HTTP/2 when ALPN chose `h2` and
/// HTTP/1.1 otherwise (`http/1.1` or no ALPN), and removes itself.
final class ALPNProtocolSwitch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let pipeline: DownstreamPipeline
    private let connection: LiveConnection
    private let logger: Logger

    init(pipeline: DownstreamPipeline, connection: LiveConnection, logger: Logger) {
        self.pipeline = pipeline
        self.connection = connection
        self.logger = logger
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeFailed {
            connection.tlsHandshakeFailed()
        }
        guard let completed = event as? TLSHandshakeCompleted else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        connection.tls = TLSSummary(
            version: completed.protocolVersion,
            alpn: completed.alpnProtocol,
            serverName: completed.serverName
        )
        var logger = logger
        logger[metadataKey: "tls"] = "\(completed.protocolVersion)"
        if let name = completed.serverName {
            logger[metadataKey: "sni"] = "\(name)"
        }
        do {
            try pipeline.configure(
                completed.alpnProtocol == "h2" ? .http2 : .http1,
                channel: context.channel,
                connection: connection,
                logger: logger
            )
        } catch {
            logger.error("cannot set up the connection: \(error)")
            context.close(promise: nil)
            return
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Plaintext before the handshake completed cannot happen; pass it on regardless.
        context.fireChannelRead(data)
    }
}
