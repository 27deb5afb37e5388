import NIOCore
import NIOHTTP1

/// The last handler of an upstream HTTP/1.1 connection: hands response heads (from NIO's decoder) and body parts
/// (from `UpstreamResponseFramer`) to the stream using the connection, tells the framer how the body after a final
/// head is framed, and gates socket reads so a stream can stop the upstream while its client cannot take more bytes.
///
/// It also owns the request side's codec: NIO's request encoder and header validator go into the pipeline in front
/// of it when a request head is written and leave once that request's end has passed them, so a connection waiting
/// on a long response (an event stream) holds neither them nor their pipeline contexts.
final class UpstreamHTTP1Handler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// The stream using the connection; nil while the connection idles in the pool. Held strongly (a weak
    /// reference would give the stream a side table, and every retain of it on the per-event path the slow way):
    /// the stream clears it when it lets the connection go (back to the pool, closed, or made a tunnel), and the
    /// handler clears it when the channel goes inactive or the handler leaves the pipeline, so the reference
    /// never outlives the connection's use.
    var delegate: (any UpstreamResponseDelegate)?
    /// Called once when the channel goes inactive, so the pool can forget an idle connection.
    var onInactive: (() -> Void)?

    /// What follows the final head that just passed the decoder, until the framer takes it.
    enum BodyFraming {
        /// A body framed as the head says (nil: it cannot be framed).
        case body(HTTP1ResponseBody.Framing?)
        /// A 101: the connection becomes a tunnel.
        case upgrade
    }

    /// The method of the last request written whose final response head has not arrived: what a head decoder made
    /// when that head begins must be told (a response to HEAD has no body, whatever its head says).
    private(set) var unansweredRequestMethod: HTTPMethod?
    private var readGate = ReadGate()
    /// NIO's request encoder and header validator, in the pipeline while a request goes out.
    private var requestCodec: (encoder: HTTPRequestEncoder, validator: NIOHTTPRequestHeadersValidator)?
    private var bodyFraming: BodyFraming?
    private var context: ChannelHandlerContext?
    private var failed = false

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        delegate = nil
    }

    /// Stops asking the socket for bytes until `resumeReading` (backpressure from the client side).
    func pauseReading() {
        readGate.pause()
    }

    func resumeReading() {
        readGate.resume(context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        if case .head(let head) = part {
            unansweredRequestMethod = head.method
            if requestCodec == nil {
                do {
                    try insertRequestCodec(context: context)
                } catch {
                    // Without an encoder no request part may go on: the stream hears why and the connection closes.
                    promise?.fail(error)
                    errorCaught(context: context, error: error)
                    return
                }
            }
        }
        context.write(data, promise: promise)
        if case .end = part {
            removeRequestCodec(context: context)
        }
    }

    /// Right after the framer, the encoder first: outbound parts pass this handler, a head decoder if one is in (it
    /// watches request heads, so it must see them before they are bytes), the validator, then the encoder.
    private func insertRequestCodec(context: ChannelHandlerContext) throws {
        let codec = (encoder: HTTPRequestEncoder(), validator: NIOHTTPRequestHeadersValidator())
        let pipeline = context.pipeline.syncOperations
        let framer = try pipeline.handler(type: UpstreamResponseFramer.self)
        try pipeline.addHandler(codec.encoder, position: .after(framer))
        do {
            try pipeline.addHandler(codec.validator, position: .after(codec.encoder))
        } catch {
            pipeline.removeHandler(codec.encoder, promise: nil)
            throw error
        }
        requestCodec = codec
    }

    /// Both leave at once (neither holds anything between requests); the next request head brings new ones.
    private func removeRequestCodec(context: ChannelHandlerContext) {
        guard let codec = requestCodec else { return }
        requestCodec = nil
        let pipeline = context.pipeline.syncOperations
        pipeline.removeHandler(codec.validator, promise: nil)
        pipeline.removeHandler(codec.encoder, promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        readGate.read(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let delegate else {
            // Bytes on an idle pooled connection: the upstream broke the protocol; never reuse it.
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head) where head.status.code / 100 == 1 && head.status != .switchingProtocols:
            delegate.upstreamInformationalHead(head)
        case .head(let head):
            unansweredRequestMethod = nil
            bodyFraming = head.status == .switchingProtocols ? .upgrade : .body(HTTP1ResponseBody.framing(of: head))
            delegate.upstreamResponseHead(head)
        case .body:
            // The decoder only ever gets a head's bytes: a body from it means it saw the head end elsewhere.
            context.fireErrorCaught(HTTP1ResponseBody.Failure(reason: "the head decoder and the framer disagree"))
        case .end(let trailers):
            if case .body = bodyFraming {
                bodyFraming = nil
            }
            delegate.upstreamResponseEnd(trailers: trailers)
        }
    }

    /// How the body after the head that just passed is framed; nil when no final head passed or the response
    /// already ended with it.
    func takeBodyFraming() -> BodyFraming? {
        defer { bodyFraming = nil }
        return bodyFraming
    }

    /// Body bytes framed by `UpstreamResponseFramer`.
    func responseBody(_ buffer: ByteBuffer) {
        guard let delegate else {
            context?.close(promise: nil)
            return
        }
        delegate.upstreamResponseBody(buffer)
    }

    /// The body framed by `UpstreamResponseFramer` ended.
    func responseEnd(_ trailers: HTTPHeaders?) {
        delegate?.upstreamResponseEnd(trailers: trailers)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            delegate?.upstreamBecameWritable()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        report(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        report(UpstreamConnectionClosed())
        delegate = nil
        onInactive?()
        onInactive = nil
        context.fireChannelInactive()
    }

    private func report(_ error: any Error) {
        guard !failed else { return }
        failed = true
        delegate?.upstreamFailed(error)
    }
}

/// The upstream closed its connection before the response was complete.
struct UpstreamConnectionClosed: Error, CustomStringConvertible {
    var description: String { "upstream closed the connection" }
}
