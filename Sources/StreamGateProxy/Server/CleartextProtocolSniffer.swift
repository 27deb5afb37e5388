import Logging
import NIOCore

/// First handler of a cleartext connection: reads until it can tell whether the client opened with the HTTP/2
/// connection preface (h2c with prior knowledge, RFC 9113 section 3.3) or with HTTP/1.1, installs that pipeline,
/// replays the bytes it held and removes itself.
final class CleartextProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private let pipeline: DownstreamPipeline
    private let connection: LiveConnection
    private let logger: Logger
    private var held: ByteBuffer?

    init(pipeline: DownstreamPipeline, connection: LiveConnection, logger: Logger) {
        self.pipeline = pipeline
        self.connection = connection
        self.logger = logger
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
