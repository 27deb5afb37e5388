import NIOCore
import NIOHTTP1

/// Serves one connection of a failover origin (`FeedOrigin`, HTTP/1.1). `GET /feed` answers an event stream of the
/// shared `FeedSchedule`, each event `id: <n>` and `data: <tag>` (the origin's tag, so the client can tell which
/// origin served it): with `Last-Event-ID: N`, every event published after N at once and then each new one as it is
/// published; without, new events only. Every other request gets 404. The response never ends by itself.
final class FeedRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let path = "/feed"

    private let schedule: FeedSchedule
    private let tag: Int
    private var request: HTTPRequestHead?
    private var answered = false
    private var stopped = false
    /// The id of the next event this connection writes.
    private var nextID: UInt64 = 1
    private var nextEvent: Scheduled<Void>?

    init(schedule: FeedSchedule, tag: Int) {
        self.schedule = schedule
        self.tag = tag
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let request, !answered else { return }
            answered = true
            respond(context: context, request: request)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func stop() {
        stopped = true
        nextEvent?.cancel()
        nextEvent = nil
    }

    private func respond(context: ChannelHandlerContext, request: HTTPRequestHead) {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard request.method == .GET, path == Self.path else {
            let headers = HTTPHeaders([("content-length", "0")])
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .notFound, headers: headers))),
                promise: nil
            )
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        if let text = request.headers.first(name: "last-event-id"), let lastSeen = UInt64(text) {
            nextID = lastSeen + 1
        } else {
            nextID = schedule.lastPublished(at: MonotonicClock.nanoseconds()) + 1
        }
        let headers = HTTPHeaders([("content-type", "text/event-stream"), ("cache-control", "no-cache")])
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
            promise: nil
        )
        writePublished(context: context)
    }

    /// Writes every event published by now that this connection has not written yet (one chunk), then waits for
    /// the next event's publication time.
    private func writePublished(context: ChannelHandlerContext) {
        guard !stopped else { return }
        let published = schedule.lastPublished(at: MonotonicClock.nanoseconds())
        if nextID <= published {
            let count = published - nextID + 1
            var buffer = context.channel.allocator.buffer(capacity: Int(min(count, 4096)) * 32)
            while nextID <= published {
                buffer.writeString("id: \(nextID)\ndata: \(tag)\n\n")
                nextID += 1
            }
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        context.flush()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        nextEvent = context.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(schedule.publishTime(of: nextID))) {
            let (handler, context) = loopBound.value
            handler.writePublished(context: context)
        }
    }
}
