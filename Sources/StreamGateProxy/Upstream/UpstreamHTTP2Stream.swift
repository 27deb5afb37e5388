import NIOCore
import NIOHTTP1

/// One request/response exchange on a shared HTTP/2 upstream connection: buffers the request head until it
/// knows whether a body follows (a GET goes out as one HEADERS frame with END_STREAM), queues request body
/// bytes for the connection's data provider, rebuilds the response head and trailers from the HEADERS fields,
/// and holds back the stream's flow-control window while its client cannot take more (`pauseReading`), so a
/// slow client stops only its own stream at the origin. On the connection's event loop.
final class UpstreamHTTP2Stream: UpstreamExchange {
    /// The stream using this exchange. Held strongly, as `UpstreamHTTP1Handler` holds its own: `close` (the stream
    /// lets the exchange go) and `fail` (the stream or its connection broke) clear it.
    var delegate: (any UpstreamResponseDelegate)?
    let serverIndex: Int
    private let connection: UpstreamHTTP2Connection
    private var countedOn: UpstreamServer?

    /// The nghttp2 stream id, once the request head was submitted.
    private(set) var streamID: Int32?
    private var pendingHead: HTTPRequestHead?
    private var requestBody = CircularBuffer<ByteBuffer>()
    private(set) var queuedBodyBytes = 0
    private var requestEnded = false
    /// The request went out with END_STREAM (HEADERS or the last DATA).
    private(set) var requestSent = false

    private var status: HTTPResponseStatus?
    private var fields = HTTPHeaders()
    private var finalHeadReceived = false
    private var trailers: HTTPHeaders?
    /// END_STREAM from the server.
    private(set) var responseEnded = false
    /// nghttp2 closed the stream (or it never opened): nothing more comes or goes.
    private(set) var isClosed = false

    private var isPaused = false
    /// DATA bytes delivered while paused, whose window reopens on `resumeReading`.
    private var unconsumed = 0
    private(set) var isRetrySafe = false
    /// `close` ran: the connection no longer counts this stream.
    private var isReleased = false

    init(connection: UpstreamHTTP2Connection, serverIndex: Int) {
        self.connection = connection
        self.serverIndex = serverIndex
    }

    var server: UpstreamServer? { countedOn }
    var allocator: ByteBufferAllocator { connection.allocator }
    /// The request body queued here stays under one window, and the socket takes more.
    var isWritable: Bool { queuedBodyBytes < Self.bodyQueueLimit && connection.isWritable }

    /// Request body bytes held before the writer is told to wait (the same as one stream window).
    static let bodyQueueLimit = 65_536

    func carryStream(of server: UpstreamServer) {
        countedOn = server
    }

    private func streamEnded() {
        countedOn?.streamEnded()
        countedOn = nil
    }

    // MARK: Request

    func write(_ part: HTTPClientRequestPart) {
        guard !isClosed else { return }
        switch part {
        case .head(let head):
            pendingHead = head
        case .body(.byteBuffer(let buffer)):
            queuedBodyBytes += buffer.readableBytes
            requestBody.append(buffer)
        case .body(.fileRegion):
            preconditionFailure("request bodies are byte buffers")
        case .end:
            requestEnded = true
        }
    }

    func flush() {
        guard !isClosed else { return }
        if let head = pendingHead {
            pendingHead = nil
            let withBody = !(requestEnded && requestBody.isEmpty)
            guard let id = connection.submit(head, withBody: withBody, for: self) else {
                // No stream could be opened (the connection is going away): another connection may take it.
                isRetrySafe = true
                fail(UpstreamConnectionClosed())
                return
            }
            streamID = id
            if !withBody {
                requestSent = true
            }
        } else if let streamID, !requestSent {
            connection.resumeRequestBody(streamID)
        }
        connection.flushOutput()
    }

