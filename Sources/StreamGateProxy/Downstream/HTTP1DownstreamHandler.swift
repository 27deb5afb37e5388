import Logging
import NIOCore
import NIOHTTP1

/// Serves one downstream HTTP/1.1 connection: passes each request head through `StreamAdmission`, turns each
/// admitted request into a `ProxyStream` (one at a time; NIO's pipelining handler queues the next), writes the
/// stream's response back, and gates socket reads so a request body never outruns the upstream.
final class HTTP1DownstreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let proxy: ProxyContext
    private let admission: StreamAdmission
    private let connection: LiveConnection
    private var logger: Logger
    private var context: ChannelHandlerContext?

    private var stream: (any ClientStream)?
    private var requestHead: HTTPRequestHead?
    private var requestEnded = false
    /// The current response is StreamGate's own (no upstream read the body; the pipeline handler drains it).
    private var answeredLocally = false
    /// Whether the connection stays open after the current response.
    private var keepAlive = true
    private var readGate = ReadGate()

    /// The head limits in front of the decoder: told when the next head may begin, removed at an upgrade.
    private let headGuard: RequestHeadGuard?
    private let slowConsumerTimeout: TimeAmount

    init(
        proxy: ProxyContext,
        scheme: String,
        connection: LiveConnection,
        headGuard: RequestHeadGuard? = nil,
        slowConsumerTimeout: TimeAmount = .zero,
        logger: Logger
    ) {
        self.headGuard = headGuard
        self.slowConsumerTimeout = slowConsumerTimeout
        self.proxy = proxy
        self.admission = StreamAdmission(rewriter: RequestHeaderRewriter(scheme: scheme))
        self.connection = connection
        self.logger = logger
        connection.protocolName = "http/1.1"
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            receiveHead(head, context: context)
        case .body(let buffer):
            stream?.receiveRequestBody(buffer)
        case .end:
            requestEnded = true
            stream?.receiveRequestEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        stream?.flushRequest()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stream?.downstreamBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Malformed requests were already answered 400 by NIO's protocol error handler; nothing more can be read
        // from this connection.
        logger.info("closing the connection: \(error)")
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let goingAway = event as? ProxyGoingAwayEvent {
            keepAlive = false
            if let stream {
                stream.serverGoingAway(outcome: goingAway.outcome)
            } else if requestHead == nil {
                context.close(promise: nil)
                return
            }
        }
        if case IdleStateHandler.IdleStateEvent.read = event, stream == nil, requestHead == nil {
            logger.debug("closing idle keep-alive connection")
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let stream = self.stream
        self.stream = nil
        stream?.downstreamClosed()
        context.fireChannelInactive()
    }

    private func receiveHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        requestHead = head
        requestEnded = false
        answeredLocally = false
        keepAlive = head.isKeepAlive
        let request = AdmissionRequest(http1: head, clientAddress: context.channel.remoteAddress)
        if request.isWebSocket {
            // The decoder stops at an upgrade request: whatever the answer, the connection ends after it.
            keepAlive = false
        }
        switch admission.admit(request, routes: proxy.routes.current(on: context.eventLoop)) {
        case .local(let status, let reason):
            respondLocally(status: status, reason: reason, head: head)
        case .proxy(let route, let upstreamHead, let isWebSocket, let host):
            if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))),
                    promise: nil
                )
            }
            let stream = proxy.makeStream(
                route: route,
                upstreamHead: upstreamHead,
                isWebSocket: isWebSocket,
                eventLoop: context.eventLoop,
                downstream: self,
                connection: connection,
                streamID: connection.nextRequestID(),
                host: host,
                slowConsumerTimeout: slowConsumerTimeout,
                logger: logger
            )
            self.stream = stream
            stream.start()
        }
    }

    /// Answers the current request without an upstream (400, 404). The rest of its body is discarded.
    private func respondLocally(status: HTTPResponseStatus, reason: String, head: HTTPRequestHead) {
        logger.info("\(status.code) \(status.reasonPhrase) for \(head.method) \(head.uri): \(reason)")
        connection.answeredLocally(
            id: connection.nextRequestID(),
            method: head.method.rawValue,
            host: head.headers.first(name: "host"),
            path: head.uri,
            status: Int(status.code)
        )
        // After a malformed head or framing StreamGate cannot read (501 for a transfer coding), the next bytes
        // cannot be trusted to start a request.
        if status == .badRequest || status == .notImplemented {
            keepAlive = false
        }
        guard let context else { return }
        answeredLocally = true
        LocalResponse.send(status: status, reason: reason, to: self, allocator: context.channel.allocator)
    }

    // MARK: Outbound: reads follow the upstream's pace

    func read(context: ChannelHandlerContext) {
        readGate.read(context)
    }
}

