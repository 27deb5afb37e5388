import NIOCore
import NIOHTTP1
import StreamGateHTTP2

/// Binds one client HTTP/2 stream to its `ProxyStream`: response parts become HEADERS and DATA frames, request
/// DATA goes upstream, and the stream's flow-control window reopens only as the upstream takes the bytes.
final class HTTP2DownstreamStream {
    #if DEBUG
    private let debugInstanceCount = DebugInstanceCount(.http2Downstream)
    #endif
    private let stream: HTTP2ServerStream
    private let isHeadRequest: Bool
    /// Strong until the proxy stream finishes; the cycle with `ProxyStream` is what keeps both alive meanwhile.
    var proxyStream: (any ClientStream)?
    private var requestBodyPaused = false
    /// Set once the stream carries a WebSocket (RFC 8441): DATA in both directions is the tunnel's bytes.
    weak var tunnel: WebSocketTunnel?
    /// Keeps this adapter alive while it is a tunnel endpoint (the HTTP/2 stream lets go of it when it closes).
    private var retainedForTunnel: HTTP2DownstreamStream?

    init(stream: HTTP2ServerStream, isHeadRequest: Bool) {
        self.stream = stream
        self.isHeadRequest = isHeadRequest
    }
}

extension HTTP2DownstreamStream: DownstreamResponder {
    func sendInformationalHead(_ head: HTTPResponseHead) {
        stream.sendInformationalHead(status: Int(head.status.code), headers: head.headers)
    }

    func sendResponseHead(_ head: HTTPResponseHead) {
        let bodiless = isHeadRequest || head.status == .noContent || head.status == .notModified
        stream.sendHead(status: Int(head.status.code), headers: head.headers, endStream: bodiless)
    }

    func sendResponseBody(_ buffer: ByteBuffer) {
        stream.sendBody(buffer)
    }

    func sendResponseEnd(trailers: HTTPHeaders?) {
        stream.sendEnd(trailers: trailers)
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

    var queuedResponseBytes: Int {
        stream.queuedBytes
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
        if retainedForTunnel == nil {
            // Whatever the client still sends is not wanted: keep its window open.
            stream.consumeAllReceived()
        }
    }

    func beginTunnel(upstreamHead head: HTTPResponseHead) -> (any TunnelEndpoint)? {
        // RFC 8441 section 5: a 2xx answers the extended CONNECT; Sec-WebSocket-Accept has no place in HTTP/2.
        var headers = HTTPHeaders()
        for name in ["sec-websocket-protocol", "sec-websocket-extensions"] {
            for value in head.headers[name] {
                headers.add(name: name, value: value)
            }
        }
        stream.sendHead(status: 200, headers: headers, endStream: false)
        stream.flush()
        retainedForTunnel = self
        return self
    }
}

extension HTTP2DownstreamStream: TunnelEndpoint {
    func write(_ buffer: ByteBuffer) {
        stream.sendBody(buffer)
    }

    func flush() {
        stream.flush()
    }

    var isWritable: Bool {
        stream.canTakeResponseBody
    }

    func pauseReading() {
        requestBodyPaused = true
    }

    func resumeReading() {
        requestBodyPaused = false
        stream.consumeAllReceived()
    }

    func closeAfterFlush() {
        stream.sendEnd()
        stream.flush()
        retainedForTunnel = nil
    }

    func finishWriting() {
        stream.sendEnd()
        stream.flush()
    }
}

extension HTTP2DownstreamStream: HTTP2StreamObserver {
    func http2RequestBody(_ buffer: ByteBuffer) {
        if let tunnel {
            let bytes = buffer.readableBytes
            tunnel.received(buffer, from: .downstream)
            tunnel.readComplete(from: .downstream)
            if !requestBodyPaused {
                stream.consume(bytes)
            }
            return
        }
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
        // END_STREAM on an extended CONNECT is a half-close (RFC 8441 section 4): the upstream's bytes still flow.
        tunnel?.inputEnded(.downstream)
        proxyStream?.receiveRequestEnd()
    }

    func http2ResponseCapacityAvailable() {
        tunnel?.becameWritable(.downstream)
        proxyStream?.downstreamBecameWritable()
    }

    func http2StreamClosed(errorCode: UInt32) {
        let tunnel = self.tunnel
        self.tunnel = nil
        retainedForTunnel = nil
        tunnel?.closed(.downstream)
        let proxyStream = self.proxyStream
        self.proxyStream = nil
        proxyStream?.downstreamClosed()
    }
}