    /// The data provider's call: copies queued body bytes into the DATA frame nghttp2 is building.
    func takeRequestBody(into target: UnsafeMutableRawBufferPointer) -> (count: Int, end: Bool)? {
        var written = 0
        while written < target.count, var buffer = requestBody.first {
            let count = min(buffer.readableBytes, target.count - written)
            buffer.withUnsafeReadableBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: target[written..<(written + count)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
            }
            buffer.moveReaderIndex(forwardBy: count)
            written += count
            if buffer.readableBytes == 0 {
                requestBody.removeFirst()
            } else {
                requestBody[requestBody.startIndex] = buffer
            }
        }
        let wasBlocked = queuedBodyBytes >= Self.bodyQueueLimit
        queuedBodyBytes -= written
        let end = requestEnded && requestBody.isEmpty
        if end {
            requestSent = true
        }
        if wasBlocked && queuedBodyBytes < Self.bodyQueueLimit {
            connection.eventLoop.assumeIsolated().execute { [weak self] in
                self?.delegate?.upstreamBecameWritable()
            }
        }
        if written == 0 && !end {
            return nil
        }
        return (written, end)
    }

    // MARK: Response

    func receiveField(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        if name.first == UInt8(ascii: ":") {
            if name.elementsEqual(":status".utf8), let code = Int(String(decoding: value, as: UTF8.self)) {
                status = HTTPResponseStatus(statusCode: code)
            }
            return
        }
        let name = String(decoding: name, as: UTF8.self)
        let value = String(decoding: value, as: UTF8.self)
        if finalHeadReceived {
            trailers = trailers ?? HTTPHeaders()
            trailers?.add(name: name, value: value)
        } else {
            fields.add(name: name, value: value)
        }
    }

    func receiveHeaders() {
        guard !finalHeadReceived, let status else { return }
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: fields)
        fields = HTTPHeaders()
        self.status = nil
        if status.code / 100 == 1 {
            delegate?.upstreamInformationalHead(head)
        } else {
            finalHeadReceived = true
            delegate?.upstreamResponseHead(head)
        }
    }

    /// DATA payload; the connection window was already reopened, the stream's reopens once the client takes it.
    func receiveData(_ buffer: ByteBuffer) {
        let count = buffer.readableBytes
        delegate?.upstreamResponseBody(buffer)
        guard let streamID else { return }
        if isPaused {
            unconsumed += count
        } else {
            connection.consume(streamID: streamID, bytes: count)
        }
    }

    func receiveEnd() {
        responseEnded = true
        delegate?.upstreamResponseEnd(trailers: trailers)
    }

    func readComplete() {
        delegate?.upstreamReadComplete()
    }

    func becameWritable() {
        delegate?.upstreamBecameWritable()
    }

    /// nghttp2 closed the stream; `errorCode` is 0 after both ends, else the reset's code.
    func closed(errorCode: UInt32, refused: Bool) {
        isClosed = true
        streamEnded()
        guard !responseEnded else { return }
        isRetrySafe = refused
        fail(UpstreamStreamReset(errorCode: errorCode, refused: refused))
    }

    /// The connection failed under this stream.
    func fail(_ error: any Error) {
        isClosed = true
        streamEnded()
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamFailed(error)
    }

    // MARK: Stream control

    func pauseReading() {
        isPaused = true
    }

    func resumeReading() {
        guard isPaused else { return }
        isPaused = false
        if let streamID, unconsumed > 0, !isClosed {
            connection.consume(streamID: streamID, bytes: unconsumed)
            connection.flushOutput()
        }
        unconsumed = 0
    }

    func convertToTunnel() throws -> ChannelTunnelHandler {
        throw UpstreamHTTP2TunnelUnsupported()
    }

    func close() {
        delegate = nil
        streamEnded()
        guard !isReleased else { return }
        isReleased = true
        requestBody.removeAll()
        if !isClosed, let streamID, !(responseEnded && requestSent) {
            connection.reset(streamID: streamID)
        }
        isClosed = true
        connection.streamReleased(self)
    }
}

/// The server reset an upstream HTTP/2 stream (or refused it, REFUSED_STREAM / above its GOAWAY).
struct UpstreamStreamReset: Error, CustomStringConvertible {
    var errorCode: UInt32
    var refused: Bool

    var description: String {
        refused ? "upstream refused the stream (HTTP/2 error \(errorCode))" : "upstream reset the stream (HTTP/2 error \(errorCode))"
    }
}

/// WebSocket upgrades take an HTTP/1.1 connection of their own, never a stream of a shared one.
struct UpstreamHTTP2TunnelUnsupported: Error, CustomStringConvertible {
    var description: String { "an HTTP/2 upstream stream cannot become a WebSocket tunnel" }
}
