import Logging
import NIOCore
import NIOHTTP1

/// One request/response exchange between a client and an upstream server: leases an upstream HTTP/1.1 connection,
/// sends the request up, streams the response down chunk by chunk, applies the route's timeouts and carries
/// backpressure both ways. Lives on the downstream connection's event loop; the upstream connection is opened on
/// the same loop, so nothing here needs a lock.
final class ProxyStream {
    private enum Phase {
        case connecting
        case awaitingHead
        case streaming
        /// The upstream answered a WebSocket upgrade with 101; the tunnel is set up once the codec is done.
        case upgrading
        case finished
    }

    let route: Route
    /// The request as sent upstream. Its headers are kept only until the response head arrives (a retry may need
    /// them before that); a long-lived stream does not carry them for its whole life.
    private var upstreamHead: HTTPRequestHead
    /// The request is a WebSocket handshake (HTTP/1.1 Upgrade or HTTP/2 extended CONNECT).
    private let isWebSocket: Bool
    private let pool: UpstreamConnectionPool
    private let eventLoop: any EventLoop
    /// The connection's logger, shared: the stream's own metadata is added only when something is logged, so an
    /// idle stream keeps no logger storage of its own.
    private let connectionLogger: Logger
    /// The HTTP/2 stream id, for logs; nil on HTTP/1.1.
    private let streamID: Int32?
    private var downstream: (any DownstreamResponder)?
    private var upstream: UpstreamConnection?

    private var phase = Phase.connecting
    /// Request body that arrived while the upstream connection was being opened (at most one read's worth:
    /// the downstream is paused meanwhile).
    private var pendingBody: [ByteBuffer] = []
    private var requestEnded = false
    private var requestFullySent = false
    /// Whether the upstream allows reusing its connection after this response.
    private var upstreamKeepAlive = false
    private var requestBodyBytes = 0
    private var attempts = 0

    /// Set when the response is an event stream (`text/event-stream`).
    private var eventStream: EventStreamFilter?
    /// A head held back until the upstream's first body byte (`sse.first_byte: upstream`).
    private var heldHead: HTTPResponseHead?
    /// When StreamGate last sent response bytes to the client (heartbeats included).
    private var lastClientWrite: NIODeadline
    /// The heartbeat came due in the middle of an event; it waits for the next upstream bytes.
    private var heartbeatWaitsForBoundary = false
    /// `max_lifetime` passed in the middle of an event: end at the next boundary.
    private var endsAtNextBoundary = false

    private let startedAt: NIODeadline
    private var lastActivity: NIODeadline
    private var headerDeadline: NIODeadline?
    /// One timer for every deadline of the stream; a scheduled callback (no promise, no closure per arm).
    private var timer: NIOScheduledCallback?
    private var timerDeadline: NIODeadline?

    init(
        route: Route,
        upstreamHead: HTTPRequestHead,
        isWebSocket: Bool = false,
        pool: UpstreamConnectionPool,
        eventLoop: any EventLoop,
        downstream: any DownstreamResponder,
        streamID: Int32? = nil,
        logger: Logger
    ) {
        self.route = route
        self.upstreamHead = upstreamHead
        self.isWebSocket = isWebSocket
        self.pool = pool
        self.eventLoop = eventLoop
        self.downstream = downstream
        self.connectionLogger = logger
        self.streamID = streamID
        let now = NIODeadline.now()
        self.startedAt = now
        self.lastActivity = now
        self.lastClientWrite = now
    }

    /// The logger with this stream's metadata; made on use (logging is rare on the hot path).
    private var logger: Logger {
        var logger = connectionLogger
        if let streamID {
            logger[metadataKey: "stream"] = "\(streamID)"
        }
        logger[metadataKey: "route"] = "\(route.logName)"
        logger[metadataKey: "upstream"] = "\(route.upstream.name)"
        return logger
    }

    // MARK: Downstream events

    func start() {
        armTimer()
        openUpstream()
    }

    func receiveRequestBody(_ buffer: ByteBuffer) {
        lastActivity = .now()
        requestBodyBytes += buffer.readableBytes
        guard let upstream, phase != .connecting else {
            pendingBody.append(buffer)
            downstream?.pauseRequestBody()
            return
        }
        upstream.write(.body(.byteBuffer(buffer)))
        if !upstream.channel.isWritable {
            // Pause before flushing: the flush may make the channel writable again at once, and that resume must
            // not be overtaken by this pause.
            downstream?.pauseRequestBody()
            upstream.flush()
        }
    }

    func receiveRequestEnd() {
        requestEnded = true
        guard let upstream, phase != .connecting, phase != .finished else { return }
        upstream.writeAndFlush(.end(nil))
        requestFullySent = true
    }

    /// The downstream finished one read: push what it delivered upstream.
    func flushRequest() {
        if phase != .connecting {
            upstream?.flush()
        }
    }

