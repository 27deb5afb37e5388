import Logging
import NIOCore
import NIOHTTP1
import StreamGateHTTP2

/// One cleartext HTTP/2 connection (prior knowledge, RFC 9113 section 3.3) to one upstream server, carrying the
/// streams of many clients: owns the libnghttp2 client session driven in memory, the map from stream id to
/// `UpstreamHTTP2Stream`, and the connection's life (usable while it has room for a stream and no GOAWAY, closed
/// when the last stream of a going-away or idle connection is done). DATA reaches the streams as slices of the
/// read buffer, without a copy. On its channel's event loop.
final class UpstreamHTTP2Connection: ChannelInboundHandler, HTTP2ClientSessionDelegate {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let serverIndex: Int
    let eventLoop: any EventLoop
    private let session: HTTP2ClientSession
    private let maxStreams: Int
    private let idleTimeout: TimeAmount
    private var context: ChannelHandlerContext?
    private var streams: [Int32: UpstreamHTTP2Stream] = [:]
    /// Streams handed out: submitted or about to be.
    private var reserved = 0
    private(set) var isGoingAway = false
    private var isClosed = false
    /// Streams that received bytes in the current read, told when the read completes.
    private var touched: [UpstreamHTTP2Stream] = []
    /// The buffer being fed to nghttp2, so DATA can be handed on as slices of it.
    private var input: ByteBuffer?
    private var inputBase: UnsafeRawPointer?
    /// Inside `session.receive`: frames are written when it returns, not from inside nghttp2's callbacks.
    private var isReceiving = false
    private var idleClose: Scheduled<Void>?
    /// Told once when the connection can take no more streams for good (GOAWAY, closed), so the pool forgets it.
    var onRetired: ((UpstreamHTTP2Connection) -> Void)?

    /// Each stream's window: what the origin may send ahead of a client that stopped reading.
    static let streamWindow: UInt32 = 256 * 1024
    /// The connection's window, reopened as DATA arrives (streams hold back only their own windows).
    static let connectionWindow: Int32 = 16 * 1024 * 1024

    init(serverIndex: Int, eventLoop: any EventLoop, maxStreams: Int, idleTimeout: TimeAmount) throws {
        self.serverIndex = serverIndex
        self.eventLoop = eventLoop
        self.maxStreams = maxStreams
        self.idleTimeout = idleTimeout
        session = try HTTP2ClientSession(
            configuration: .init(
                streamWindow: Self.streamWindow,
                connectionWindow: Self.connectionWindow,
                manualFlowControl: true
            )
        )
        session.delegate = self
    }

    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    /// Another stream may be opened here now.
    var hasRoom: Bool {
        !isGoingAway && !isClosed && context != nil
            && reserved < min(maxStreams, Int(clamping: session.serverMaxConcurrentStreams))
    }

    /// Streams in flight, for the admin view and tests.
    var streamCount: Int { reserved }

    /// A new exchange on this connection (counted against its room until it is released).
    func makeStream() -> UpstreamHTTP2Stream {
        reserved += 1
        idleClose?.cancel()
        idleClose = nil
        return UpstreamHTTP2Stream(connection: self, serverIndex: serverIndex)
    }

