import Foundation
import NIOCore
import NIOPosix

/// A deliberately small HTTP/2 client (RFC 9113) over cleartext with prior knowledge, for what real clients cannot
/// be told to do: leave one stream's flow-control window closed (a client that stops reading that stream) while
/// other streams on the same connection carry on.
///
/// It sends GET requests with HPACK literals only, acknowledges SETTINGS and PING, and keeps the connection window
/// open by returning every DATA byte at once. A stream's own window is returned only while that stream "reads"
/// (`readsAutomatically`). Response header blocks are not decoded; streams record their DATA bytes, END_STREAM,
/// RST_STREAM, and the connection records GOAWAY.
public final class RawHTTP2Client: @unchecked Sendable {
    /// What one stream has received so far.
    public struct StreamState: Sendable {
        public var headerBlocks = 0
        /// The `:status` of the first header block, when `RawHPACK.status(in:)` can read it.
        public var status: Int?
        public var data = Data()
        public var ended = false
        /// The error code of a RST_STREAM from the server.
        public var resetCode: UInt32?
    }

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let state: RawHTTP2State
    private let authority: String
    private let closed = StopFlag()

    /// Connects to 127.0.0.1:`port` and sends the connection preface, SETTINGS (push off, `initialWindowSize` for
    /// every stream) and a connection WINDOW_UPDATE raising the connection window to `connectionWindow` bytes.
    /// With `preface: false` nothing is sent: the caller writes its own first bytes with `sendRaw`. With
    /// `readsSocket: false` nothing is read from the socket until `startReadingSocket()` (a client that never reads).
    public init(
        port: Int,
        initialWindowSize: Int = 65_535,
        connectionWindow: Int = 16 << 20,
        preface: Bool = true,
        readsSocket: Bool = true
    ) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let state = RawHTTP2State()
        do {
            channel = try ClientBootstrap(group: group)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelOption(.autoRead, value: readsSocket)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RawHTTP2FrameHandler(state: state))
                    }
                }
                .connect(host: "127.0.0.1", port: port)
                .wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
        self.state = state
        self.authority = "127.0.0.1:\(port)"
        guard preface else { return }

        var buffer = channel.allocator.buffer(capacity: 64)
        buffer.writeString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        RawHTTP2Frame.writeSettings([(0x2, 0), (0x4, UInt32(initialWindowSize))], into: &buffer)
        let increment = connectionWindow - 65_535
        if increment > 0 {
            RawHTTP2Frame.writeWindowUpdate(stream: 0, increment: UInt32(increment), into: &buffer)
        }
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// Opens a stream with `GET path` and returns its id. While `readsAutomatically` is false the stream's window is
    /// never reopened: once the server has sent the initial window, it must stop sending on this stream.
    /// `streamID` picks the id (the next ones continue above it); nil takes the next unused one. `headers` are
    /// sent after the pseudo-header fields (lowercase names).
    @discardableResult
    public func get(
        _ path: String,
        streamID: UInt32? = nil,
        readsAutomatically: Bool = true,
        headers: [(String, String)] = []
    ) -> UInt32 {
        let id = state.openStream(id: streamID, readsAutomatically: readsAutomatically)
        // END_HEADERS | END_STREAM: a GET has no body.
        sendFrame(type: RawHTTP2Frame.headers, flags: 0x5, stream: id, payload: requestBlock(path: path, extra: headers))
        return id
    }

    /// The header block of `GET path` (HPACK literals), for callers that frame it themselves.
    public func requestBlock(path: String, extra: [(String, String)] = []) -> [UInt8] {
        RawHPACK.literalBlock(
            [
                (":method", "GET"), (":scheme", "http"), (":authority", authority), (":path", path),
                ("user-agent", "streamgate-raw-h2"),
            ] + extra
        )
    }

    /// Sends one frame as given: nothing is checked, so it may break the protocol on purpose.
    public func sendFrame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) {
        var buffer = channel.allocator.buffer(capacity: payload.count + 9)
        RawHTTP2Frame.writeHeader(length: payload.count, type: type, flags: flags, stream: stream, into: &buffer)
        buffer.writeBytes(payload)
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// Sends bytes as they are (many frames at once, or no HTTP/2 at all).
    public func sendRaw(_ bytes: [UInt8]) {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// Starts reading the socket of a client made with `readsSocket: false`.
    public func startReadingSocket() {
        channel.setOption(.autoRead, value: true).whenComplete { _ in }
    }

    /// RST_STREAM on `id` with `code` (8 = CANCEL).
    public func reset(_ id: UInt32, code: UInt32 = 8) {
        sendFrame(type: RawHTTP2Frame.rstStream, flags: 0, stream: id, payload: RawHTTP2Frame.uint32(code))
    }

    /// Reopens stream `id`'s window by `bytes` and from now on returns every byte it receives (it reads again).
    public func resumeReading(_ id: UInt32, bytes: Int) {
        state.setReadsAutomatically(id)
        var buffer = channel.allocator.buffer(capacity: 13)
        RawHTTP2Frame.writeWindowUpdate(stream: id, increment: UInt32(min(bytes, Int(Int32.max))), into: &buffer)
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// A snapshot of stream `id` (empty if nothing arrived yet).
    public func stream(_ id: UInt32) -> StreamState {
        state.stream(id)
    }

    /// The error code of the server's GOAWAY, if one arrived.
    public var goAwayCode: UInt32? { state.goAwayCode }

    /// The debug data of the server's last GOAWAY, as text.
    public var goAwayReason: String? { state.goAwayReason }

    /// Waits up to `timeout` seconds for the server to close the connection.
    @discardableResult
    public func waitForClose(timeout: TimeInterval) -> Bool {
        Wait.until(timeout: timeout) { self.isClosed }
    }

    /// Whether the server closed the connection.
    public var isClosed: Bool { state.isClosed }

    /// Waits up to `timeout` seconds until `condition` holds for stream `id`.
    @discardableResult
    public func waitForStream(_ id: UInt32, timeout: TimeInterval, _ condition: (StreamState) -> Bool) -> Bool {
        Wait.until(timeout: timeout) { condition(self.stream(id)) }
    }

    /// Closes the TCP connection and stops the event loop. Safe to call twice.
    /// Closes the connection and stops the client's event loop; safe to call twice.
    public func close() {
        guard closed.markStopped() else { return }
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    deinit {
        if channel.isActive {
            channel.close(promise: nil)
        }
        try? group.syncShutdownGracefully()
    }
}

/// The client's streams and connection state, shared by the frame handler (event loop) and the test thread.
private final class RawHTTP2State: @unchecked Sendable {
    private let lock = NSLock()
    private var nextStreamID: UInt32 = 1
    private var streams: [UInt32: RawHTTP2Client.StreamState] = [:]
    private var reading: Set<UInt32> = []
    private var goAway: UInt32?
    private var goAwayDebug: String?
    private var closed = false

    var goAwayCode: UInt32? { lock.withLock { goAway } }
    var goAwayReason: String? { lock.withLock { goAwayDebug } }
    var isClosed: Bool { lock.withLock { closed } }

    func openStream(id chosen: UInt32?, readsAutomatically: Bool) -> UInt32 {
        lock.withLock {
            let id = chosen ?? nextStreamID
            nextStreamID = max(nextStreamID, id + 2)
            streams[id] = RawHTTP2Client.StreamState()
            if readsAutomatically {
                reading.insert(id)
            }
            return id
        }
    }

    func setReadsAutomatically(_ id: UInt32) {
        lock.withLock { _ = reading.insert(id) }
    }

    func stream(_ id: UInt32) -> RawHTTP2Client.StreamState {
        lock.withLock { streams[id] ?? RawHTTP2Client.StreamState() }
    }

    /// Records DATA; returns whether the stream's window should be reopened by the payload's size.
    func received(data: ByteBufferView, on id: UInt32, endStream: Bool) -> Bool {
        lock.withLock {
            var stream = streams[id] ?? RawHTTP2Client.StreamState()
            stream.data.append(contentsOf: data)
            stream.ended = stream.ended || endStream
            streams[id] = stream
            return reading.contains(id) && !stream.ended
        }
    }

    func receivedHeaders(on id: UInt32, endStream: Bool, status: Int?) {
        lock.withLock {
            var stream = streams[id] ?? RawHTTP2Client.StreamState()
            if stream.headerBlocks == 0 {
                stream.status = status
            }
            stream.headerBlocks += 1
            stream.ended = stream.ended || endStream
            streams[id] = stream
        }
    }

    func receivedReset(on id: UInt32, code: UInt32) {
        lock.withLock {
            var stream = streams[id] ?? RawHTTP2Client.StreamState()
            stream.resetCode = code
            streams[id] = stream
        }
    }

    func receivedGoAway(code: UInt32, debug: String) {
        lock.withLock {
            goAway = code
            goAwayDebug = debug
        }
    }

    func connectionClosed() {
        lock.withLock { closed = true }
    }
}

/// Splits the server's bytes into frames and answers what the protocol requires (SETTINGS ACK, PING ACK,
/// WINDOW_UPDATE for received DATA).
private final class RawHTTP2FrameHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let state: RawHTTP2State
    private var pending: ByteBuffer?

    init(state: RawHTTP2State) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if pending == nil {
            pending = incoming
        } else {
            pending?.writeBuffer(&incoming)
        }
        var replies = context.channel.allocator.buffer(capacity: 0)
        while let frame = nextFrame() {
            handle(frame.type, flags: frame.flags, stream: frame.stream, payload: frame.payload, replies: &replies)
        }
        if replies.readableBytes > 0 {
            context.writeAndFlush(wrapOutboundOut(replies), promise: nil)
        }
    }

    /// The next complete frame of `pending`, consumed; nil until one has fully arrived.
    private func nextFrame() -> (type: UInt8, flags: UInt8, stream: UInt32, payload: ByteBuffer)? {
        guard var buffer = pending, buffer.readableBytes >= 9,
              let high = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let low = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt16.self)
        else { return nil }
        let length = Int(high) << 16 | Int(low)
        guard buffer.readableBytes >= 9 + length else { return nil }
        buffer.moveReaderIndex(forwardBy: 3)
        let type = buffer.readInteger(as: UInt8.self) ?? 0
        let flags = buffer.readInteger(as: UInt8.self) ?? 0
        let stream = (buffer.readInteger(as: UInt32.self) ?? 0) & 0x7FFF_FFFF
        let payload = buffer.readSlice(length: length) ?? ByteBuffer()
        pending = buffer.readableBytes > 0 ? buffer : nil
        return (type, flags, stream, payload)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.connectionClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func handle(_ type: UInt8, flags: UInt8, stream: UInt32, payload: ByteBuffer, replies: inout ByteBuffer) {
        let endStream = flags & 0x1 != 0
        switch type {
        case RawHTTP2Frame.data:
            var content = payload
            if flags & 0x8 != 0, let padding = content.readInteger(as: UInt8.self) {
                let length = max(0, content.readableBytes - Int(padding))
                content = content.getSlice(at: content.readerIndex, length: length) ?? ByteBuffer()
            }
            let reopen = state.received(data: content.readableBytesView, on: stream, endStream: endStream)
            // Flow control counts the whole payload, padding included.
            if payload.readableBytes > 0 {
                RawHTTP2Frame.writeWindowUpdate(stream: 0, increment: UInt32(payload.readableBytes), into: &replies)
                if reopen {
                    RawHTTP2Frame.writeWindowUpdate(
                        stream: stream,
                        increment: UInt32(payload.readableBytes),
                        into: &replies
                    )
                }
            }
        case RawHTTP2Frame.headers:
            state.receivedHeaders(on: stream, endStream: endStream, status: RawHPACK.status(in: payload))
        case RawHTTP2Frame.rstStream:
            state.receivedReset(on: stream, code: payload.getInteger(at: payload.readerIndex, as: UInt32.self) ?? 0)
        case RawHTTP2Frame.settings where flags & 0x1 == 0:
            RawHTTP2Frame.writeHeader(length: 0, type: RawHTTP2Frame.settings, flags: 0x1, stream: 0, into: &replies)
        case RawHTTP2Frame.ping where flags & 0x1 == 0:
            var opaque = payload
            RawHTTP2Frame.writeHeader(length: 8, type: RawHTTP2Frame.ping, flags: 0x1, stream: 0, into: &replies)
            replies.writeBuffer(&opaque)
        case RawHTTP2Frame.goAway:
            let debug = payload.getString(at: payload.readerIndex + 8, length: max(0, payload.readableBytes - 8))
            state.receivedGoAway(
                code: payload.getInteger(at: payload.readerIndex + 4, as: UInt32.self) ?? 0,
                debug: debug ?? ""
            )
        default:
            break  // PRIORITY, WINDOW_UPDATE, CONTINUATION, ACKs: nothing to do
        }
    }
}

/// Frame layout of RFC 9113 section 4.1: 24-bit length, type, flags, 31-bit stream id.
public enum RawHTTP2Frame {
    public static let data: UInt8 = 0x0
    public static let headers: UInt8 = 0x1
    public static let rstStream: UInt8 = 0x3
    public static let settings: UInt8 = 0x4
    public static let ping: UInt8 = 0x6
    public static let goAway: UInt8 = 0x7
    public static let windowUpdate: UInt8 = 0x8

    static func writeHeader(length: Int, type: UInt8, flags: UInt8, stream: UInt32, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(truncatingIfNeeded: length >> 16))
        buffer.writeInteger(UInt16(truncatingIfNeeded: length))
        buffer.writeInteger(type)
        buffer.writeInteger(flags)
        buffer.writeInteger(stream & 0x7FFF_FFFF)
    }

    static func writeSettings(_ settings: [(UInt16, UInt32)], into buffer: inout ByteBuffer) {
        writeHeader(length: settings.count * 6, type: Self.settings, flags: 0, stream: 0, into: &buffer)
        for (identifier, value) in settings {
            buffer.writeInteger(identifier)
            buffer.writeInteger(value)
        }
    }

    public static let priority: UInt8 = 0x2
    public static let continuation: UInt8 = 0x9

    /// `value` as four big-endian octets.
    public static func uint32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// One whole frame as bytes, for callers that batch many into one `sendRaw`.
    public static func bytes(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        let length = payload.count
        return [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags]
            + uint32(stream & 0x7FFF_FFFF) + payload
    }

    static func writeWindowUpdate(stream: UInt32, increment: UInt32, into buffer: inout ByteBuffer) {
        writeHeader(length: 4, type: windowUpdate, flags: 0, stream: stream, into: &buffer)
        buffer.writeInteger(increment & 0x7FFF_FFFF)
    }
}

