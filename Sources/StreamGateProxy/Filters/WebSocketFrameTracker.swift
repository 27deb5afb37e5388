import NIOCore

/// Follows RFC 6455 frame boundaries (section 5.2, https://www.rfc-editor.org/rfc/rfc6455#section-5.2) in one
/// direction of a WebSocket tunnel, so that StreamGate can insert its own control frames (Ping, Close) between frames,
/// never inside one, and swallow the Pongs that answer its own Pings. It owns only that knowledge: data frames are
/// neither decoded nor buffered, and the bytes are forwarded untouched, as slices of the chunks fed in.
///
/// Decisions worth knowing:
/// - Forwarded bytes are coalesced: a chunk that holds no Pong of ours and does not end inside a Pong that might be
///   ours is forwarded as exactly one slice (the whole chunk), so the tunnel writes once per read. `frameStarted` may
///   therefore be called before the bytes of that frame's header have been forwarded.
/// - A Pong that might be ours (FIN set, payload length equal to the token's) is held from its first byte until it is
///   complete, at most 2 + 4 + 125 bytes. Only the part that came in earlier chunks is copied; when it turns out not to
///   be ours, that part is forwarded as one new buffer and the rest as slices, in order. The token is the one passed
///   with the chunk that completes the decision.
/// - `frameStarted` is called for every frame, a swallowed Pong included (then `swallowedPong` follows when the Pong
///   is complete): every frame is traffic, even one the other peer never sees.
/// - Opcodes with the top bit set (0x8-0xF) follow the control-frame rules (section 5.5). Reserved opcodes and RSV bits
///   are not violations here: they do not change the framing, and the endpoints judge them.
/// - A control frame whose 7-bit length is 126 or 127 is a violation without reading the extended length: section 5.2
///   requires the minimal length encoding, so such a frame is always longer than 125 bytes.
/// - After a violation `isAtFrameBoundary` stays false: no boundary is known any more.
///
/// The state is a few integers, plus the bytes of a held Pong that came in earlier chunks.
struct WebSocketFrameTracker {
    /// The opcodes of RFC 6455 section 5.2.
    enum Opcode {
        static let continuation: UInt8 = 0x0
        static let text: UInt8 = 0x1
        static let binary: UInt8 = 0x2
        static let close: UInt8 = 0x8
        static let ping: UInt8 = 0x9
        static let pong: UInt8 = 0xA
    }

    /// The largest payload of a control frame (RFC 6455 section 5.5).
    static let maximumControlPayloadLength = 125

    /// Frames in this direction must carry the mask bit (client to server), or must not (server to client).
    let masked: Bool

    /// Why the byte stream stopped following the framing rules, once it has; nil before.
    private(set) var protocolViolation: String?

    /// The first header byte of the current frame (FIN, RSV1-3, opcode); meaningful while `headerCount > 0`.
    private var firstByte: UInt8 = 0
    /// Header bytes of the current frame seen so far; 0 between headers.
    private var headerCount = 0
    /// The offset in the header where the extended payload length ends (2, 4 or 10), known from its second byte.
    private var lengthEnd = 2
    /// The full header length of the current frame, known from its second byte (2 until then).
    private var headerLength = 2
    /// The payload length of the current frame, assembled while its header is read.
    private var payloadLength: UInt64 = 0
    /// Payload bytes of the current frame still to come once its header is complete.
    private var payloadRemaining: UInt64 = 0
    /// The current frame is a Pong that might be ours: its bytes are not forwarded until it is complete.
    private var holdingPong = false
    /// The bytes of the held Pong that came in earlier chunks.
    private var heldPong: [UInt8] = []

    /// Bytes of a Pong that may be StreamGate's own, held from earlier chunks until its frame is complete.
    var heldBytes: Int { heldPong.count }

    /// Creates a tracker for the start of one direction of a tunnel.
    ///
    /// - Parameter masked: frames in this direction must be masked (client to server) or not (server to client).
    init(masked: Bool) {
        self.masked = masked
    }

