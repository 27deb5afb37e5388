/// One WebSocket frame (RFC 6455 section 5.2), payload already unmasked.
struct WebSocketFrame {
    var fin: Bool
    var opcode: UInt8
    var payload: [UInt8]

    static let binary: UInt8 = 0x2
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA
}

/// A minimal frame parser for both ends of the echo: bytes in with `append`, complete frames out with `next()`.
/// Masked frames (client to server) are unmasked. No extensions; payloads over `maxPayload` are an error.
struct WebSocketFrameParser {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let maxPayload = 1 << 20

    private var buffer: [UInt8] = []
    private var start = 0

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil until more bytes arrive.
    mutating func next() throws -> WebSocketFrame? {
        let available = buffer.count - start
        guard available >= 2 else { return nil }
        let first = buffer[start]
        let second = buffer[start + 1]
        guard first & 0x70 == 0 else { throw Failure(description: "reserved bits set") }
        let masked = second & 0x80 != 0
        var headerLength = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard available >= 4 else { return nil }
            length = Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            headerLength = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            var value: UInt64 = 0
            for offset in 2..<10 {
                value = value << 8 | UInt64(buffer[start + offset])
            }
            guard value <= UInt64(Self.maxPayload) else { throw Failure(description: "frame of \(value) bytes") }
            length = Int(value)
            headerLength = 10
        }
        guard length <= Self.maxPayload else { throw Failure(description: "frame of \(length) bytes") }
        let maskOffset = start + headerLength
        if masked { headerLength += 4 }
        guard available >= headerLength + length else { return nil }
        let payloadStart = start + headerLength
        var payload = Array(buffer[payloadStart..<(payloadStart + length)])
        if masked {
            for index in payload.indices {
                payload[index] ^= buffer[maskOffset + index % 4]
            }
        }
        start = payloadStart + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return WebSocketFrame(fin: first & 0x80 != 0, opcode: first & 0x0F, payload: payload)
    }
}
