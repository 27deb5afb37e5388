import NIOCore
import NIOHTTP1
import NIOPosix

/// The built-in origin behind `streamgate demo`: a page that opens many EventSource streams at once, and the
/// event-stream endpoints it uses. Listens on loopback only.
public final class DemoOrigin: Sendable {
    private let channel: any Channel

    /// The port it listens on (127.0.0.1).
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Starts the origin on 127.0.0.1 (`port` 0: any free port), serving a page with `streams` EventSources.
    public static func start(group: any EventLoopGroup, port: Int = 0, streams: Int) async throws -> DemoOrigin {
        let page = DemoPage.html(streams: streams)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(DemoOriginHandler(page: page))
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        return DemoOrigin(channel: channel)
    }

    public func stop() async {
        try? await channel.close()
    }
}

/// Answers one demo-origin connection: `/` (the page), `/events/N` (one event per second, resuming after
/// Last-Event-ID), `/health`.
final class DemoOriginHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let page: String
    private var ticker: Scheduled<Void>?
    private var tick = 0

    init(page: String) {
        self.page = page
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = unwrapInboundIn(data) else { return }
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        if path == "/" {
            respond(context: context, contentType: "text/html; charset=utf-8", body: page)
        } else if path == "/health" {
            respond(context: context, contentType: "text/plain", body: "ok\n")
        } else if path.hasPrefix("/events/"), let stream = Int(path.dropFirst("/events/".count)) {
            let lastID = request.headers.first(name: "last-event-id").flatMap(Int.init) ?? 0
            startEvents(context: context, stream: stream, after: lastID)
        } else {
            respond(context: context, status: .notFound, contentType: "text/plain", body: "not found\n")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ticker?.cancel()
        ticker = nil
        context.fireChannelInactive()
    }

    private func respond(
        context: ChannelHandlerContext,
        status: HTTPResponseStatus = .ok,
        contentType: String,
        body: String
    ) {
        let buffer = context.channel.allocator.buffer(string: body)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(buffer.readableBytes))
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func startEvents(context: ChannelHandlerContext, stream: Int, after lastID: Int) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/event-stream")
        headers.add(name: "cache-control", value: "no-cache")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
            promise: nil
        )
        context.writeAndFlush(
            wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: "retry: 2000\n\n")))),
            promise: nil
        )
        tick = lastID
        sendTick(context: context, stream: stream)
    }

    private func sendTick(context: ChannelHandlerContext, stream: Int) {
        tick += 1
        let millis = Int(NIODeadline.now().uptimeNanoseconds / 1_000_000)
        let event = "id: \(tick)\ndata: {\"stream\":\(stream),\"tick\":\(tick),\"uptime_ms\":\(millis)}\n\n"
        context.writeAndFlush(
            wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: event)))),
            promise: nil
        )
        ticker = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { [weak self] in
            self?.sendTick(context: context, stream: stream)
        }
    }
}
