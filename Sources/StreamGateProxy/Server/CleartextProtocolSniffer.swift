import Logging
import NIOCore

/// First handler of a cleartext connection: reads until it can tell whether the client opened with the HTTP/2
/// connection preface (h2c with prior knowledge, RFC 9113 section 3.3) or with HTTP/1.1, installs that pipeline,
/// replays the bytes it held and removes itself. A client that has not said which by `limits.header_timeout` (or
/// stays silent past `client_idle_timeout`) is closed: a connection that sends nothing holds nothing for long.
final class CleartextProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private let pipeline: DownstreamPipeline
    private let connection: LiveConnection
    private let logger: Logger
    private let headerTimeout: TimeAmount
    private var held: ByteBuffer?
    private var timer: Scheduled<Void>?

    init(pipeline: DownstreamPipeline, connection: LiveConnection, headerTimeout: TimeAmount, logger: Logger) {
        self.pipeline = pipeline
        self.connection = connection
        self.headerTimeout = headerTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard headerTimeout > .zero else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: connection.startedAt + headerTimeout) {
            [weak self] in
            guard let self, self.timer != nil else { return }
            self.timer = nil
            self.logger.info("closing a connection that sent no request within the header timeout")
            self.connection.limitHit(.headerTimeout)
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case IdleStateHandler.IdleStateEvent.read = event {
            logger.debug("closing a connection that sent nothing")
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if var held {
            held.writeBuffer(&incoming)
            self.held = held
        } else {
            held = incoming
        }
        guard let bytes = held else { return }
        let count = min(bytes.readableBytes, Self.preface.count)
        let matches = bytes.withUnsafeReadableBytes { raw in
            raw.prefix(count).elementsEqual(Self.preface.prefix(count))
        }
        if matches && count < Self.preface.count {
            return  // could still be the preface: wait for more
        }
        install(matches ? .http2 : .http1, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        held = nil
        context.fireChannelInactive()
    }

    private func install(_ version: DownstreamPipeline.HTTPVersion, context: ChannelHandlerContext) {
        do {
            try pipeline.configure(version, channel: context.channel, connection: connection, logger: logger)
        } catch {
            logger.error("cannot set up the connection: \(error)")
            context.close(promise: nil)
            return
        }
        let bytes = held
        held = nil
        if let bytes {
            context.fireChannelRead(wrapInboundOut(bytes))
            context.fireChannelReadComplete()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