    /// True when no frame is partially seen: a control frame may be inserted into this direction now. False once
    /// `protocolViolation` is set.
    var isAtFrameBoundary: Bool {
        protocolViolation == nil && headerCount == 0 && payloadRemaining == 0
    }

    /// Feeds the next chunk of this direction.
    ///
    /// - Parameters:
    ///   - bytes: the chunk, exactly as received.
    ///   - token: the payload of StreamGate's own Pings in this tunnel, or nil when none is outstanding.
    ///   - forward: called with the bytes to pass on unchanged, in order: slices of `bytes`, except for the part of a
    ///     held Pong that came in earlier chunks. The bytes of a complete Pong whose unmasked payload equals `token`
    ///     are not forwarded.
    ///   - swallowedPong: called instead of forwarding such a Pong, once it is complete.
    ///   - frameStarted: called with the opcode (0x0-0xF) of every frame once its header is complete.
    mutating func process(
        _ bytes: ByteBuffer,
        token: [UInt8]?,
        forward: (ByteBuffer) -> Void,
        swallowedPong: () -> Void,
        frameStarted: (UInt8) -> Void
    ) {
        guard protocolViolation == nil else {
            if bytes.readableBytes > 0 {
                forward(bytes)
            }
            return
        }
        bytes.withUnsafeReadableBytes { chunk in
            var run = Run(chunk: bytes)
            var index = 0
            while index < chunk.count, protocolViolation == nil {
                if headerCount > 0 || payloadRemaining == 0 {
                    readHeaderByte(chunk[index], at: index, run: &run, token: token, forward: forward)
                    index += 1
                    if protocolViolation == nil, headerCount == headerLength {
                        headerCount = 0
                        payloadRemaining = payloadLength
                        frameStarted(firstByte & 0x0F)
                    }
                } else {
                    let taken = min(UInt64(chunk.count - index), payloadRemaining)
                    payloadRemaining -= taken
                    index += Int(taken)
                }
                if protocolViolation == nil, holdingPong, headerCount == 0, payloadRemaining == 0 {
                    let frame = heldPong + chunk[run.pongStart..<index]
                    if let token, Self.isPong(frame, carrying: token) {
                        heldPong = []
                        holdingPong = false
                        run.forward(upTo: run.pongStart, to: forward)
                        run.start = index
                        swallowedPong()
                    } else {
                        releaseHeldPong(forward: forward)
                    }
                }
            }
            if protocolViolation != nil {
                releaseHeldPong(forward: forward)
                run.forward(upTo: chunk.count, to: forward)
            } else if holdingPong {
                run.forward(upTo: run.pongStart, to: forward)
                heldPong.append(contentsOf: chunk[run.pongStart..<chunk.count])
            } else {
                run.forward(upTo: chunk.count, to: forward)
            }
        }
    }

    /// Reads the header byte at `index` of the chunk; a first byte starts a frame.
    private mutating func readHeaderByte(
        _ byte: UInt8,
        at index: Int,
        run: inout Run,
        token: [UInt8]?,
        forward: (ByteBuffer) -> Void
    ) {
        let position = headerCount
        headerCount += 1
        switch position {
        case 0:
            readFirstByte(byte, token: token)
            run.pongStart = index
        case 1:
            readSecondByte(byte)
            if protocolViolation == nil, holdingPong, Int(byte & 0x7F) != token?.count {
                releaseHeldPong(forward: forward)
            }
        case 2..<lengthEnd:
            if lengthEnd == 10, position == 2, byte & 0x80 != 0 {
                protocolViolation = "64-bit payload length with the most significant bit set"
            }
            payloadLength = payloadLength << 8 | UInt64(byte)
        default:
            break  // A masking-key byte: only a held Pong needs the key, and it keeps its bytes.
        }
    }