    /// The client side can take response bytes again.
    func downstreamBecameWritable() {
        guard phase == .streaming, downstream?.canTakeResponseBody ?? false else { return }
        upstream?.handler.resumeReading()
    }

    /// The client went away or reset the stream: the upstream connection is closed at once, never pooled.
    func downstreamClosed() {
        guard phase != .finished else { return }
        logger.debug("client went away; closing the upstream connection")
        upstream?.close()
        upstream = nil
        finish()
    }

    /// StreamGate's drain period is over and the connection is about to close: an event stream ends cleanly at
    /// its next event boundary (EventSource reconnects, with Last-Event-ID, to another instance); other
    /// responses are left to the close.
    func serverGoingAway() {
        guard phase == .streaming, let eventStream else { return }
        if eventStream.isAtEventBoundary {
            endStreaming(reason: "StreamGate is shutting down")
        } else {
            endsAtNextBoundary = true
        }
    }

    // MARK: Upstream connection

    private func openUpstream() {
        attempts += 1
        let group = route.upstream
        let server = pool.nextServer(of: group)
        if let idle = pool.takeIdle(group: group, server: server) {
            attach(idle)
            return
        }
        pool.connect(group: group, server: server).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let connection):
                guard phase == .connecting else {
                    connection.close()
                    return
                }
                attach(connection)
            case .failure(let error):
                guard phase == .connecting else { return }
                let address = ProxyServer.describe(group.addresses[server])
                if case ChannelError.connectTimeout = error {
                    fail(status: .gatewayTimeout, reason: "connect to \(address) timed out")
                } else {
                    fail(status: .badGateway, reason: "connect to \(address) failed: \(error)")
                }
            }
        }
    }

    private func attach(_ connection: UpstreamConnection) {
        upstream = connection
        connection.handler.delegate = self
        phase = .awaitingHead
        connection.write(.head(upstreamHead))
        for buffer in pendingBody {
            connection.write(.body(.byteBuffer(buffer)))
        }
        pendingBody.removeAll()
        if requestEnded {
            connection.write(.end(nil))
            requestFullySent = true
        }
        connection.flush()
        if route.config.timeouts.responseHeader > .zero {
            headerDeadline = .now() + TimeAmount(route.config.timeouts.responseHeader)
            armTimer()
        }
        if connection.channel.isWritable {
            downstream?.resumeRequestBody()
        }
    }

    /// A reused keep-alive connection that dies before any response byte may have been closed by the upstream
    /// just as it was leased; a request without a body is then retried once on a fresh connection.
    private func canRetry(_ connection: UpstreamConnection) -> Bool {
        connection.isReused && attempts == 1 && requestBodyBytes == 0 && Self.isIdempotent(upstreamHead.method)
    }

    /// RFC 9110 section 9.2.2.
    private static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE: return true
        default: return false
        }
    }

    // MARK: Timeouts

    private enum Deadline {
        case responseHeader
        case idle
        case maxLifetime
        case heartbeat
    }

    private func nextDeadline() -> (NIODeadline, Deadline)? {
        let timeouts = route.config.timeouts
        var next: (NIODeadline, Deadline)?
        func consider(_ deadline: NIODeadline, _ kind: Deadline) {
            if let current = next, current.0 <= deadline { return }
            next = (deadline, kind)
        }
        if phase == .connecting || phase == .awaitingHead, let headerDeadline {
            consider(headerDeadline, .responseHeader)
        }
        if timeouts.idle > .zero {
            consider(lastActivity + TimeAmount(timeouts.idle), .idle)
        }
        if timeouts.maxLifetime > .zero && !endsAtNextBoundary {
            consider(startedAt + TimeAmount(timeouts.maxLifetime), .maxLifetime)
        }
        if let eventStream, phase == .streaming, !heartbeatWaitsForBoundary,
            eventStream.config.heartbeatInterval > .zero
        {
            let interval = TimeAmount(eventStream.config.heartbeatInterval)
            consider(Self.heartbeatSlot(after: lastClientWrite + interval, interval: interval), .heartbeat)
        }
        return next
    }

    /// The heartbeat time for a stream due at `due`: the nearest point of a grid shared by all streams (an eighth
    /// of the interval, at most 250 ms apart; no grid for intervals under 8 ms), so the heartbeats of streams due at about the same time fire in the
    /// same event-loop tick and leave each client connection in one write (one TLS record, one syscall) instead
    /// of one each. A heartbeat may so come up to half a step early, never more than half a step late, and a
    /// stream that stays idle gets them exactly one interval apart.
    static func heartbeatSlot(after due: NIODeadline, interval: TimeAmount) -> NIODeadline {
        // Below 8 ms a grid step would be under a millisecond: no point, and rounding could reach back before
        // the last write.
        guard interval.nanoseconds >= 8_000_000 else { return due }
        let step = UInt64(min(interval.nanoseconds / 8, 250_000_000))
        let nearest = (due.uptimeNanoseconds + step / 2) / step * step
        return .uptimeNanoseconds(nearest)
    }

    private func armTimer() {
        guard phase != .finished, let (deadline, _) = nextDeadline() else { return }
        if let timerDeadline, timerDeadline <= deadline { return }
        if let timer {
            eventLoop.assumeIsolated().cancelScheduledCallback(timer)
        }
        timerDeadline = deadline
        timer = try? eventLoop.assumeIsolated().scheduleCallback(at: deadline, handler: self)
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard phase != .finished, let (deadline, kind) = nextDeadline() else { return }
        guard deadline <= .now() else {
            armTimer()
            return
        }
        let timeouts = route.config.timeouts
        switch kind {
        case .heartbeat:
            sendHeartbeat()
        case .responseHeader:
            fail(status: .gatewayTimeout, reason: "no response head within \(timeouts.responseHeader.configText)")
        case .idle where phase != .streaming:
            fail(status: .gatewayTimeout, reason: "upstream idle for \(timeouts.idle.configText) before responding")
        case .maxLifetime where phase != .streaming:
            fail(
                status: .gatewayTimeout,
                reason: "max_lifetime \(timeouts.maxLifetime.configText) reached before a response"
            )
        case .idle:
            endStreaming(reason: "no bytes for \(timeouts.idle.configText) (idle timeout)")
        case .maxLifetime:
            if let eventStream, !eventStream.isAtEventBoundary {
                endsAtNextBoundary = true
            } else {
                endStreaming(reason: "max_lifetime \(timeouts.maxLifetime.configText) reached")
            }
        }
        armTimer()
    }

    private func sendHeartbeat() {
        guard let downstream, let heartbeat = eventStream?.heartbeat() else {
            heartbeatWaitsForBoundary = true
            return
        }
        flushHeldHead()
        downstream.sendResponseBody(heartbeat)
        downstream.flushResponse()
        lastClientWrite = .now()
    }

    /// Ends a response in progress because of a timeout. An event stream ends cleanly (HTTP/1.1 terminating chunk,
    /// HTTP/2 END_STREAM), so EventSource reconnects with Last-Event-ID; any other response is cut, so the client
    /// can tell it is incomplete.
    private func endStreaming(reason: String) {
        upstream?.close()
        upstream = nil
        flushHeldHead()
        let downstream = self.downstream
        finish()
        if eventStream != nil {
            logger.info("event stream ended: \(reason)")
            downstream?.sendResponseEnd()
            downstream?.flushResponse()
        } else {
            logger.info("stream cut: \(reason)")
            downstream?.abortResponse()
        }
    }

    private func flushHeldHead() {
        if let heldHead {
            self.heldHead = nil
            downstream?.sendResponseHead(heldHead)
        }
    }

    // MARK: Ending

    /// Ends a stream that has not sent a response head with a local error response.
    private func fail(status: HTTPResponseStatus, reason: String) {
        logger.warning("\(status.code) \(status.reasonPhrase): \(reason)")
        upstream?.close()
        upstream = nil
        let downstream = self.downstream
        finish()
        if let downstream {
            let (head, body) = LocalResponse.make(status: status, reason: reason, allocator: ByteBufferAllocator())
            downstream.sendResponseHead(head)
            downstream.sendResponseBody(body)
            downstream.sendResponseEnd()
            downstream.flushResponse()
        }
    }

    private func finish() {
        phase = .finished
        if let timer {
            eventLoop.assumeIsolated().cancelScheduledCallback(timer)
        }
        timer = nil
        pendingBody.removeAll()
        let downstream = self.downstream
        self.downstream = nil
        downstream?.streamFinished()
    }
}

