import NIOCore
import NIOHTTP1

/// What a `ProxyStream` needs from the downstream side that carries it: an HTTP/1.1 connection's current request
/// or one HTTP/2 stream. All calls happen on that connection's event loop.
protocol DownstreamResponder: AnyObject {
    /// Queues an interim 1xx response (103 Early Hints), before the final head.
    func sendInformationalHead(_ head: HTTPResponseHead)
    /// Queues the response head (hop-by-hop fields already removed).
    func sendResponseHead(_ head: HTTPResponseHead)
    /// Queues one chunk of response body exactly as it came from upstream.
    func sendResponseBody(_ buffer: ByteBuffer)
    /// Ends the response cleanly, with `trailers` when the upstream sent some (HTTP/1.1: only a chunked
    /// response can carry them; HTTP/2: a trailing HEADERS frame).
    func sendResponseEnd(trailers: HTTPHeaders?)
    /// Pushes queued response bytes to the client socket.
    func flushResponse()
    /// The response cannot be completed after its head was sent: cut it so the client sees it incomplete
    /// (HTTP/1.1: close the connection after the last complete chunk; HTTP/2: RST_STREAM).
    func abortResponse()
    /// False while the client side holds as many response bytes as it should: the upstream must stop reading.
    var canTakeResponseBody: Bool { get }
    /// Response bytes written but not yet taken by the client (the HTTP/2 stream's queue, the socket's buffer).
    var queuedResponseBytes: Int { get }
    /// Stop delivering request body until `resumeRequestBody` (the upstream cannot take more).
    func pauseRequestBody()
    func resumeRequestBody()
    /// The stream is over; the responder drops its reference to it.
    func streamFinished()
    /// The upstream accepted a WebSocket upgrade (`head` is its 101, hop-by-hop fields removed): answer the client
    /// (HTTP/1.1: 101; HTTP/2: 200) and return the client side of the tunnel, or nil when it cannot be made.
    func beginTunnel(upstreamHead head: HTTPResponseHead) -> (any TunnelEndpoint)?
}

extension DownstreamResponder {
    /// Ends the response cleanly, without trailers.
    func sendResponseEnd() {
        sendResponseEnd(trailers: nil)
    }
}

/// A response StreamGate makes itself (404, 502, 504, ...): a short text body naming the reason.
enum LocalResponse {
    static func make(
        status: HTTPResponseStatus,
        reason: String,
        version: HTTPVersion = .http1_1,
        allocator: ByteBufferAllocator
    ) -> (HTTPResponseHead, ByteBuffer) {
        let body = allocator.buffer(string: "\(status.code) \(status.reasonPhrase): \(reason)\n")
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "content-length", value: String(body.readableBytes))
        headers.add(name: "cache-control", value: "no-store")
        return (HTTPResponseHead(version: version, status: status, headers: headers), body)
    }

    /// Answers on `downstream` with a local response: head, body, end, flushed.
    static func send(
        status: HTTPResponseStatus,
        reason: String,
        to downstream: any DownstreamResponder,
        allocator: ByteBufferAllocator
    ) {
        let (head, body) = make(status: status, reason: reason, allocator: allocator)
        downstream.sendResponseHead(head)
        downstream.sendResponseBody(body)
        downstream.sendResponseEnd()
        downstream.flushResponse()
    }
}
