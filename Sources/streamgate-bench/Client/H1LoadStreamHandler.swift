import NIOCore
import NIOHTTP1

/// One "direct" stream: a cleartext HTTP/1.1 connection to the origin carrying a single GET, whose body goes
/// through the SSE parser into `stats` (timing heartbeats too when given a `HeartbeatWatch`). The floor the
/// proxies are compared with.
final class H1LoadStreamHandler: ChannelInboundHandler, LoadConnection {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let path: String
    private let hostHeader: String
    private let recordLatency: Bool
    private let heartbeats: HeartbeatWatch?
    private var progress = StreamProgress()
    private var closing = false
    private(set) var stats = ClientStats()

    init(path: String, hostHeader: String, recordLatency: Bool, heartbeats: HeartbeatWatch? = nil) {
        self.path = path
        self.hostHeader = hostHeader
        self.recordLatency = recordLatency
        self.heartbeats = heartbeats
        self.stats.streamsRequested = 1
    }

    func resetLatency() {
        stats.latency = LatencyHistogram()
        stats.heartbeatLateness = LatencyHistogram()
    }

    func recordOverdueHeartbeats() {
        guard let heartbeats, !closing else { return }
        progress.recordOverdueHeartbeat(now: MonotonicClock.nanoseconds(), watch: heartbeats, into: &stats)
    }

    func markClosing() {
        closing = true
    }

    func channelActive(context: ChannelHandlerContext) {
        let headers = HTTPHeaders([("host", hostHeader), ("accept", "text/event-stream")])
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard progress.status == nil else { return }
            progress.status = Int(head.status.code)
            if head.status == .ok {
                stats.streamsOpen += 1
            } else {
                progress.finished = true
                stats.streamsFailed += 1
                stats.noteFailure("status \(head.status.code)")
            }
        case .body(let buffer):
            let now = MonotonicClock.nanoseconds()
            buffer.withUnsafeReadableBytes { bytes in
                progress.receiveBody(
                    bytes,
                    now: now,
                    recordLatency: recordLatency,
                    heartbeats: heartbeats,
                    into: &stats
                )
            }
        case .end:
            lose(reason: "stream ended by the server")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        lose(reason: "connection closed by the server")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        lose(reason: "connection error: \(error)")
        context.close(promise: nil)
    }

    private func lose(reason: String) {
        guard !closing, !progress.finished else { return }
        progress.finished = true
        if progress.status == nil {
            stats.streamsFailed += 1
        } else {
            stats.streamsEnded += 1
        }
        stats.noteFailure(reason)
    }
}
