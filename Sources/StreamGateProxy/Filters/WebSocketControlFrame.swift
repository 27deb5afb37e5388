import NIOCore

/// Encodes the control frames StreamGate sends itself into a WebSocket tunnel: Ping and Close (RFC 6455 sections
/// 5.5.1 and 5.5.2, https://www.rfc-editor.org/rfc/rfc6455#section-5.5). Each is one unfragmented frame (FIN set, RSV
/// bits clear) with a payload of at most 125 bytes. Toward the upstream StreamGate acts as a client, so those frames
/// are masked with a fresh random key (section 5.3); toward the downstream they are not.
enum WebSocketControlFrame {
    /// The longest reason a Close carries, in UTF-8 bytes: 125 minus the 2-byte status code.
    static let maximumCloseReasonLength = WebSocketFrameTracker.maximumControlPayloadLength - 2

    /// A Ping (opcode 0x9) carrying `payload`.
    ///
    /// - Parameters:
    ///   - payload: at most 125 bytes (a precondition), typically the token that identifies the answering Pong.
    ///   - masked: mask with a fresh random 4-byte key (StreamGate acting as a client toward the upstream).
    static func ping(payload: [UInt8], masked: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        precondition(payload.count <= WebSocketFrameTracker.maximumControlPayloadLength, "Ping payload over 125 bytes")
        return frame(opcode: WebSocketFrameTracker.Opcode.ping, payload: payload, masked: masked, allocator: allocator)
    }

    /// A Close (opcode 0x8) carrying the 2-byte status `code` (e.g. 1001 going away, 1002 protocol error) and
    /// `reason` in UTF-8, cut at a character boundary to `maximumCloseReasonLength` bytes.
    ///
    /// - Parameter masked: mask with a fresh random 4-byte key (StreamGate acting as a client toward the upstream).
    static func close(code: UInt16, reason: String, masked: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = [UInt8(truncatingIfNeeded: code >> 8), UInt8(truncatingIfNeeded: code)]
        payload += truncatedUTF8(reason, maximumLength: maximumCloseReasonLength)
        return frame(opcode: WebSocketFrameTracker.Opcode.close, payload: payload, masked: masked, allocator: allocator)
    }

    /// One complete frame with FIN set and a payload of at most 125 bytes.
    private static func frame(
        opcode: UInt8,
        payload: [UInt8],
        masked: Bool,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 2 + (masked ? 4 : 0) + payload.count)
        buffer.writeInteger(0x80 | opcode)
        buffer.writeInteger((masked ? 0x80 : 0x00) | UInt8(payload.count))
        guard masked else {
            buffer.writeBytes(payload)
            return buffer
        }
        let key = (0..<4).map { _ in UInt8.random(in: .min ... .max) }
        buffer.writeBytes(key)
        for (offset, byte) in payload.enumerated() {
            buffer.writeInteger(byte ^ key[offset % 4])
        }
        return buffer
    }

    /// The UTF-8 bytes of `text`, cut before the first character that would go past `maximumLength` bytes.
    private static func truncatedUTF8(_ text: String, maximumLength: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for character in text {
            let encoded = Array(character.utf8)
            guard bytes.count + encoded.count <= maximumLength else {
                break
            }
            bytes += encoded
        }
        return bytes
    }
}