extension HTTP1DownstreamHandler: DownstreamResponder {
    func sendInformationalHead(_ head: HTTPResponseHead) {
        // An HTTP/1.0 client cannot take a 1xx (RFC 9110 section 15.2).
        guard let context, let requestHead, requestHead.version.minor >= 1 else { return }
        var head = head
        head.version = requestHead.version
        context.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    func sendResponseHead(_ head: HTTPResponseHead) {
        guard let context, let requestHead else { return }
        var head = head
        head.version = requestHead.version
        let framed = head.headers.contains(name: "content-length") || requestHead.version.minor >= 1
        if !framed {
            keepAlive = false
        }
        if keepAlive {
            if requestHead.version.minor == 0 {
                head.headers.replaceOrAdd(name: "connection", value: "keep-alive")
            }
        } else if requestHead.version.minor >= 1 {
            head.headers.replaceOrAdd(name: "connection", value: "close")
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    func sendResponseBody(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    func sendResponseEnd(trailers: HTTPHeaders?) {
        guard let context else { return }
        // A response that ends before its request body did leaves unread bytes on the socket: close.
        let close = !keepAlive || !(requestEnded || answeredLocally)
        // This request's state is cleared before the end is written: writing it lets NIO's pipelining handler
        // deliver a queued next request at once, inside this call.
        requestHead = nil
        resumeRequestBody()
        if close {
            context.writeAndFlush(wrapOutboundOut(.end(trailers))).assumeIsolated().whenComplete { [weak self] _ in
                self?.context?.close(promise: nil)
            }
        } else {
            headGuard?.nextHeadMayBegin()
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        }
    }

    func flushResponse() {
        context?.flush()
    }

    func abortResponse() {
        guard let context else { return }
        keepAlive = false
        // Everything written so far goes out (complete chunks), then the connection closes without the final
        // chunk, so the client can tell the response is incomplete.
        let marker = context.channel.allocator.buffer(capacity: 0)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(marker)))).assumeIsolated().whenComplete {
            [weak self] _ in
            self?.context?.close(promise: nil)
        }
    }

    var canTakeResponseBody: Bool {
        context?.channel.isWritable ?? false
    }

    var queuedResponseBytes: Int {
        (try? context?.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }

    func pauseRequestBody() {
        readGate.pause()
    }

    func resumeRequestBody() {
        readGate.resume(context)
    }

    func streamFinished() {
        stream = nil
    }

    func beginTunnel(upstreamHead head: HTTPResponseHead) -> (any TunnelEndpoint)? {
        guard let context else { return nil }
        var headers = head.headers
        headers.replaceOrAdd(name: "connection", value: "Upgrade")
        headers.replaceOrAdd(name: "upgrade", value: "websocket")
        let switching = HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers)
        context.writeAndFlush(wrapOutboundOut(.head(switching)), promise: nil)

        // From here on the connection carries WebSocket frames: the HTTP handlers leave, bytes the decoder held
        // go on to the tunnel handler.
        let channel = context.channel
        let sync = context.pipeline.syncOperations
        let tunnelHandler = ChannelTunnelHandler(side: .downstream)
        do {
            try sync.addHandler(tunnelHandler)
            sync.removeHandler(try sync.handler(type: HTTPServerProtocolErrorHandler.self), promise: nil)
            sync.removeHandler(try sync.handler(type: HTTPServerPipelineHandler.self), promise: nil)
            sync.removeHandler(context: context, promise: nil)
            sync.removeHandler(try sync.handler(type: ParsedHeadNotifier.self), promise: nil)
            sync.removeHandler(try sync.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self), promise: nil)
            sync.removeHandler(try sync.handler(type: HTTPResponseEncoder.self), promise: nil)
            if let headGuard {
                sync.removeHandler(headGuard, promise: nil)
            }
        } catch {
            logger.error("cannot switch the connection to WebSocket: \(error)")
            channel.close(promise: nil)
            return nil
        }
        stream = nil
        channel.read()
        return tunnelHandler
    }
}
