import Foundation
import NIOCore
import NIOHTTP1

/// Serves one origin connection. Endpoints:
/// `/hello` 200 "hello"; `/sse[?count=N]` an event every 100 ms (see `OriginEvent`); `/silent-after-first` one
/// event then silence; `/slow` never answers; `/headers` the request head as JSON (`OriginRequestEcho`); `/echo`
/// streams the request body back; `/hop-by-hop` 200 with hop-by-hop response headers (`Connection: X-Origin-Hop`,
/// `X-Origin-Hop`, `Keep-Alive`, `Proxy-Connection`, `Trailer`) and one end-to-end header `X-Origin-End-To-End`;
/// `/status/NNN` that status; the event-stream test endpoints of `OriginSSEEndpoints` (`/sse-split`, `/sse-crlf`,
/// `/sse-cached`, `/sse-resume`, `/sse-page`); `/page`, `/report` and `/bulk` of `OriginPage`; anything else 404
/// "origin 404". Every request is recorded in the origin's `sseRequests`.
final class OriginHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// What to do once the request has been read.
    private enum Endpoint {
        case fixed(HTTPResponseStatus, contentType: String, body: String)
        case hopByHop
        /// A chunked body, then trailer fields: an end-to-end one, a hop-by-hop one and one no trailer may carry.
        case trailers
        /// `103 Early Hints` with a `Link`, then the final response.
        case earlyHints
        case headers(HTTPRequestHead)
        case events(OriginEventStream.Pace, contentType: String)
        case echo
        case never
        case scripted(OriginSSEScript, request: Int)
    }

    private let log: OriginConnectionLog
    private var endpoint: Endpoint?
    private var keepAlive = true
    private var events: OriginEventStream?
    private var echoHeadWritten = false

    init(log: OriginConnectionLog) {
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            log.requestReceived(head.uri)
            keepAlive = head.isKeepAlive
            echoHeadWritten = false
            let endpoint = OriginSSEEndpoints.script(for: head, requests: .of(log)).map(Endpoint.scripted)
                ?? Self.endpoint(for: head)
            self.endpoint = endpoint
        case .body(let bytes):
            if case .echo = endpoint {
                writeEchoHeadOnce(context: context)
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
            }
        case .end:
            guard let endpoint else { return }
            self.endpoint = nil
            respond(context: context, endpoint: endpoint)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        events?.cancel()
        events = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(context: ChannelHandlerContext, endpoint: Endpoint) {
        switch endpoint {
        case .fixed(let status, let contentType, let body):
            writeComplete(context: context, status: status, contentType: contentType, body: body)
        case .hopByHop:
            let buffer = context.channel.allocator.buffer(string: "hop")
            writeHead(context: context, status: .ok, headers: [
                "content-type": "text/plain",
                "content-length": "\(buffer.readableBytes)",
                "connection": "X-Origin-Hop",
                "x-origin-hop": "1",
                "keep-alive": "timeout=5",
                "proxy-connection": "keep-alive",
                "trailer": "X-Origin-Trailer",
                "x-origin-end-to-end": "1",
            ])
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            finish(context: context)
        case .earlyHints:
            writeHead(context: context, status: HTTPResponseStatus(statusCode: 103), headers: [
                "link": "</style.css>; rel=preload; as=style",
            ])
            context.flush()
            writeComplete(context: context, status: .ok, contentType: "text/plain", body: "hinted")
        case .trailers:
            writeHead(context: context, status: .ok, headers: [
                "content-type": "text/plain", "trailer": "x-checksum", "transfer-encoding": "chunked",
            ])
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: "body")))), promise: nil)
            let trailers: HTTPHeaders = ["x-checksum": "abc123", "keep-alive": "timeout=5", "set-cookie": "a=b"]
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
            events = nil
        case .headers(let head):
            writeComplete(context: context, status: .ok, contentType: "application/json", body: OriginRequestEcho(head).json())
        case .echo:
            writeEchoHeadOnce(context: context)
            finish(context: context)
        case .events(let pace, let contentType):
            writeHead(context: context, status: .ok, headers: [
                "content-type": contentType,
                "cache-control": "no-cache",
            ])
            context.flush()
            let stream = OriginEventStream(
                pace: pace,
                eventLoop: context.eventLoop,
                send: { [weak self] text in
                    guard let self else { return }
                    let buffer = context.channel.allocator.buffer(string: text)
                    context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                },
                finish: { [weak self] in self?.finish(context: context) }
            )
            events = stream
            stream.start()
        case .scripted(let script, let request):
            let requests = OriginSSERequestLog.of(log)
            OriginSSEScriptRunner.start(script, context: context, keepAlive: keepAlive) { id in
                requests.eventSent(id, request: request)
            }
        case .never:
            break
        }
    }

    /// `/echo` answers once the body starts (or ends empty), so a client sending `Expect: 100-continue` is not
    /// answered before it sent anything.
    private func writeEchoHeadOnce(context: ChannelHandlerContext) {
        guard !echoHeadWritten else { return }
        echoHeadWritten = true
        writeHead(context: context, status: .ok, headers: ["content-type": "application/octet-stream"])
    }

    private func writeHead(context: ChannelHandlerContext, status: HTTPResponseStatus, headers: HTTPHeaders) {
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
    }

    private func writeComplete(context: ChannelHandlerContext, status: HTTPResponseStatus, contentType: String, body: String) {
        let buffer = context.channel.allocator.buffer(string: body)
        writeHead(context: context, status: status, headers: [
            "content-type": contentType,
            "content-length": "\(buffer.readableBytes)",
        ])
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        finish(context: context)
    }

    private func finish(context: ChannelHandlerContext) {
        events = nil
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    private static func endpoint(for head: HTTPRequestHead) -> Endpoint {
        let components = URLComponents(string: head.uri)
        let path = components?.path ?? head.uri
        // `?type=plain` serves the same bytes as an ordinary streamed text/plain body instead of an event stream.
        let plain = components?.queryItems?.contains { $0.name == "type" && $0.value == "plain" } ?? false
        let contentType = plain ? "text/plain" : "text/event-stream"
        switch path {
        case "/hello":
            return .fixed(.ok, contentType: "text/plain", body: "hello")
        case "/sse":
            let count = components?.queryItems?.first { $0.name == "count" }?.value.flatMap { Int($0) }
            return .events(.every100ms(limit: count), contentType: contentType)
        case "/silent-after-first":
            return .events(.firstOnly, contentType: contentType)
        case "/slow":
            return .never
        case "/headers":
            return .headers(head)
        case "/hop-by-hop":
            return .hopByHop
        case "/trailers":
            return .trailers
        case "/early-hints":
            return .earlyHints
        case "/echo":
            return .echo
        default:
            if let page = OriginPage.response(path: path, query: components?.queryItems) {
                return .fixed(page.status, contentType: page.contentType, body: page.body)
            }
            if path.hasPrefix("/status/"), let code = Int(path.dropFirst("/status/".count)), (200...599).contains(code) {
                return .fixed(HTTPResponseStatus(statusCode: code), contentType: "text/plain", body: "status \(code)")
            }
            return .fixed(.notFound, contentType: "text/plain", body: "origin 404")
        }
    }
}
