import Logging
import NIOCore

/// The request-head limits of an HTTP/1.1 connection, in front of NIO's parser: a head (request line and fields)
/// larger than `limits.max_header_bytes` gets 431, one not complete `limits.header_timeout` after the connection
/// opened (its first request) or after its first byte (later ones) gets 408; either closes the connection (a
/// slowloris client holds nothing for long). Only head bytes are counted: from a head's end until its response has
/// ended, bytes pass untouched. Told by `HTTP1DownstreamHandler` when the next head may begin, and by
/// `ParsedHeadNotifier` when NIO's decoder has parsed one (a pipelined request's head may be parsed while an
/// earlier response is still going out; its body then is not a head).
final class RequestHeadGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let maxBytes: Int
    private let timeout: TimeAmount
    private let connection: LiveConnection
    private let logger: Logger
    /// When the first head must be complete (accept + header_timeout); later heads get theirs at their first byte.
    private var firstDeadline: NIODeadline?
    private var context: ChannelHandlerContext?
    /// Waiting for (or inside) a request head.
    private var expectingHead = true
    private var headBytes = 0
    /// Bytes on the current line of the head, CR not counted: a line feed with none ends the head.
    private var lineBytes = 0
    private var sawRequestLine = false
    private var timer: Scheduled<Void>?
    private var rejected = false
    /// Heads NIO's decoder has parsed, and responses that have ended: more of the first means a pipelined request
    /// is already past its head.
    private var headsParsed = 0
    private var responsesEnded = 0

    init(maxBytes: Int, timeout: TimeAmount, acceptedAt: NIODeadline, connection: LiveConnection, logger: Logger) {
        self.maxBytes = maxBytes
        self.timeout = timeout
        self.connection = connection
        self.logger = logger
        self.firstDeadline = timeout > .zero ? acceptedAt + timeout : nil
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let firstDeadline {
            arm(at: firstDeadline)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !rejected else { return }
        let buffer = unwrapInboundIn(data)
        guard expectingHead else {
            context.fireChannelRead(data)
            return
        }
        if timer == nil && headBytes == 0 && timeout > .zero && buffer.readableBytes > 0 {
            arm(at: .now() + timeout)
        }
        let (consumed, complete) = scan(buffer)
        headBytes += consumed
        if headBytes > maxBytes {
            reject(.requestHeaderFieldsTooLarge, reason: "request head over \(maxBytes) bytes", limit: .maxHeaderBytes)
            return
        }
        if complete {
            expectingHead = false
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    /// The response to the current request has ended and the connection stays open: what comes next is a head,
    /// unless the decoder has parsed the next one already (pipelining).
    func nextHeadMayBegin() {
        responsesEnded += 1
        expectingHead = headsParsed <= responsesEnded
        headBytes = 0
        lineBytes = 0
        sawRequestLine = false
    }

    /// NIO's decoder has parsed a whole request head: whatever the scan thought, this head is over.
    func headParsed() {
        headsParsed += 1
        guard headsParsed > responsesEnded, expectingHead else { return }
        expectingHead = false
        timer?.cancel()
        timer = nil
    }

    /// How many bytes of `buffer` belong to the head, and whether the head ends in it.
    private func scan(_ buffer: ByteBuffer) -> (Int, Bool) {
        buffer.withUnsafeReadableBytes { bytes in
            for (index, byte) in bytes.enumerated() {
                switch byte {
                case UInt8(ascii: "\n"):
                    if lineBytes == 0 && sawRequestLine {
                        return (index + 1, true)
                    }
                    sawRequestLine = sawRequestLine || lineBytes > 0
                    lineBytes = 0
                case UInt8(ascii: "\r"):
                    break
                default:
                    lineBytes += 1
                }
                if headBytes + index >= maxBytes {
                    return (index + 1, false)
                }
            }
            return (bytes.count, false)
        }
    }

    private func arm(at deadline: NIODeadline) {
        guard let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            guard expectingHead, !rejected else { return }
            let seconds = Double(timeout.nanoseconds) / 1e9
            reject(.requestTimeout, reason: "request head not complete within \(seconds)s", limit: .headerTimeout)
        }
    }

    /// Answers `status` in raw HTTP/1.1 (NIO's encoder may be mid-response to nothing: no request was parsed),
    /// counts the limit, logs, and closes.
    private func reject(_ status: HTTPStatusLine, reason: String, limit: LimitKind) {
        guard let context, !rejected else { return }
        rejected = true
        timer?.cancel()
        timer = nil
        logger.info("\(status.code) \(status.phrase): \(reason); closing the connection")
        connection.limitHit(limit)
        let body = reason + "\n"
        var response = context.channel.allocator.buffer(capacity: 160 + body.utf8.count)
        response.writeString(
            "HTTP/1.1 \(status.code) \(status.phrase)\r\ncontent-type: text/plain; charset=utf-8\r\n"
                + "content-length: \(body.utf8.count)\r\nconnection: close\r\n\r\n\(body)"
        )
        context.writeAndFlush(wrapOutboundOut(response)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

/// The two statuses `RequestHeadGuard` answers with.
struct HTTPStatusLine {
    let code: Int
    let phrase: String

    static let requestHeaderFieldsTooLarge = HTTPStatusLine(code: 431, phrase: "Request Header Fields Too Large")
    static let requestTimeout = HTTPStatusLine(code: 408, phrase: "Request Timeout")
}
