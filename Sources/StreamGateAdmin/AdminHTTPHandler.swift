import Foundation
import NIOCore
import NIOHTTP1
import StreamGateProxy

/// Serves one admin connection (HTTP/1.1, keep-alive; NIO's pipelining handler feeds it one request at a time):
/// checks the bearer token, routes the request (`AdminRoute`), reads the live registry on the proxy's event loops
/// and answers; `/events` stays open as an event stream of summaries, one a second.
final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Admin requests carry no body worth reading; one larger than this is refused and the connection closed.
    static let maximumBodyBytes = 64 * 1024

    private let state: AdminState
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var summaries: RepeatedTask?

    init(state: AdminState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            guard let head else { return }
            self.head = nil
            if bodyBytes > Self.maximumBodyBytes {
                respond(context, head, .payloadTooLarge, text: "request body over \(Self.maximumBodyBytes) bytes\n", close: true)
                return
            }
            handle(head, context: context)
        }
    }

    /// Malformed requests were already answered 400 by NIO's protocol error handler: nothing more can be read.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        summaries?.cancel()
        summaries = nil
        context.fireChannelInactive()
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard state.acceptsHost(head.headers.first(name: "host")) else {
            respond(context, head, .forbidden, text: "without a token the admin endpoint answers only to a loopback Host\n")
            return
        }
        // The dashboard page holds no data: it asks for everything with the token the operator gives it; with
        // `public_healthz`, /healthz says only ok or draining. Every other request is authorized before it is even
        // routed.
        let path = AdminRoute.split(head.uri).path
        let isPublic = path == "/" || (state.publicHealthz && path == "/healthz")
        if !isPublic && !state.authorizes(head.headers.first(name: "authorization")) {
            var headers = HTTPHeaders()
            headers.add(name: "www-authenticate", value: "Bearer realm=\"streamgate admin\"")
            respond(context, head, .unauthorized, text: "a valid Authorization: Bearer token is required\n", headers: headers)
            return
        }
        let route: AdminRoute
        do {
            route = try AdminRoute(method: head.method, uri: head.uri)
        } catch {
            respond(context, head, error.status, text: error.reason + "\n")
            return
        }
        switch route {
        case .dashboard:
            respond(context, head, .ok, bytes: DashboardPage.html, contentType: "text/html; charset=utf-8")
        case .healthz:
            let draining = state.proxy.isDraining
            respond(context, head, draining ? .serviceUnavailable : .ok, text: draining ? "draining\n" : "ok\n")
        case .config:
            respond(context, head, .ok, bytes: ConfigJSON.render(state.proxy.generation), contentType: "application/json")
        case .reload:
            guard let reloader = state.reloader else {
                respond(context, head, .notFound, text: "this proxy has no configuration file to reload\n")
                return
            }
            context.eventLoop.makeFutureWithTask { await reloader.reload(trigger: "POST /reload") }
                .assumeIsolated().whenSuccess { [self] outcome in
                    let (status, body) = ReloadJSON.render(outcome)
                    respond(context, head, status, bytes: body, contentType: "application/json")
                }
        case .metrics:
            let registry = state.proxy.registry
            let metrics = state.metrics
            let reloads = state.reloader?.counts
            let generation = state.proxy.generation
            context.eventLoop.makeFutureWithTask {
                metrics.render(
                    await registry.aggregate(),
                    reloads: reloads,
                    generation: generation.number,
                    upstreams: generation.upstreamStatus()
                )
            }
                .assumeIsolated().whenSuccess { [self] bytes in
                    respond(context, head, .ok, bytes: bytes, contentType: "text/plain; version=0.0.4; charset=utf-8")
                }
        case .connections(let query):
            let generation = state.proxy.generation
            withSnapshot(context) { snapshot in
                let (page, total) = query.apply(to: snapshot.connections)
                let upstreams = generation.upstreamStatus()
                return (.ok, AdminJSON.connectionList(page, total: total, upstreams: upstreams, takenAt: Date()), "application/json")
            } done: { [self] in respond(context, head, $0.0, bytes: $0.1, contentType: $0.2) }
        case .upstreams:
            let upstreams = state.proxy.generation.upstreamStatus()
            respond(context, head, .ok, bytes: AdminJSON.upstreamList(upstreams), contentType: "application/json")
        case .connection(let id):
            let registry = state.proxy.registry
            context.eventLoop.makeFutureWithTask { await registry.snapshot(connection: id) }
                .assumeIsolated().whenSuccess { [self] connection in
                    guard let connection else {
                        respond(context, head, .notFound, text: "no connection \(id)\n")
                        return
                    }
                    respond(context, head, .ok, bytes: AdminJSON.connection(connection, takenAt: Date()), contentType: "application/json")
                }
        case .closeConnection(let id):
            let registry = state.proxy.registry
            let logger = state.logger
            context.eventLoop.makeFutureWithTask { await registry.closeConnection(id) }
                .assumeIsolated().whenSuccess { [self] found in
                    if found {
                        logger.info("admin: closing connection \(id)")
                        respond(context, head, .accepted, bytes: Array("{\"closing\":{\"connection\":\(id)}}".utf8), contentType: "application/json")
                    } else {
                        respond(context, head, .notFound, text: "no connection \(id)\n")
                    }
                }
        case .closeStream(let connection, let stream):
            let registry = state.proxy.registry
            let logger = state.logger
            context.eventLoop.makeFutureWithTask { await registry.closeStream(connection: connection, stream: stream) }
                .assumeIsolated().whenSuccess { [self] found in
                    if found {
                        logger.info("admin: ending stream \(stream) of connection \(connection)")
                        let body = "{\"closing\":{\"connection\":\(connection),\"stream\":\(stream)}}"
                        respond(context, head, .accepted, bytes: Array(body.utf8), contentType: "application/json")
                    } else {
                        respond(context, head, .notFound, text: "no stream \(stream) on connection \(connection)\n")
                    }
                }
        case .events where head.method == .HEAD:
            respond(context, head, .ok, bytes: [], contentType: "text/event-stream")
        case .events:
            startSummaries(context, head)
        }
    }

    /// Takes a registry snapshot off this loop, makes the answer from it there, and runs `done` back here.
    private func withSnapshot(
        _ context: ChannelHandlerContext,
        _ make: @escaping @Sendable (LiveSnapshot) -> (HTTPResponseStatus, [UInt8], String),
        done: @escaping ((HTTPResponseStatus, [UInt8], String)) -> Void
    ) {
        let registry = state.proxy.registry
        context.eventLoop.makeFutureWithTask { make(await registry.snapshot()) }
            .assumeIsolated().whenSuccess(done)
    }

    // MARK: /events

    private func startSummaries(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/event-stream")
        headers.add(name: "cache-control", value: "no-cache")
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        let registry = state.proxy.registry
        let loop = context.eventLoop
        let channel = context.channel
        summaries = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .seconds(1)) { task in
            guard channel.isActive else {
                task.cancel()
                return
            }
            // A dashboard that does not read gets no more summaries until it does.
            guard channel.isWritable else { return }
            loop.makeFutureWithTask { DashboardSummary.event(await registry.aggregate(), at: Date()) }
                .whenSuccess { text in
                    guard channel.isActive else { return }
                    let part = HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(string: text)))
                    channel.writeAndFlush(part, promise: nil)
                }
        }
    }

    // MARK: Answers

    private func respond(
        _ context: ChannelHandlerContext,
        _ head: HTTPRequestHead,
        _ status: HTTPResponseStatus,
        text: String,
        headers: HTTPHeaders = HTTPHeaders(),
        close: Bool = false
    ) {
        respond(context, head, status, bytes: Array(text.utf8), contentType: "text/plain; charset=utf-8", headers: headers, close: close)
    }

    private func respond(
        _ context: ChannelHandlerContext,
        _ head: HTTPRequestHead,
        _ status: HTTPResponseStatus,
        bytes: [UInt8],
        contentType: String,
        headers extra: HTTPHeaders = HTTPHeaders(),
        close: Bool = false
    ) {
        guard context.channel.isActive else { return }
        var headers = extra
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(bytes.count))
        headers.add(name: "cache-control", value: "no-store")
        let keepAlive = head.isKeepAlive && !close
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
