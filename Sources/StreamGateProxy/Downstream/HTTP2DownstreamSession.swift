import Logging
import NIOCore
import NIOHTTP1
import StreamGateHTTP2

/// The proxy side of one downstream HTTP/2 connection: turns each client stream into a `ProxyStream` (or a local
/// answer when no route matches), exactly as an HTTP/1.1 request would be.
final class HTTP2DownstreamSession: HTTP2ServerConnectionDelegate {
    private let proxy: ProxyContext
    private let rewriter: RequestHeaderRewriter
    private let eventLoop: any EventLoop
    private let clientAddress: SocketAddress?
    private let allocator: ByteBufferAllocator
    /// Extended CONNECT for WebSockets (RFC 8441) is accepted (and SETTINGS_ENABLE_CONNECT_PROTOCOL advertised).
    private let acceptsWebSockets: Bool
    private let logger: Logger

    init(
        proxy: ProxyContext,
        scheme: String,
        eventLoop: any EventLoop,
        clientAddress: SocketAddress?,
        allocator: ByteBufferAllocator,
        acceptsWebSockets: Bool,
        logger: Logger
    ) {
        self.acceptsWebSockets = acceptsWebSockets
        self.proxy = proxy
        self.rewriter = RequestHeaderRewriter(scheme: scheme)
        self.eventLoop = eventLoop
        self.clientAddress = clientAddress
        self.allocator = allocator
        self.logger = logger
    }

    /// The live streams of this connection, held weakly: told when StreamGate goes away.
    private var liveStreams: [WeakStream] = []

    private struct WeakStream {
        weak var stream: HTTP2DownstreamStream?
    }

    func http2ConnectionReceived(userEvent: Any) {
        guard userEvent is ProxyGoingAwayEvent else { return }
        let streams = liveStreams.compactMap(\.stream)
        liveStreams.removeAll()
        for stream in streams {
            if let tunnel = stream.tunnel {
                tunnel.goAway()
            } else {
                stream.proxyStream?.serverGoingAway()
            }
        }
    }

    /// Remembers a stream for shutdown; forgets the ones already gone.
    private func track(_ stream: HTTP2DownstreamStream) {
        if liveStreams.count >= 64 {
            liveStreams.removeAll { $0.stream == nil }
        }
        liveStreams.append(WeakStream(stream: stream))
    }

    func http2StreamOpened(_ stream: HTTP2ServerStream, head: HTTP2RequestHead) {
        var method = HTTPMethod(rawValue: head.method)
        let isWebSocket = method == .CONNECT && head.extendedProtocol?.lowercased() == "websocket"
        if method == .CONNECT && !(isWebSocket && acceptsWebSockets) {
            let reason =
                head.extendedProtocol.map { "CONNECT for \($0) is not supported" } ?? "CONNECT is not supported"
            respondLocally(stream, status: .notImplemented, reason: reason, logger: logger)
            return
        }
        if isWebSocket {
            // RFC 8441 section 5: the tunnel becomes an HTTP/1.1 Upgrade toward the upstream.
            method = .GET
        }
        let target: RequestTarget
        do {
            target = try RequestTarget(uri: head.path)
        } catch {
            respondLocally(stream, status: .badRequest, reason: error.description, logger: logger)
            return
        }
        let host = head.authority ?? head.headers.first(name: "host")
        guard let route = proxy.routes.route(host: host, path: target.path) else {
            respondLocally(
                stream,
                status: .notFound,
                reason: "no route for \(host ?? "")\(target.path)",
                logger: logger
            )
            return
        }

        if isWebSocket && !WebSocketUpgrade.originAllowed(head.headers, config: route.config.websocket) {
            let origin = head.headers.first(name: "origin") ?? "none"
            respondLocally(
                stream,
                status: .forbidden,
                reason: "WebSocket origin \(origin) is not allowed",
                logger: logger
            )
            return
        }

        var headers = head.headers
        if let authority = head.authority {
            headers.replaceOrAdd(name: "host", value: authority)
        }
        // HTTP/2 may split cookies into several fields; HTTP/1.1 wants one (RFC 9113 section 8.2.3).
        let cookies = headers["cookie"]
        if cookies.count > 1 {
            headers.replaceOrAdd(name: "cookie", value: cookies.joined(separator: "; "))
        }
        let request = HTTPRequestHead(
            version: .http1_1,
            method: method,
            uri: String(target.originForm),
            headers: headers
        )
        let hasBody = !head.endStream && !isWebSocket
        var upstreamHead = rewriter.upstreamHead(
            for: request,
            clientAddress: clientAddress,
            bodyIsChunked: hasBody && !headers.contains(name: "content-length"),
            stripAcceptEncoding: EventStreamFilter.stripsAcceptEncoding(route: route.config, requestHeaders: headers)
        )
        if isWebSocket {
            WebSocketUpgrade.addUpgradeFields(to: &upstreamHead.headers)
        }
        let downstream = HTTP2DownstreamStream(stream: stream, isHeadRequest: method == .HEAD)
        track(downstream)
        stream.observer = downstream
        let proxyStream = ProxyStream(
            route: route,
            upstreamHead: upstreamHead,
            isWebSocket: isWebSocket,
            pool: proxy.pools.pool(for: eventLoop),
            eventLoop: eventLoop,
            downstream: downstream,
            streamID: stream.streamID,
            logger: logger
        )
        downstream.proxyStream = proxyStream
        proxyStream.start()
        if isWebSocket {
            // The CONNECT stream stays open for the tunnel; the upgrade request itself has no body.
            proxyStream.receiveRequestEnd()
        }
    }

    private func respondLocally(_ stream: HTTP2ServerStream, status: HTTPResponseStatus, reason: String, logger: Logger)
    {
        logger.info("\(status.code) \(status.reasonPhrase): \(reason)", metadata: ["stream": "\(stream.streamID)"])
        let (head, body) = LocalResponse.make(status: status, reason: reason, allocator: allocator)
        stream.sendHead(status: Int(head.status.code), headers: head.headers, endStream: false)
        stream.sendBody(body)
        stream.sendEnd()
        stream.flush()
    }
}
