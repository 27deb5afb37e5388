import CNghttp2
import Logging
import NIOCore
import NIOHTTP1

/// Serves one HTTP/2 connection (RFC 9113) with libnghttp2 driven in memory: bytes from the socket (or the TLS
/// handler) go into `nghttp2_session_mem_recv`, frames come out of `nghttp2_session_mem_send` on flush. Client
/// streams are handed to the delegate as `HTTP2ServerStream`s. Knows nothing of routing or upstreams.
public final class HTTP2ServerConnectionHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private struct PendingRequest {
        var head = HTTP2RequestHead()
        var headerListSize = 0
    }

    private let settings: HTTP2ServerSettings
    private let delegate: any HTTP2ServerConnectionDelegate
    private let logger: Logger
    private var session: NGHTTP2Session?
    private var context: ChannelHandlerContext?
    private var pendingRequests: [Int32: PendingRequest] = [:]
    private var streams: [Int32: HTTP2ServerStream] = [:]
    /// True while nghttp2 is running (its callbacks may ask for a flush, which must wait until it returns).
    private var inSession = false
    private var flushRequested = false
    private var flushScheduled = false
    private var streamsWithCapacity: [HTTP2ServerStream] = []
    private var goingAway = false
    /// The GOAWAY naming the last stream went out: the connection closes once its streams are done.
    private var finalGoawaySent = false
    /// Client stream ids skipped so far (HEADERS on one of them is a connection error).
    private var streamIDs = ClientStreamIDLedger()
    private var resetRateLimit = StreamResetRateLimit()
    /// The error a callback found inside nghttp2's processing; it makes `mem_recv` fail and is answered after.
    private var connectionError: HTTP2ConnectionError?
    /// A GOAWAY with an error went out: nothing more is read.
    private var failed = false

    /// Time between the shutdown notice and the final GOAWAY: about one round trip on any sane network.
    private static let shutdownNoticeGrace = TimeAmount.milliseconds(200)

    /// Output produced per socket write, at most.
    private static let outputChunk = 64 * 1024
    /// Room for one write: the chunk plus one more frame that may start just below it (16 KiB payload, 9-byte
    /// header), so the buffer never grows (and copies) while frames are appended.
    private static let outputCapacity = outputChunk + 16 * 1024 + 64
    /// Frames produced in the current write, while `flushOutput` runs; DATA payloads go straight into it.
    private var output = ByteBuffer()

    public init(settings: HTTP2ServerSettings, delegate: any HTTP2ServerConnectionDelegate, logger: Logger) {
        self.settings = settings
        self.delegate = delegate
        self.logger = logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        do {
            session = try NGHTTP2Session(userData: Unmanaged.passUnretained(self).toOpaque(), settings: settings)
        } catch {
            logger.error("HTTP/2: \(error)")
            context.close(promise: nil)
            return
        }
        if context.channel.isActive {
            flushOutput()  // our SETTINGS
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        closeAllStreams(errorCode: NGHTTP2_CANCEL.rawValue)
        session = nil
        self.context = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        flushOutput()
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session, !failed else { return }
        let buffer = unwrapInboundIn(data)
        inSession = true
        do {
            try session.receive(buffer)
        } catch {
            inSession = false
            fail(connectionError ?? HTTP2ConnectionError(receiving: error))
            return
        }
        inSession = false
        flushOutput()
    }

    /// Ends the connection for a client's error: GOAWAY with the code and reason, then close.
    private func fail(_ error: HTTP2ConnectionError) {
        guard let context, let session, !failed else { return }
        failed = true
        logger.info(
            "HTTP/2 connection error from \(context.channel.remoteAddress?.description ?? "client"): \(error.reason); sending GOAWAY \(error.codeName)"
        )
        delegate.http2ConnectionFailed(error)
        session.submitGoaway(error)
        flushOutput()
        context.close(promise: nil)
    }

    /// A GOAWAY went out. With an error code and none of StreamGate's own failures behind it, nghttp2 ended the
    /// session itself: said in the log (and to the delegate) as any other connection error is.
    func goawaySent(errorCode: UInt32) {
        guard errorCode != NGHTTP2_NO_ERROR.rawValue, !failed else { return }
        failed = true
        let error = HTTP2ConnectionError(libraryGoaway: errorCode)
        logger.info(
            "HTTP/2 connection error from \(context?.channel.remoteAddress?.description ?? "client"): \(error.reason); sent GOAWAY \(error.codeName)"
        )
        delegate.http2ConnectionFailed(error)
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            flushOutput()
        }
        context.fireChannelWritabilityChanged()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        closeAllStreams(errorCode: NGHTTP2_CANCEL.rawValue)
        context.fireChannelInactive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case IdleStateHandler.IdleStateEvent.read = event, streams.isEmpty {
            logger.debug("closing idle HTTP/2 connection")
            goingAway = true
            finalGoawaySent = true
            session?.submitGracefulGoaway()
            flushOutput()
            closeIfDone()
            return
        }
        if event is ChannelShouldQuiesceEvent {
            guard !goingAway else { return }
            goingAway = true
            // Two GOAWAYs, as RFC 9113 section 6.8 recommends: a notice first, the final last-stream id a moment
            // later, so requests already in flight toward us are not refused.
            session?.submitShutdownNotice()
            flushOutput()
            context.eventLoop.assumeIsolated().scheduleTask(in: Self.shutdownNoticeGrace) { [weak self] in
                guard let self else { return }
                self.session?.submitGracefulGoaway()
                self.finalGoawaySent = true
                self.flushOutput()
                self.closeIfDone()
            }
            return
        }
        delegate.http2ConnectionReceived(userEvent: event)
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("HTTP/2 connection closed on error: \(error)")
        context.close(promise: nil)
    }

    // MARK: Output

    /// Writes every frame nghttp2 has ready, while the channel is writable. Deferred when called from inside
    /// nghttp2 (a callback); runs again when the channel becomes writable.
    func flushOutput() {
        if inSession {
            flushRequested = true
            return
        }
        guard let context, let session else { return }
        repeat {
            flushRequested = false
            inSession = true
            var wrote = false
            while context.channel.isWritable && session.wantsWrite {
                output = context.channel.allocator.buffer(capacity: Self.outputCapacity)
                do {
                    while output.readableBytes < Self.outputChunk, let frames = try session.nextOutput() {
                        output.writeBytes(frames)
                    }
                } catch {
                    logger.info("HTTP/2 session failed: \(error)")
                    inSession = false
                    context.close(promise: nil)
                    return
                }
                guard output.readableBytes > 0 else { break }
                let full = output.readableBytes >= Self.outputChunk
                context.write(wrapOutboundOut(output), promise: nil)
                output = ByteBuffer()
                wrote = true
                if full {
                    context.flush()
                    wrote = false
                }
            }
            if wrote {
                context.flush()
            }
            inSession = false
            let ready = streamsWithCapacity
            streamsWithCapacity.removeAll()
            for stream in ready where !stream.closed {
                stream.observer?.http2ResponseCapacityAvailable()
            }
        } while flushRequested
        if !session.wantsRead && !session.wantsWrite {
            context.close(promise: nil)
        }
    }

    /// Asks for a flush at the end of this event-loop tick, so the DATA of every stream that got bytes in the
    /// same tick (many upstreams firing at once) leaves in one write: one TLS record, one syscall. The task holds
    /// the handler until it runs, at the end of this tick (a weak capture would give the handler a side table,
    /// and every stream's reference to it the slow path on each event).
    func scheduleFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            self.flushScheduled = false
            self.flushOutput()
        }
    }

    private func closeIfDone() {
        guard finalGoawaySent, streams.isEmpty, let context, let session, !session.wantsWrite else { return }
        context.close(promise: nil)
    }

    // MARK: Requests to the session (from HTTP2ServerStream)

    func submitResponse(_ stream: HTTP2ServerStream, status: Int, headers: HTTPHeaders, withBody: Bool) {
        guard let session else { return }
        let result = session.submitResponse(
            streamID: stream.streamID,
            status: status,
            headers: headers,
            withBody: withBody
        )
        if result != 0 {
            logger.info("HTTP/2: cannot submit response on stream \(stream.streamID): \(result)")
        }
    }

    func submitInformational(_ stream: HTTP2ServerStream, status: Int, headers: HTTPHeaders) {
        guard let session else { return }
        let result = session.submitInformational(streamID: stream.streamID, status: status, headers: headers)
        if result < 0 {
            logger.info("HTTP/2: cannot submit a \(status) on stream \(stream.streamID): \(result)")
        }
    }

    func resumeData(_ stream: HTTP2ServerStream) {
        session?.resumeData(streamID: stream.streamID)
    }

    func resetStream(_ stream: HTTP2ServerStream, errorCode: UInt32) {
        session?.submitReset(streamID: stream.streamID, errorCode: errorCode)
        flushOutput()
    }

    func consume(_ stream: HTTP2ServerStream, bytes: Int) {
        session?.consume(streamID: stream.streamID, bytes: bytes)
        flushOutput()
    }

    // MARK: Events from nghttp2 (NGHTTP2Callbacks)

    /// Checks a frame's header before nghttp2 processes it: HEADERS on a stream id the client skipped, and the
    /// rate of RST_STREAM. False fails the connection (`connectionError` says why).
    func beginFrame(type: UInt8, streamID: Int32) -> Bool {
        switch UInt32(type) {
        case NGHTTP2_HEADERS.rawValue where streamID > 0 && streamID & 1 == 1:
            if streamIDs.headersReceived(streamID: streamID) == .skipped {
                connectionError = .protocolError(
                    "HEADERS on stream \(streamID), closed when the client opened stream \(streamIDs.highestOpened)"
                )
                return false
            }
        case NGHTTP2_RST_STREAM.rawValue:
            if !resetRateLimit.allowReset() {
                connectionError = .enhanceYourCalm(
                    "more than \(StreamResetRateLimit.defaultBurst) RST_STREAM at once or \(StreamResetRateLimit.defaultPerSecond) a second"
                )
                return false
            }
        default:
            break
        }
        return true
    }

    func beginRequest(streamID: Int32) {
        pendingRequests[streamID] = PendingRequest()
    }

    /// Records one request header. Past the header list limit the fields are dropped (HPACK still decodes them,
    /// so the connection's state stays right) and the head is marked for a 431; true unless the stream is unknown.
    func receiveHeader(streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard var pending = pendingRequests[streamID] else { return true }
        guard !pending.head.headerListTooLarge else { return true }
        pending.headerListSize += name.count + value.count + 32
        guard pending.headerListSize <= settings.maxHeaderListSize else {
            logger.info("HTTP/2 stream \(streamID): request header list over \(settings.maxHeaderListSize) bytes")
            pending.head.headerListTooLarge = true
            pending.head.headers = HTTPHeaders()
            pendingRequests[streamID] = pending
            return true
        }
        let valueText = String(decoding: value, as: UTF8.self)
        if name.first == UInt8(ascii: ":") {
            switch String(decoding: name, as: UTF8.self) {
            case ":method": pending.head.method = valueText
            case ":scheme": pending.head.scheme = valueText
            case ":authority": pending.head.authority = valueText
            case ":path": pending.head.path = valueText
            case ":protocol": pending.head.extendedProtocol = valueText
            default: break
            }
        } else {
            pending.head.headers.add(name: String(decoding: name, as: UTF8.self), value: valueText)
        }
        pendingRequests[streamID] = pending
        return true
    }

    func completeRequestHead(streamID: Int32, endStream: Bool) {
        guard var pending = pendingRequests.removeValue(forKey: streamID) else { return }
        pending.head.endStream = endStream
        let stream = HTTP2ServerStream(streamID: streamID, connection: self, queueHighWatermark: settings.streamQueueBytes)
        streams[streamID] = stream
        delegate.http2StreamOpened(stream, head: pending.head)
        if endStream {
            stream.observer?.http2RequestEnd()
        }
    }

    func endRequest(streamID: Int32) {
        streams[streamID]?.observer?.http2RequestEnd()
    }

    func receiveData(streamID: Int32, bytes: UnsafeRawBufferPointer) {
        guard let stream = streams[streamID], let observer = stream.observer, let context else {
            session?.consume(streamID: streamID, bytes: bytes.count)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        stream.receivedRequestBytes(bytes.count)
        observer.http2RequestBody(buffer)
    }

    func closeStream(streamID: Int32, errorCode: UInt32) {
        pendingRequests[streamID] = nil
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        let unconsumed = stream.markClosed()
        if unconsumed > 0 {
            session?.consumeConnection(bytes: unconsumed)
        }
        stream.takeObserver()?.http2StreamClosed(errorCode: errorCode)
        closeIfDone()
    }

    /// How many queued bytes the next DATA frame of `streamID` carries (at most `maximum`), with END_STREAM when
    /// they are the last; DEFERRED when nothing is queued and the response goes on.
    func responseDataLength(streamID: Int32, maximum: Int, flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let stream = streams[streamID] else {
            return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        let length = min(stream.queuedBytes, maximum)
        if length == stream.queuedBytes && stream.responseEnded {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            if let trailers = stream.trailers, let session {
                // The last DATA frame leaves the stream open; the trailers' HEADERS frame ends it.
                flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                let result = session.submitTrailer(streamID: streamID, headers: trailers)
                if result != 0 {
                    logger.info("HTTP/2: cannot submit trailers on stream \(streamID): \(result)")
                    flags.pointee &= ~NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                }
            }
        } else if length == 0 {
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        if length > 0 {
            flags.pointee |= NGHTTP2_DATA_FLAG_NO_COPY.rawValue
        }
        return length
    }

    /// Appends one DATA frame of `streamID` to the output: `frameHeader`, then `length` bytes from its queue.
    func writeResponseData(streamID: Int32, frameHeader: UnsafeRawBufferPointer, length: Int) -> DataFrameResult {
        guard let stream = streams[streamID], stream.queuedBytes >= length else {
            return .missing
        }
        let wasFull = !stream.canTakeResponseBody
        output.writeBytes(frameHeader)
        _ = stream.dequeue(length, into: &output)
        if wasFull && stream.canTakeResponseBody {
            streamsWithCapacity.append(stream)
        }
        // nghttp2 goes on to the next NO_COPY frame within the same mem_send call; stop it once this write is
        // full, so a write stays one chunk and writability is checked between chunks.
        return output.readableBytes >= Self.outputChunk ? .writeFull : .written
    }

    /// What became of a DATA frame nghttp2 asked for.
    enum DataFrameResult {
        case written
        /// Written, and the output is full: nghttp2 should return before producing more.
        case writeFull
        /// The stream no longer holds the bytes promised.
        case missing
    }

    private func closeAllStreams(errorCode: UInt32) {
        let open = streams.values
        streams.removeAll()
        pendingRequests.removeAll()
        for stream in open {
            _ = stream.markClosed()
            stream.takeObserver()?.http2StreamClosed(errorCode: errorCode)
        }
    }
}
