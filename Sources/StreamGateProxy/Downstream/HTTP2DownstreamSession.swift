import Logging
import NIOCore
import NIOHTTP1
import StreamGateHTTP2

/// The proxy side of one downstream HTTP/2 connection: passes each client stream's head through `StreamAdmission`
/// and turns it into a `ProxyStream` or a local answer, exactly as an HTTP/1.1 request would be.
final class HTTP2DownstreamSession: HTTP2ServerConnectionDelegate {
    private let proxy: ProxyContext
    private let admission: StreamAdmission
    private let slowConsumerTimeout: TimeAmount
    private let connection: LiveConnection
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
        connection: LiveConnection,
        slowConsumerTimeout: TimeAmount = .zero,
        logger: Logger
    ) {
        self.slowConsumerTimeout = slowConsumerTimeout
        self.acceptsWebSockets = acceptsWebSockets
        self.proxy = proxy
        self.admission = StreamAdmission(rewriter: RequestHeaderRewriter(scheme: scheme))
        self.connection = connection
        connection.protocolName = "h2"
        self.eventLoop = eventLoop
        self.clientAddress = clientAddress
        self.allocator = allocator
        self.logger = logger
    }

    func http2ConnectionReceived(userEvent: Any) {
        guard let goingAway = userEvent as? ProxyGoingAwayEvent else { return }
        connection.goingAway(outcome: goingAway.outcome)
    }

    func http2ConnectionFailed(_ error: HTTP2ConnectionError) {
        if error.isFlood {
            connection.limitHit(.http2Flood)
        }
    }

    func http2StreamOpened(_ stream: HTTP2ServerStream, head: HTTP2RequestHead) {
        let method = HTTPMethod(rawValue: head.method)
        let downstream = HTTP2DownstreamStream(stream: stream, isHeadRequest: method == .HEAD)
        let request = AdmissionRequest(http2: head, acceptsWebSockets: acceptsWebSockets, clientAddress: clientAddress)
        switch admission.admit(request, routes: proxy.routes.current(on: eventLoop)) {
        case .local(let status, let reason):
            logger.info(
                "\(status.code) \(status.reasonPhrase) for \(head.method) \(head.path): \(reason)",
                metadata: ["stream": "\(stream.streamID)"]
            )
            connection.answeredLocally(
                id: UInt32(stream.streamID),
                method: head.method,
                host: head.authority ?? head.headers.first(name: "host"),
                path: head.path,
                status: Int(status.code)
            )
            LocalResponse.send(status: status, reason: reason, to: downstream, allocator: allocator)
        case .proxy(let route, let upstreamHead, let isWebSocket, let host):
            stream.observer = downstream
            let proxyStream = proxy.makeStream(
                route: route,
                upstreamHead: upstreamHead,
                isWebSocket: isWebSocket,
                eventLoop: eventLoop,
                downstream: downstream,
                connection: connection,
                streamID: UInt32(stream.streamID),
                host: host,
                slowConsumerTimeout: slowConsumerTimeout,
                logger: logger
            )
            downstream.proxyStream = proxyStream
            proxyStream.start()
            if isWebSocket {
                // The CONNECT stream stays open for the tunnel; the upgrade request itself has no body.
                proxyStream.receiveRequestEnd()
            }
        }
    }
}

extension AdmissionRequest {
    /// An HTTP/2 request head: `:authority` stands for Host (and goes upstream as Host), split cookies are joined
    /// (RFC 9113 section 8.2.3), and an extended CONNECT for `websocket` is a WebSocket when the listener accepts
    /// it (RFC 8441).
    init(http2 head: HTTP2RequestHead, acceptsWebSockets: Bool, clientAddress: SocketAddress?) {
        let method = HTTPMethod(rawValue: head.method)
        var headers = head.headers
        if let authority = head.authority {
            headers.replaceOrAdd(name: "host", value: authority)
        }
        let cookies = headers["cookie"]
        if cookies.count > 1 {
            headers.replaceOrAdd(name: "cookie", value: cookies.joined(separator: "; "))
        }
        let isWebSocket =
            acceptsWebSockets && method == .CONNECT && head.extendedProtocol?.lowercased() == "websocket"
        let hosts = head.headers["host"]
        let disagrees = head.authority.map { authority in hosts.contains { $0 != authority } } ?? false
        let hostFields = head.authority == nil ? hosts.count : max(1, hosts.count) + (disagrees ? 1 : 0)
        self.init(
            method: method,
            uri: head.path,
            host: head.authority ?? head.headers.first(name: "host"),
            headers: headers,
            webSocket: isWebSocket ? .extendedConnect : .none,
            connectProtocol: head.extendedProtocol,
            hostFields: hostFields,
            bodyIsChunked: !head.endStream && !isWebSocket && !headers.contains(name: "content-length"),
            clientAddress: clientAddress,
            headTooLarge: head.headerListTooLarge ? "request header list over the listener's max_header_bytes" : nil
        )
    }
}
