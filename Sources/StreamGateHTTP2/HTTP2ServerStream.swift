import NIOCore
import NIOHTTP1

/// What the application learns about one client stream after its request head.
public protocol HTTP2StreamObserver: AnyObject {
    /// A DATA frame's payload.
    func http2RequestBody(_ buffer: ByteBuffer)
    /// The client half-closed the stream (END_STREAM).
    func http2RequestEnd()
    /// Response bytes queued on the stream fell below the bound: more may be sent.
    func http2ResponseCapacityAvailable()
    /// The stream closed: normally (error code 0 after the response ended) or reset by the client, by a connection
    /// error or by shutdown.
    func http2StreamClosed(errorCode: UInt32)
}

/// One client stream of an HTTP/2 connection, as the application sees it: send the response head, body and end;
/// report request body bytes as consumed (flow control); reset. All calls on the connection's event loop.
public final class HTTP2ServerStream {
    public let streamID: Int32
    /// Held strongly until the stream closes (the connection hands it over with `takeObserver` then, or when the
    /// connection closes or its handler leaves): a weak reference would give the observer a side table, and every
    /// retain of it on the per-event path the slow way.
    public var observer: (any HTTP2StreamObserver)?

    unowned let connection: HTTP2ServerConnectionHandler
    /// Response body waiting for nghttp2's data provider to take it; room for one buffer at first (a ring of two
    /// slots): most streams never hold more at a time, and it doubles when one does.
    private var queued = CircularBuffer<ByteBuffer>(initialCapacity: 2)
    /// Response bytes queued and not yet taken into DATA frames.
    public private(set) var queuedBytes = 0
    private(set) var responseEnded = false
    /// Trailer fields to send after the last DATA frame, in a HEADERS frame that ends the stream.
    private(set) var trailers: HTTPHeaders?
    private var headSent = false
    private(set) var closed = false
    /// Request body bytes delivered but not yet acknowledged with a window update.
    private(set) var unconsumedBytes = 0

    /// Queued response bytes above which `canTakeResponseBody` is false.
    private let queueHighWatermark: Int

    init(streamID: Int32, connection: HTTP2ServerConnectionHandler, queueHighWatermark: Int) {
        self.streamID = streamID
        self.connection = connection
        self.queueHighWatermark = queueHighWatermark
    }

    /// Whether more response body may be queued now.
    public var canTakeResponseBody: Bool {
        !closed && queuedBytes < queueHighWatermark
    }

    /// Sends an interim 1xx response (a HEADERS frame without END_STREAM) before the final head.
    public func sendInformationalHead(status: Int, headers: HTTPHeaders) {
        guard !closed, !headSent, (102..<200).contains(status) else { return }
        connection.submitInformational(self, status: status, headers: headers)
    }

    /// Sends the response head; `endStream` for a response without body.
    public func sendHead(status: Int, headers: HTTPHeaders, endStream: Bool) {
        guard !closed, !headSent else { return }
        headSent = true
        if endStream {
            responseEnded = true
        }
        connection.submitResponse(self, status: status, headers: headers, withBody: !endStream)
    }

    /// Queues body bytes; they go out as DATA frames as flow control allows.
    public func sendBody(_ buffer: ByteBuffer) {
        guard !closed, !responseEnded, buffer.readableBytes > 0 else { return }
        queued.append(buffer)
        queuedBytes += buffer.readableBytes
        connection.resumeData(self)
    }

    /// Ends the response: END_STREAM after the queued bytes, or, with `trailers`, a trailing HEADERS frame that
    /// carries them and ends the stream.
    public func sendEnd(trailers: HTTPHeaders? = nil) {
        guard !closed, !responseEnded else { return }
        responseEnded = true
        if let trailers, !trailers.isEmpty, headSent {
            self.trailers = trailers
        }
        connection.resumeData(self)
    }

    /// Writes what the session has pending to the socket, at the end of this event-loop tick (coalesced with the
    /// other streams of the connection).
    public func flush() {
        connection.scheduleFlush()
    }

    /// Resets the stream (RST_STREAM) with `errorCode` (RFC 9113 section 7; 0x2 INTERNAL_ERROR, 0x8 CANCEL).
    public func reset(errorCode: UInt32) {
        guard !closed else { return }
        connection.resetStream(self, errorCode: errorCode)
    }

    /// Acknowledges `bytes` of request body as taken by the application, reopening the client's window.
    public func consume(_ bytes: Int) {
        let bytes = min(bytes, unconsumedBytes)
        guard bytes > 0 else { return }
        unconsumedBytes -= bytes
        connection.consume(self, bytes: bytes)
    }

    /// Acknowledges every request body byte received so far.
    public func consumeAllReceived() {
        consume(unconsumedBytes)
    }

    /// Moves `count` queued bytes (at most `queuedBytes`) to the end of `output`; returns how many.
    func dequeue(_ count: Int, into output: inout ByteBuffer) -> Int {
        var moved = 0
        while moved < count, var first = queued.first {
            let take = min(first.readableBytes, count - moved)
            if take == first.readableBytes {
                output.writeBuffer(&first)
                queued.removeFirst()
            } else {
                // A prefix of the first buffer: written straight from its storage, then skipped.
                output.writeImmutableBuffer(first.getSlice(at: first.readerIndex, length: take) ?? ByteBuffer())
                first.moveReaderIndex(forwardBy: take)
                queued[queued.startIndex] = first
            }
            moved += take
        }
        queuedBytes -= moved
        return moved
    }

    // MARK: Connection-side bookkeeping (HTTP2ServerConnectionHandler)

    /// Request body bytes arrived on the stream, not yet acknowledged.
    func receivedRequestBytes(_ count: Int) {
        unconsumedBytes += count
    }

    /// The observer, for the last time: the stream closed, and lets go of it.
    func takeObserver() -> (any HTTP2StreamObserver)? {
        defer { observer = nil }
        return observer
    }

    /// The stream closed; returns the request bytes never acknowledged, which the connection window still owes.
    func markClosed() -> Int {
        closed = true
        defer { unconsumedBytes = 0 }
        return unconsumedBytes
    }
}
