import NIOCore
import NIOHTTP1

/// The first inbound handler of an upstream HTTP/1.1 connection (after TLS). It owns the split between a response's
/// head and its body: NIO's response decoder gets exactly the bytes up to the head's end (the first empty line), and
/// once a final head has passed the decoder leaves the pipeline and `HTTP1ResponseBody` frames the body, handing
/// slices of the bytes read straight to `UpstreamHTTP1Handler`. A long-lived event stream so holds no llhttp state,
/// header storage or decoder buffer, and its body bytes pass no HTTP parser. After a 101 the bytes pass through
/// untouched.
///
/// The decoder goes in only when the first byte of a head arrives, told the method of the request it answers (which
/// `UpstreamHTTP1Handler` keeps), so a head that arrives in one read has its decoder made, used and freed within that
/// read. A decoder that lived from the request until its head, while thousands of streams open at once, would leave
/// its freed memory in holes between their long-lived objects that the allocator cannot give back.
final class UpstreamResponseFramer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum Mode {
        /// Feeding the head decoder; `afterLF` is how far a blank line has got: 1 after an LF, 2 after LF CR, and
        /// 3 after a CR that ends no blank line (an LF must come next).
        case head(afterLF: Int)
        case body(HTTP1ResponseBody)
        case passthrough
    }

    private let handler: UpstreamHTTP1Handler
    private var mode = Mode.head(afterLF: 0)
    /// The head decoder in the pipeline, while there is one.
    private var decoder: (handler: ByteToMessageHandler<UpstreamHeadDecoder>, decoder: UpstreamHeadDecoder)?
    /// A retired decoder is still in the pipeline: a ByteToMessageHandler leaves on the next loop tick, and until then
    /// a new decoder's parts would pass through it (it takes only bytes).
    private var retiredDecoderLeaving = false

    init(handler: UpstreamHTTP1Handler) {
        self.handler = handler
    }

    /// The handlers of a new upstream HTTP/1.1 connection, in pipeline order. The request encoder joins them while
    /// a request goes out (see `UpstreamHTTP1Handler`), the head decoder while a head comes in.
    static func handlers() -> [any ChannelHandler] {
        let handler = UpstreamHTTP1Handler()
        let framer = UpstreamResponseFramer(handler: handler)
        return [framer, handler]
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
        if decoder == nil {
            try insertDecoder(context: context)
        }
        var afterLF = start
        var headEnd: Int?
        var bareCR = false
        buffer.withUnsafeReadableBytes { bytes in
            for index in bytes.indices {
                switch bytes[index] {
                case UInt8(ascii: "\n"):
                    if afterLF == 1 || afterLF == 2 {
                        headEnd = index + 1
                        return
                    }
                    afterLF = 1
                case UInt8(ascii: "\r"):
                    guard afterLF == 0 || afterLF == 1 else {
                        bareCR = true
                        return
                    }
                    afterLF = afterLF == 1 ? 2 : 3
                default:
                    guard afterLF < 2 else {
                        bareCR = true
                        return
                    }
                    afterLF = 0
                }
            }
        }
        // RFC 9112 2.2: a CR not followed by LF makes the head invalid. llhttp ends a line at some bare CRs, so where
        // the head ends would be its guess against ours; refused before a byte of this read reaches the decoder.
        if bareCR {
            throw HTTP1ResponseBody.Failure(reason: "a CR not followed by LF in the response head")
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
                retiredDecoderLeaving = true
                let removed = context.eventLoop.makePromise(of: Void.self)
                // Held until the decoder has left (at once, or within the tick); a weak capture would make every
                // later retain of this handler, one per read, take the slow path.
                removed.futureResult.assumeIsolated().whenComplete { [self] _ in
                    retiredDecoderLeaving = false
                }
                context.pipeline.syncOperations.removeHandler(decoder.handler, promise: removed)
            }
            mode = .body(HTTP1ResponseBody(framing))
        }
    }

    /// A head begins and no decoder is in the pipeline: one goes in just before the handler, told the method of the
    /// request it answers (it did not see that request go out). With no request awaiting an answer it is told
    /// nothing, and refuses the bytes as an unsolicited response.
    /// A head that begins in the very read that ended the previous body, before the retired decoder has left, is
    /// refused: StreamGate does not pipeline requests, so no answer can be due that soon.
    private func insertDecoder(context: ChannelHandlerContext) throws {
        guard !retiredDecoderLeaving else {
            throw HTTP1ResponseBody.Failure(reason: "a response began in the same read as the end of the previous one")
        }
        let decoder = makeDecoder()
        // Next to the handler, behind a request encoder that may be in: the decoder watches request heads go out.
        try context.pipeline.syncOperations.addHandler(decoder, position: .before(handler))
        if let method = handler.unansweredRequestMethod {
            self.decoder?.decoder.write(data: .head(HTTPRequestHead(version: .http1_1, method: method, uri: "/")))
        }
    }

    /// The body ended; the next head gets a new decoder when it begins.
    private func endBody(_ trailers: HTTPHeaders?, context: ChannelHandlerContext) {
        mode = .head(afterLF: 0)
        handler.responseEnd(trailers)
    }
}
