import NIOCore
import NIOHTTP1
import StreamGateHTTP2

/// Binds one client HTTP/2 stream to its `ProxyStream`: response parts become HEADERS and DATA frames, request
/// DATA goes upstream, and the stream's flow-control window reopens only as the upstream takes the bytes.
final class HTTP2DownstreamStream {
    private let stream: HTTP2ServerStream
    private let isHeadRequest: Bool
    /// Strong until the proxy stream finishes; the cycle with `ProxyStream` is what keeps both alive meanwhile.
    var proxyStream: ProxyStream?
    private var requestBodyPaused = false

    init(stream: HTTP2ServerStream, isHeadRequest: Bool) {
        self.stream = stream
        self.isHeadRequest = isHeadRequest
    }
}

extension HTTP2DownstreamStream: DownstreamResponder {
    func sendResponseHead(_ head: HTTPResponseHead) {
        let bodiless = isHeadRequest || head.status == .noContent || head.status == .notModified
        stream.sendHead(status: Int(head.status.code), headers: head.headers, endStream: bodiless)
    }

    func sendResponseBody(_ buffer: ByteBuffer) {
        stream.sendBody(buffer)
    }

    func sendResponseEnd() {
        stream.sendEnd()
    }

    func flushResponse() {
        stream.flush()
    }

    func abortResponse() {
        stream.reset(errorCode: 0x2)  // INTERNAL_ERROR
    }

    var canTakeResponseBody: Bool {
        stream.canTakeResponseBody
    }

    func pauseRequestBody() {
        requestBodyPaused = true
    }

    func resumeRequestBody() {
        requestBodyPaused = false
        stream.consumeAllReceived()
    }

    func streamFinished() {
        proxyStream = nil
        // Whatever the client still sends is not wanted: keep its window open.
        stream.consumeAllReceived()
    }
}

extension HTTP2DownstreamStream: HTTP2StreamObserver {
    func http2RequestBody(_ buffer: ByteBuffer) {
        guard let proxyStream else {
            stream.consume(buffer.readableBytes)
            return
        }
        let bytes = buffer.readableBytes
        proxyStream.receiveRequestBody(buffer)
        proxyStream.flushRequest()
        if !requestBodyPaused {
            stream.consume(bytes)
        }
    }

    func http2RequestEnd() {
        proxyStream?.receiveRequestEnd()
    }

    func http2ResponseCapacityAvailable() {
        proxyStream?.downstreamBecameWritable()
    }

    func http2StreamClosed(errorCode: UInt32) {
        let proxyStream = self.proxyStream
        self.proxyStream = nil
        proxyStream?.downstreamClosed()
    }
}
