/// Writes single, final WebSocket frames: masked with a random key (client to server, as RFC 6455 requires of a
/// client) or unmasked (server to client).
enum WebSocketFrameEncoder {
    static func encode(opcode: UInt8, payload: [UInt8], masked: Bool, into output: inout [UInt8]) {
        output.append(0x80 | (opcode & 0x0F))
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            output.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            output.append(maskBit | 126)
            output.append(UInt8(payload.count >> 8))
            output.append(UInt8(payload.count & 0xFF))
        } else {
            output.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                output.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF))
            }
        }
        guard masked else {
            output.append(contentsOf: payload)
            return
        }
        let key = (0..<4).map { _ in UInt8.random(in: 0...255) }
        output.append(contentsOf: key)
        for (index, byte) in payload.enumerated() {
            output.append(byte ^ key[index % 4])
        }
    }
}
