import NIOCore
import NIOHTTP1

/// Serves one origin connection (HTTP/1.1): answers each request per `OriginEndpoint`. Event-stream responses
/// have no length (chunked) and last until the client (or the proxy) closes the connection. A `/ticker` stream
/// joins the origin's feed (`TickerFeeds`), which writes its events from then on.
final class OriginRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let tickers: TickerFeeds
    private var endpoint: OriginEndpoint?
    private var ticker: RepeatedTask?
    private var flooding = false
    private var floodBatch: ByteBuffer?

    init(tickers: TickerFeeds) {
        self.tickers = tickers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            endpoint = OriginEndpoint(uri: request.uri)
        case .body:
            break
        case .end:
            guard let endpoint else { return }
            respond(context: context, endpoint: endpoint)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if flooding && context.channel.isWritable {
            pumpFlood(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func stop() {
        ticker?.cancel()
        ticker = nil
        flooding = false
    }

    private func respond(context: ChannelHandlerContext, endpoint: OriginEndpoint) {
        guard endpoint != .notFound && endpoint != .webSocket else {
            var headers = HTTPHeaders([("content-length", "0")])
            headers.add(name: "content-type", value: "text/plain")
            let status: HTTPResponseStatus = endpoint == .webSocket ? .upgradeRequired : .notFound
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                promise: nil
            )
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let headers = HTTPHeaders([("content-type", "text/event-stream"), ("cache-control", "no-cache")])
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
            promise: nil
        )
        switch endpoint {
        case .sse(let rate):
            context.flush()
            startTicker(context: context, eventsPerSecond: rate)
        case .flood:
            flooding = true
            floodBatch = OriginPayload.floodBatch(allocator: context.channel.allocator)
            pumpFlood(context: context)
        case .idle:
            let comment = context.channel.allocator.buffer(string: OriginPayload.idleComment)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(comment))), promise: nil)
        case .ticker(let rate):
            context.flush()
            tickers.subscribe(context.channel, eventsPerSecond: rate)
        case .webSocket, .notFound:
            break
        }
    }

    /// One event every 1/R s, the first after a random part of that period so streams do not tick in lockstep.
    private func startTicker(context: ChannelHandlerContext, eventsPerSecond: Double) {
        let period = TimeAmount.nanoseconds(Int64(1_000_000_000 / eventsPerSecond))
        let phase = TimeAmount.nanoseconds(Int64.random(in: 0...max(0, period.nanoseconds)))
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: phase, delay: period) { _ in
            let (handler, context) = loopBound.value
            let event = OriginPayload.timestampedEvent(allocator: context.channel.allocator)
            context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(event))), promise: nil)
        }
    }

    /// Writes batches while the channel is writable (bounded per call so other connections on the loop get their
    /// turn), then resumes from `channelWritabilityChanged` or from the next loop tick.
    private func pumpFlood(context: ChannelHandlerContext) {
        guard let batch = floodBatch else { return }
        var writes = 0
        while flooding && context.channel.isWritable && writes < 64 {
            context.write(wrapOutboundOut(.body(.byteBuffer(batch))), promise: nil)
            writes += 1
        }
        context.flush()
        if flooding && context.channel.isWritable && context.channel.isActive {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.execute {
                let (handler, context) = loopBound.value
                if handler.flooding && context.channel.isWritable {
                    handler.pumpFlood(context: context)
                }
            }
        }
    }
}