    // MARK: Channel

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        flushOutput()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        input = buffer
        defer {
            input = nil
            inputBase = nil
        }
        isReceiving = true
        do {
            try buffer.withUnsafeReadableBytes { bytes in
                inputBase = bytes.baseAddress.map { UnsafeRawPointer($0) }
                try session.receive(bytes)
            }
            isReceiving = false
        } catch {
            isReceiving = false
            failConnection(error: UpstreamHTTP2ProtocolError(reason: "\(error)"))
            return
        }
        flushOutput()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        let streams = touched
        touched.removeAll(keepingCapacity: true)
        for stream in streams {
            stream.readComplete()
        }
        if isGoingAway && reserved == 0 {
            context.close(promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        guard context.channel.isWritable else { return }
        for stream in streams.values {
            stream.becameWritable()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failConnection(error: error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failConnection(error: UpstreamConnectionClosed())
        context.fireChannelInactive()
    }

    // MARK: Streams

    /// Submits a request; its id, or nil when nghttp2 cannot open another stream here.
    func submit(_ head: HTTPRequestHead, withBody: Bool, for stream: UpstreamHTTP2Stream) -> Int32? {
        guard !isClosed else { return nil }
        let id = session.submitRequest(Self.requestFields(head), withBody: withBody)
        guard id > 0 else {
            retire()
            return nil
        }
        streams[id] = stream
        return id
    }

    func resumeRequestBody(_ streamID: Int32) {
        session.resumeRequestBody(streamID: streamID)
    }

    func consume(streamID: Int32, bytes: Int) {
        session.consume(streamID: streamID, bytes: bytes)
    }

    /// The client side let go of a stream that was still open: RST_STREAM CANCEL.
    func reset(streamID: Int32) {
        session.reset(streamID: streamID, errorCode: Self.cancel)
        flushOutput()
    }

    /// A stream's owner is done with it: it no longer counts against the connection's room.
    func streamReleased(_ stream: UpstreamHTTP2Stream) {
        if let id = stream.streamID, streams[id] === stream {
            streams[id] = nil
        }
        reserved -= 1
        guard reserved == 0, !isClosed else { return }
        if isGoingAway {
            context?.close(promise: nil)
        } else {
            idleClose = eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [weak self] in
                guard let self, self.reserved == 0 else { return }
                self.retire()
                self.context?.close(promise: nil)
            }
        }
    }

    /// Writes every frame nghttp2 has ready and flushes.
    func flushOutput() {
        guard let context, !isClosed, !isReceiving else { return }
        var output: ByteBuffer?
        do {
            while let bytes = try session.nextOutput() {
                if output == nil {
                    output = context.channel.allocator.buffer(capacity: bytes.count)
                }
                output?.writeBytes(bytes)
            }
        } catch {
            failConnection(error: UpstreamHTTP2ProtocolError(reason: "\(error)"))
            return
        }
        if let output {
            context.writeAndFlush(wrapOutboundOut(output), promise: nil)
        }
    }

    /// Closes the connection at once (shutdown).
    func closeConnection() {
        retire()
        context?.close(promise: nil)
    }

    private func retire() {
        guard !isGoingAway else { return }
        isGoingAway = true
        onRetired?(self)
        onRetired = nil
    }

    private func failConnection(error: any Error) {
        guard !isClosed else { return }
        retire()
        isClosed = true
        idleClose?.cancel()
        let failed = Array(streams.values)
        streams.removeAll()
        for stream in failed {
            stream.fail(error)
        }
        context?.close(promise: nil)
    }

    // MARK: HTTP2ClientSessionDelegate

    func streamReceivedField(_ streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        streams[streamID]?.receiveField(name: name, value: value)
    }

    func streamReceivedHeaders(_ streamID: Int32, endStream: Bool) {
        streams[streamID]?.receiveHeaders()
    }

    func streamReceivedData(_ streamID: Int32, bytes: UnsafeRawBufferPointer) {
        session.consumeConnection(bytes: bytes.count)
        guard let stream = streams[streamID] else {
            // A stream StreamGate already let go of (reset, not yet closed): its bytes are dropped.
            session.consume(streamID: streamID, bytes: bytes.count)
            return
        }
        stream.receiveData(slice(bytes))
        if touched.last !== stream {
            touched.append(stream)
        }
    }

    func streamEnded(_ streamID: Int32) {
        streams[streamID]?.receiveEnd()
    }

    func streamClosed(_ streamID: Int32, errorCode: UInt32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        stream.closed(errorCode: errorCode, refused: errorCode == Self.refusedStream)
    }

    func receivedGoaway(errorCode: UInt32, lastStreamID: Int32) {
        // Streams up to lastStreamID finish here; nghttp2 closes those above it with REFUSED_STREAM, and their
        // streams are retried on a new connection. New streams go to a new connection from now on.
        retire()
    }

    func requestBody(_ streamID: Int32, into target: UnsafeMutableRawBufferPointer) -> (count: Int, end: Bool)? {
        guard let stream = streams[streamID] else { return (0, true) }
        return stream.takeRequestBody(into: target)
    }

    /// `bytes` (inside the buffer being received) as a slice of it; a copy only if nghttp2 ever handed over
    /// bytes from elsewhere.
    private func slice(_ bytes: UnsafeRawBufferPointer) -> ByteBuffer {
        if let input, let inputBase, let base = bytes.baseAddress {
            let offset = UnsafeRawPointer(base) - inputBase
            if offset >= 0, offset + bytes.count <= input.readableBytes,
                let slice = input.getSlice(at: input.readerIndex + offset, length: bytes.count)
            {
                return slice
            }
        }
        var copy = allocator.buffer(capacity: bytes.count)
        copy.writeBytes(bytes)
        return copy
    }

    // MARK: Request fields

    static let cancel: UInt32 = 0x8
    static let refusedStream: UInt32 = 0x7

    /// Fields HTTP/2 forbids (RFC 9113 section 8.2.2) and Host, which becomes :authority.
    private static let connectionSpecific: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host",
    ]

    /// The HTTP/1-style head as HTTP/2 fields: pseudo-header fields first, names lower-cased.
    static func requestFields(_ head: HTTPRequestHead) -> [(String, String)] {
        var fields: [(String, String)] = [
            (":method", head.method.rawValue),
            (":scheme", "http"),
            (":authority", head.headers.first(name: "host") ?? ""),
            (":path", head.uri),
        ]
        fields.reserveCapacity(head.headers.count + 4)
        for (name, value) in head.headers {
            let lowered = name.lowercased()
            if connectionSpecific.contains(lowered) { continue }
            if lowered == "te" && value.lowercased() != "trailers" { continue }
            fields.append((lowered, value))
        }
        return fields
    }
}

/// The upstream broke HTTP/2 (a frame nghttp2 could not accept): the connection and its streams are closed.
struct UpstreamHTTP2ProtocolError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "upstream HTTP/2 error: \(reason)" }
}