    /// Reads the first header byte: FIN, RSV1-3 (passed through) and the opcode.
    private mutating func readFirstByte(_ byte: UInt8, token: [UInt8]?) {
        firstByte = byte
        lengthEnd = 2
        headerLength = 2
        payloadLength = 0
        let fin = byte & 0x80 != 0
        let opcode = byte & 0x0F
        if opcode & 0x08 != 0, !fin {
            protocolViolation = "fragmented control frame (opcode 0x\(String(opcode, radix: 16, uppercase: true)))"
        } else if opcode == Opcode.pong, let token, token.count <= Self.maximumControlPayloadLength {
            holdingPong = true
        }
    }

    /// Reads the second header byte: the mask bit and the 7-bit payload length.
    private mutating func readSecondByte(_ byte: UInt8) {
        let hasMask = byte & 0x80 != 0
        guard hasMask == masked else {
            protocolViolation = masked ? "unmasked frame from the client" : "masked frame from the server"
            return
        }
        let lengthCode = byte & 0x7F
        let opcode = firstByte & 0x0F
        if opcode & 0x08 != 0, Int(lengthCode) > Self.maximumControlPayloadLength {
            protocolViolation =
                "control frame (opcode 0x\(String(opcode, radix: 16, uppercase: true))) longer than 125 bytes"
            return
        }
        switch lengthCode {
        case 126:
            lengthEnd = 4
        case 127:
            lengthEnd = 10
        default:
            payloadLength = UInt64(lengthCode)
        }
        headerLength = lengthEnd + (hasMask ? 4 : 0)
    }

    /// Stops holding the current Pong: the bytes held from earlier chunks are forwarded now (one small copy); those in
    /// the current chunk stay in the run that is forwarded next. Held bytes from earlier chunks mean the Pong started
    /// the current chunk, so nothing in the run comes before them.
    private mutating func releaseHeldPong(forward: (ByteBuffer) -> Void) {
        if !heldPong.isEmpty {
            forward(ByteBuffer(bytes: heldPong))
            heldPong = []
        }
        holdingPong = false
    }

    /// True when `frame`, one complete Pong frame, carries `token` once unmasked.
    private static func isPong(_ frame: [UInt8], carrying token: [UInt8]) -> Bool {
        guard frame.count >= 2, Int(frame[1] & 0x7F) == token.count else {
            return false
        }
        let isMasked = frame[1] & 0x80 != 0
        let payloadStart = isMasked ? 6 : 2
        guard frame.count == payloadStart + token.count else {
            return false
        }
        for (offset, expected) in token.enumerated() {
            let key = isMasked ? frame[2 + offset % 4] : 0
            if frame[payloadStart + offset] ^ key != expected {
                return false
            }
        }
        return true
    }
}

extension WebSocketFrameTracker {
    /// The bytes of the current chunk not forwarded yet (nor swallowed): they start at `start` and are forwarded as
    /// one slice when the run is cut, which happens only around a Pong that might be ours.
    struct Run {
        /// The chunk being processed.
        let chunk: ByteBuffer
        /// The offset, from the chunk's reader index, of the first byte not forwarded yet.
        var start = 0
        /// The offset where the frame being read started (0 when it started in an earlier chunk): where a held Pong
        /// starts in this chunk.
        var pongStart = 0

        /// Starts a run at the first byte of `chunk`.
        init(chunk: ByteBuffer) {
            self.chunk = chunk
        }

        /// Forwards the run up to `end` (excluded) as one slice, if not empty, and starts the next run there.
        mutating func forward(upTo end: Int, to forward: (ByteBuffer) -> Void) {
            defer { start = end }
            guard start < end else {
                return
            }
            if start == 0, end == chunk.readableBytes {
                forward(chunk)
            } else if let slice = chunk.getSlice(at: chunk.readerIndex + start, length: end - start) {
                forward(slice)
            }
        }
    }
}