extension ProxyStream: UpstreamResponseDelegate {
    func upstreamResponseHead(_ head: HTTPResponseHead) {
        guard phase == .awaitingHead else { return }
        upstreamHead.headers = HTTPHeaders()
        if isWebSocket && head.status == .switchingProtocols {
            phase = .upgrading
            // The response decoder is still inside this read; switch the pipelines once it has returned.
            eventLoop.assumeIsolated().execute { [self] in
                completeUpgrade(ResponseHeaderRewriter.downstreamHead(for: head))
            }
            return
        }
        phase = .streaming
        lastActivity = .now()
        upstreamKeepAlive = head.isKeepAlive
        let clientHead = ResponseHeaderRewriter.downstreamHead(for: head)
        guard EventStreamFilter.isEventStream(head), let downstream else {
            downstream?.sendResponseHead(clientHead)
            return
        }
        let allocator = upstream?.channel.allocator ?? ByteBufferAllocator()
        var filter = EventStreamFilter(config: route.config.sse, heartbeat: route.heartbeatBytes)
        let eventHead = EventStreamFilter.rewrite(clientHead)
        if filter.config.firstByte == .upstream && filter.config.retry == nil {
            heldHead = eventHead
        } else {
            downstream.sendResponseHead(eventHead)
            if let preamble = filter.preamble(allocator: allocator) {
                downstream.sendResponseBody(preamble)
            }
            downstream.flushResponse()
            lastClientWrite = .now()
        }
        eventStream = filter
        armTimer()
    }

