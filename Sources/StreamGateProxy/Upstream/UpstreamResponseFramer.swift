import NIOCore
import NIOHTTP1

/// The first inbound handler of an upstream HTTP/1.1 connection (after TLS). It owns the split between a response's
/// head and its body: NIO's response decoder gets exactly the bytes up to the head's end (the first empty line), and
/// once a final head has passed the decoder leaves the pipeline and `HTTP1ResponseBody` frames the body, handing
/// slices of the bytes read straight to `UpstreamHTTP1Handler`. When the body ends a fresh decoder goes back in for
/// the connection's next response. A long-lived event stream so holds no llhttp state, header storage or decoder
/// buffer, and its body bytes pass no HTTP parser. After a 101 the bytes pass through untouched.
final class UpstreamResponseFramer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum Mode {
        /// Feeding the head decoder; `afterLF` is how far a blank line has got: 1 after an LF, 2 after LF CR.
        case head(afterLF: Int)
        case body(HTTP1ResponseBody)
        case passthrough
    }

    private let handler: UpstreamHTTP1Handler
    private var mode = Mode.head(afterLF: 0)
    /// The head decoder in the pipeline, while there is one.
    private var decoder: (handler: ByteToMessageHandler<UpstreamHeadDecoder>, decoder: UpstreamHeadDecoder)?

    init(handler: UpstreamHTTP1Handler) {
        self.handler = handler
    }

    /// The handlers of a new upstream HTTP/1.1 connection, in pipeline order.
    static func handlers() -> [any ChannelHandler] {
        let handler = UpstreamHTTP1Handler()
        let framer = UpstreamResponseFramer(handler: handler)
        let decoder = framer.makeDecoder()
        return [HTTPRequestEncoder(), framer, decoder, NIOHTTPRequestHeadersValidator(), handler]
    }

    private func makeDecoder() -> ByteToMessageHandler<UpstreamHeadDecoder> {
        let decoder = UpstreamHeadDecoder()
        let handler = ByteToMessageHandler(decoder)
        self.decoder = (handler, decoder)
        return handler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        do {
            while buffer.readableBytes > 0, context.channel.isActive {
                switch mode {
                case .passthrough:
                    context.fireChannelRead(wrapInboundOut(buffer))
                    return
                case .head(let afterLF):
                    try forwardHead(&buffer, afterLF: afterLF, context: context)
                case .body(var body):
                    // Until the decode returns: a close from inside it must not end the body a second time.
                    mode = .passthrough
                    try body.decode(&buffer) { part in
                        switch part {
                        case .data(let bytes): handler.responseBody(bytes)
                        case .end(let trailers): endBody(trailers, context: context)
                        }
                    }
                    if !body.isDone {
                        mode = .body(body)
                    }
                }
            }
        } catch {
            mode = .passthrough
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .body(var body) = mode {
            mode = .passthrough
            // The connection is done: no decoder for a next response.
            if case .end(let trailers)? = try? body.finish() {
                handler.responseEnd(trailers)
            }
        }
        context.fireChannelInactive()
    }

    /// Hands the decoder the bytes up to the end of the next head (or all of them when it is not in `buffer`); when
    /// the decoder has passed a final head whose body is still to come, takes the decoder out.
    private func forwardHead(_ buffer: inout ByteBuffer, afterLF start: Int, context: ChannelHandlerContext) throws {
        var afterLF = start
        var headEnd: Int?
        buffer.withUnsafeReadableBytes { bytes in
            for index in bytes.indices {
                switch bytes[index] {
                case UInt8(ascii: "\n"):
                    if afterLF > 0 {
                        headEnd = index + 1
                        return
                    }
                    afterLF = 1
                case UInt8(ascii: "\r"):
                    afterLF = afterLF == 1 ? 2 : 0
                default:
                    afterLF = 0
                }
            }
        }
        guard let headEnd else {
            mode = .head(afterLF: afterLF)
            context.fireChannelRead(wrapInboundOut(buffer))
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return
        }
        mode = .head(afterLF: 0)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: headEnd)!))
        guard let framing = handler.takeBodyFraming() else { return }
        switch framing {
        case .upgrade:
            mode = .passthrough
        case .body(let framing):
            guard let framing else {
                throw HTTP1ResponseBody.Failure(reason: "a Content-Length that is not one decimal number")
            }
            if let decoder {
                self.decoder = nil
                decoder.decoder.retire()
                context.pipeline.syncOperations.removeHandler(decoder.handler, promise: nil)
            }
            mode = .body(HTTP1ResponseBody(framing))
        }
    }

    /// The body ended: a fresh head decoder goes in before the stream hears of the end (it may hand the connection
    /// to the pool, and the next request's head must reach a decoder that expects its response).
    private func endBody(_ trailers: HTTPHeaders?, context: ChannelHandlerContext) {
        mode = .head(afterLF: 0)
        do {
            try context.pipeline.syncOperations.addHandler(makeDecoder(), position: .after(self))
        } catch {
            context.fireErrorCaught(error)
            return
        }
        handler.responseEnd(trailers)
    }
}