/// HPACK (RFC 7541) as little as a client needs: "literal header field without indexing, new name", no Huffman,
/// so no dynamic table is ever involved on the encoding side.
public enum RawHPACK {
    public static func literalBlock(_ fields: [(String, String)]) -> [UInt8] {
        var block: [UInt8] = []
        for (name, value) in fields {
            block.append(0x00)
            appendString(name, to: &block)
            appendString(value, to: &block)
        }
        return block
    }

    /// "Literal header field with incremental indexing, new name" (RFC 7541 section 6.2.1): the field is added to
    /// the server's dynamic table, where index 62 then names it.
    public static func indexedLiteral(name: String, value: String) -> [UInt8] {
        var block: [UInt8] = [0x40]
        appendString(name, to: &block)
        appendString(value, to: &block)
        return block
    }

    /// The `:status` a response header block starts with, when it is a static-table entry (200, 204, 206, 304,
    /// 400, 404, 500) or a literal (plain or Huffman-coded digits). A status the server's dynamic table already
    /// holds (one seen earlier on the connection) is not read: nil.
    static func status(in block: ByteBuffer) -> Int? {
        let bytes = Array(block.readableBytesView)
        guard let first = bytes.first else { return nil }
        let staticStatuses: [UInt8: Int] = [0x88: 200, 0x89: 204, 0x8A: 206, 0x8B: 304, 0x8C: 400, 0x8D: 404, 0x8E: 500]
        if let status = staticStatuses[first] { return status }
        // Literal with incremental indexing (0x40), without (0x00) or never indexed (0x10), name index 8-14.
        let nameIndex: UInt8 = first & 0x40 != 0 ? first & 0x3F : first & 0x0F
        guard first & 0x80 == 0, (8...14).contains(nameIndex), bytes.count >= 2 else { return nil }
        let huffman = bytes[1] & 0x80 != 0
        let length = Int(bytes[1] & 0x7F)
        guard bytes.count >= 2 + length else { return nil }
        let value = Array(bytes[2..<(2 + length)])
        let digits = huffman ? huffmanDigits(value) : String(decoding: value, as: UTF8.self)
        return digits.flatMap { Int($0) }
    }