    func upstreamResponseBody(_ buffer: ByteBuffer) {
        guard phase == .streaming, let downstream else { return }
        let now = NIODeadline.now()
        lastActivity = now
        lastClientWrite = now
        guard eventStream != nil else {
            downstream.sendResponseBody(buffer)
            if !downstream.canTakeResponseBody {
                upstream?.handler.pauseReading()
            }
            return
        }
        flushHeldHead()
        // Mutated in place through the optional: no copy of the scanner's state per chunk.
        let allocator = upstream?.channel.allocator ?? ByteBufferAllocator()
        if endsAtNextBoundary {
            // max_lifetime has passed: forward up to the first boundary in this chunk and end there.
            let (forwarded, reachedBoundary) =
                eventStream?.forwardToBoundary(buffer, allocator: allocator) ?? (buffer, false)
            if forwarded.readableBytes > 0 {
                downstream.sendResponseBody(forwarded)
            }
            if reachedBoundary {
                downstream.flushResponse()
                endStreaming(reason: "max_lifetime \(route.config.timeouts.maxLifetime.configText) reached")
            }
            return
        }
        let forwarded = eventStream?.forward(buffer, allocator: allocator) ?? buffer
        if forwarded.readableBytes > 0 {
            downstream.sendResponseBody(forwarded)
        }
        if heartbeatWaitsForBoundary {
            heartbeatWaitsForBoundary = false
            armTimer()
        }
        if !downstream.canTakeResponseBody {
            upstream?.handler.pauseReading()
        }
    }

    /// Hands the client and upstream connections to a `WebSocketTunnel`; this stream's work ends here.
    private func completeUpgrade(_ head: HTTPResponseHead) {
        guard phase == .upgrading, let upstream, let downstream else { return }
        let upstreamEndpoint: ChannelTunnelHandler
        do {
            upstreamEndpoint = try upstream.convertToTunnel()
        } catch {
            logger.error("cannot switch the upstream connection to WebSocket: \(error)")
            upstream.close()
            self.upstream = nil
            downstream.abortResponse()
            finish()
            return
        }
        self.upstream = nil
        guard let downstreamEndpoint = downstream.beginTunnel(upstreamHead: head) else {
            upstream.close()
            finish()
            return
        }
        logger.debug("WebSocket tunnel open")
        WebSocketTunnel(
            downstream: downstreamEndpoint,
            upstream: upstreamEndpoint,
            config: route.config.websocket,
            eventLoop: eventLoop,
            allocator: upstream.channel.allocator,
            logger: logger
        ).start()
        finish()
    }

    func upstreamResponseEnd() {
        guard phase == .streaming else { return }
        flushHeldHead()
        if let upstream {
            if upstreamKeepAlive && requestFullySent {
                pool.release(upstream, group: route.upstream)
            } else {
                upstream.close()
            }
            self.upstream = nil
        }
        // Finished before the end goes out: an HTTP/2 stream closes while it is flushed, and that close must not
        // read as the client going away.
        let downstream = self.downstream
        finish()
        downstream?.sendResponseEnd()
        downstream?.flushResponse()
    }

    func upstreamReadComplete() {
        downstream?.flushResponse()
    }

    func upstreamBecameWritable() {
        if phase != .finished {
            downstream?.resumeRequestBody()
        }
    }

    func upstreamFailed(_ error: any Error) {
        switch phase {
        case .finished, .connecting:
            return
        case .awaitingHead:
            if let upstream, canRetry(upstream) {
                logger.debug("reused upstream connection closed before responding; retrying on a new one")
                upstream.close()
                self.upstream = nil
                phase = .connecting
                requestFullySent = false
                openUpstream()
                return
            }
            fail(status: .badGateway, reason: "upstream failed before responding: \(error)")
        case .streaming, .upgrading:
            logger.warning("upstream failed mid-response: \(error); cutting the client stream")
            upstream?.close()
            upstream = nil
            downstream?.abortResponse()
            finish()
        }
    }
}

extension ProxyStream: NIOScheduledCallbackHandler {
    func handleScheduledCallback(eventLoop: some EventLoop) {
        timerFired()
    }

    func didCancelScheduledCallback(eventLoop: some EventLoop) {}
}
