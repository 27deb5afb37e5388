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
        case finished
    }

    let route: Route
    private let upstreamHead: HTTPRequestHead
    private let pool: UpstreamConnectionPool
    private let eventLoop: any EventLoop
    private var logger: Logger
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

    private let startedAt: NIODeadline
    private var lastActivity: NIODeadline
    private var headerDeadline: NIODeadline?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(
        route: Route,
        upstreamHead: HTTPRequestHead,
        pool: UpstreamConnectionPool,
        eventLoop: any EventLoop,
        downstream: any DownstreamResponder,
        logger: Logger
    ) {
        self.route = route
        self.upstreamHead = upstreamHead
        self.pool = pool
        self.eventLoop = eventLoop
        self.downstream = downstream
        var logger = logger
        logger[metadataKey: "route"] = "\(route.logName)"
        logger[metadataKey: "upstream"] = "\(route.upstream.name)"
        self.logger = logger
        let now = NIODeadline.now()
        self.startedAt = now
        self.lastActivity = now
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
            upstream.flush()
            downstream?.pauseRequestBody()
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
                let address = group.addresses[server]
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

    private func nextDeadline() -> (NIODeadline, String)? {
        let timeouts = route.config.timeouts
        var candidates: [(NIODeadline, String)] = []
        if phase == .connecting || phase == .awaitingHead, let headerDeadline {
            candidates.append((headerDeadline, "no response head within \(timeouts.responseHeader)"))
        }
        if timeouts.idle > .zero {
            candidates.append((lastActivity + TimeAmount(timeouts.idle), "idle for \(timeouts.idle)"))
        }
        if timeouts.maxLifetime > .zero {
            candidates.append((startedAt + TimeAmount(timeouts.maxLifetime), "max_lifetime \(timeouts.maxLifetime) reached"))
        }
        return candidates.min { $0.0 < $1.0 }
    }

    private func armTimer() {
        guard phase != .finished, let (deadline, _) = nextDeadline() else { return }
        if let timerDeadline, timerDeadline <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard phase != .finished, let (deadline, reason) = nextDeadline() else { return }
        guard deadline <= .now() else {
            armTimer()
            return
        }
        if phase == .streaming {
            logger.info("stream ended: \(reason)")
            upstream?.close()
            upstream = nil
            downstream?.abortResponse()
            finish()
        } else {
            fail(status: .gatewayTimeout, reason: "upstream timed out: \(reason)")
        }
    }

    // MARK: Ending

    /// Ends a stream that has not sent a response head with a local error response.
    private func fail(status: HTTPResponseStatus, reason: String) {
        logger.warning("\(status.code) \(status.reasonPhrase): \(reason)")
        upstream?.close()
        upstream = nil
        if let downstream {
            let (head, body) = LocalResponse.make(status: status, reason: reason, allocator: ByteBufferAllocator())
            downstream.sendResponseHead(head)
            downstream.sendResponseBody(body)
            downstream.sendResponseEnd()
            downstream.flushResponse()
        }
        finish()
    }

    private func finish() {
        phase = .finished
        timer?.cancel()
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
        phase = .streaming
        lastActivity = .now()
        downstream?.sendResponseHead(ResponseHeaderRewriter.downstreamHead(for: head))
        upstreamKeepAlive = head.isKeepAlive
    }

    func upstreamResponseBody(_ buffer: ByteBuffer) {
        guard phase == .streaming, let downstream else { return }
        lastActivity = .now()
        downstream.sendResponseBody(buffer)
        if !downstream.canTakeResponseBody {
            upstream?.handler.pauseReading()
        }
    }

    func upstreamResponseEnd() {
        guard phase == .streaming else { return }
        downstream?.sendResponseEnd()
        downstream?.flushResponse()
        if let upstream {
            if upstreamKeepAlive && requestFullySent {
                pool.release(upstream, group: route.upstream)
            } else {
                upstream.close()
            }
            self.upstream = nil
        }
        finish()
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
        case .streaming:
            logger.warning("upstream failed mid-response: \(error); cutting the client stream")
            upstream?.close()
            upstream = nil
            downstream?.abortResponse()
            finish()
        }
    }
}