    /// Decodes a Huffman string of digits only (RFC 7541 appendix B: '0'-'2' are 5-bit codes 0-2, '3'-'9' are
    /// 6-bit codes 25-31); nil when anything else is in it.
    private static func huffmanDigits(_ octets: [UInt8]) -> String? {
        var bits: [Bool] = []
        for octet in octets {
            for shift in (0..<8).reversed() { bits.append(octet >> UInt8(shift) & 1 == 1) }
        }
        func value(_ start: Int, _ count: Int) -> Int {
            bits[start..<(start + count)].reduce(0) { $0 << 1 | ($1 ? 1 : 0) }
        }
        var text = ""
        var position = 0
        while position < bits.count {
            if bits[position...].allSatisfy({ $0 }) && bits.count - position < 8 { break }  // EOS padding
            guard bits.count - position >= 5 else { return nil }
            let five = value(position, 5)
            if five <= 2 {
                text.append(Character(String(five)))
                position += 5
                continue
            }
            guard bits.count - position >= 6 else { return nil }
            let six = value(position, 6)
            guard (25...31).contains(six) else { return nil }
            text.append(Character(String(six - 22)))
            position += 6
        }
        return text
    }

    /// A string literal: H bit clear, length as a 7-bit prefix integer (RFC 7541 section 5.1), then the octets.
    private static func appendString(_ text: String, to block: inout [UInt8]) {
        let bytes = Array(text.utf8)
        var length = bytes.count
        if length < 127 {
            block.append(UInt8(length))
        } else {
            block.append(127)
            length -= 127
            while length >= 128 {
                block.append(UInt8(length % 128 + 128))
                length /= 128
            }
            block.append(UInt8(length))
        }
        block.append(contentsOf: bytes)
    }
}
