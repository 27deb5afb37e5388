import NIOCore
import NIOHTTP1
import StreamGateHTTP2

/// Serves one origin connection over HTTP/2 with prior knowledge (h2c), for peers with multiplexed upstreams:
/// `/idle` gets the event-stream head and one comment and then stays open until the proxy resets or the
/// connection closes; every other path is `404` (this origin serves only what the scale scenario needs). The
/// streams themselves are held by the `HTTP2ServerConnectionHandler`; this type keeps nothing per stream.
final class OriginHTTP2Responder: HTTP2ServerConnectionDelegate {
    private let allocator: ByteBufferAllocator

    /// Streams one origin connection takes at once: well above any proxy's streams per upstream connection.
    static let settings = HTTP2ServerSettings(maxConcurrentStreams: 10_000)

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
    }

    func http2StreamOpened(_ stream: HTTP2ServerStream, head: HTTP2RequestHead) {
        stream.consumeAllReceived()
        switch OriginEndpoint(uri: head.path) {
        case .idle:
            let headers = HTTPHeaders([("content-type", "text/event-stream"), ("cache-control", "no-cache")])
            stream.sendHead(status: 200, headers: headers, endStream: false)
            stream.sendBody(allocator.buffer(string: OriginPayload.idleComment))
        case .sse, .flood, .ticker, .webSocket, .notFound:
            stream.sendHead(status: 404, headers: HTTPHeaders([("content-length", "0")]), endStream: true)
        }
        stream.flush()
    }

    func http2ConnectionReceived(userEvent: Any) {}
}
