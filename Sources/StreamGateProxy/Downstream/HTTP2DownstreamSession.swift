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
    private let logger: Logger

    init(
        proxy: ProxyContext,
        scheme: String,
        eventLoop: any EventLoop,
        clientAddress: SocketAddress?,
        allocator: ByteBufferAllocator,
        logger: Logger
    ) {
        self.proxy = proxy
        self.rewriter = RequestHeaderRewriter(scheme: scheme)
        self.eventLoop = eventLoop
        self.clientAddress = clientAddress
        self.allocator = allocator
        self.logger = logger
    }

    func http2StreamOpened(_ stream: HTTP2ServerStream, head: HTTP2RequestHead) {
        var logger = logger
        logger[metadataKey: "stream"] = "\(stream.streamID)"
        let method = HTTPMethod(rawValue: head.method)
        if method == .CONNECT {
            respondLocally(stream, status: .notImplemented, reason: "CONNECT is not supported", logger: logger)
            return
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
            respondLocally(stream, status: .notFound, reason: "no route for \(host ?? "")\(target.path)", logger: logger)
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
        let request = HTTPRequestHead(version: .http1_1, method: method, uri: String(target.originForm), headers: headers)
        let hasBody = !head.endStream
        let upstreamHead = rewriter.upstreamHead(
            for: request,
            clientAddress: clientAddress,
            bodyIsChunked: hasBody && !headers.contains(name: "content-length"),
            stripAcceptEncoding: EventStreamFilter.stripsAcceptEncoding(route: route.config, requestHeaders: headers)
        )
        let downstream = HTTP2DownstreamStream(stream: stream, isHeadRequest: method == .HEAD)
        stream.observer = downstream
        let proxyStream = ProxyStream(
            route: route,
            upstreamHead: upstreamHead,
            pool: proxy.pools.pool(for: eventLoop),
            eventLoop: eventLoop,
            downstream: downstream,
            logger: logger
        )
        downstream.proxyStream = proxyStream
        proxyStream.start()
    }

    private func respondLocally(_ stream: HTTP2ServerStream, status: HTTPResponseStatus, reason: String, logger: Logger) {
        logger.info("\(status.code) \(status.reasonPhrase): \(reason)")
        let (head, body) = LocalResponse.make(status: status, reason: reason, allocator: allocator)
        stream.sendHead(status: Int(head.status.code), headers: head.headers, endStream: false)
        stream.sendBody(body)
        stream.sendEnd()
        stream.flush()
    }
}
