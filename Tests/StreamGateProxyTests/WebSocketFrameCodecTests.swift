import XCTest

/// One RFC 6455 frame as the tests build and read it: a small encoder and decoder written from section 5.2, kept
/// independent of the code under test.
struct WebSocketTestFrame: Equatable {
    /// FIN: the last frame of a message.
    var fin = true
    /// The RSV1-3 bits exactly as they sit in the first byte (0x40 is RSV1, set by permessage-deflate).
    var reservedBits: UInt8 = 0
    /// The 4-bit opcode.
    var opcode: UInt8
    /// The unmasked payload.
    var payload: [UInt8]
    /// The masking key, or nil for an unmasked frame.
    var maskingKey: [UInt8]?

    static func text(_ payload: [UInt8], fin: Bool = true, key: [UInt8]? = nil) -> Self {
        Self(fin: fin, opcode: 0x1, payload: payload, maskingKey: key)
    }

    static func binary(_ payload: [UInt8], fin: Bool = true, rsv1: Bool = false, key: [UInt8]? = nil) -> Self {
        Self(fin: fin, reservedBits: rsv1 ? 0x40 : 0, opcode: 0x2, payload: payload, maskingKey: key)
    }

    static func continuation(_ payload: [UInt8], fin: Bool = true, key: [UInt8]? = nil) -> Self {
        Self(fin: fin, opcode: 0x0, payload: payload, maskingKey: key)
    }

    static func ping(_ payload: [UInt8], fin: Bool = true, key: [UInt8]? = nil) -> Self {
        Self(fin: fin, opcode: 0x9, payload: payload, maskingKey: key)
    }

    static func pong(_ payload: [UInt8], fin: Bool = true, key: [UInt8]? = nil) -> Self {
        Self(fin: fin, opcode: 0xA, payload: payload, maskingKey: key)
    }

    static func close(code: UInt16, reason: String, key: [UInt8]? = nil) -> Self {
        Self(opcode: 0x8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8), maskingKey: key)
    }

    /// `count` bytes of a recognizable pattern that differs at every offset modulo 251.
    static func pattern(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) &+ seed }
    }

    /// The header length: 2, plus 2 or 8 for an extended length, plus 4 for a masking key.
    var headerLength: Int {
        let extended = payload.count < 126 ? 0 : (payload.count <= 0xFFFF ? 2 : 8)
        return 2 + extended + (maskingKey == nil ? 0 : 4)
    }

    /// The frame on the wire, with the minimal length encoding.
    var encoded: [UInt8] {
        var bytes = [(fin ? 0x80 : 0) | reservedBits | opcode]
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        switch payload.count {
        case ..<126:
            bytes.append(maskBit | UInt8(payload.count))
        case ...0xFFFF:
            bytes.append(maskBit | 126)
            bytes += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            bytes.append(maskBit | 127)
            bytes += (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(payload.count) >> (8 * $0)) }
        }
        guard let key = maskingKey else {
            return bytes + payload
        }
        bytes += key
        bytes += payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        return bytes
    }

    /// Decodes the frame at the start of `bytes`: the frame and the number of bytes it took, or nil when incomplete.
    static func decode(_ bytes: [UInt8]) -> (frame: Self, length: Int)? {
        guard bytes.count >= 2 else {
            return nil
        }
        var index = 2
        var length = UInt64(bytes[1] & 0x7F)
        let extended = length == 126 ? 2 : (length == 127 ? 8 : 0)
        guard bytes.count >= index + extended else {
            return nil
        }
        if extended > 0 {
            length = bytes[index..<(index + extended)].reduce(0) { $0 << 8 | UInt64($1) }
            index += extended
        }
        var key: [UInt8]?
        if bytes[1] & 0x80 != 0 {
            guard bytes.count >= index + 4 else {
                return nil
            }
            key = Array(bytes[index..<(index + 4)])
            index += 4
        }
        guard UInt64(bytes.count - index) >= length else {
            return nil
        }
        var payload = Array(bytes[index..<(index + Int(length))])
        if let key {
            payload = payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        }
        let frame = Self(
            fin: bytes[0] & 0x80 != 0,
            reservedBits: bytes[0] & 0x70,
            opcode: bytes[0] & 0x0F,
            payload: payload,
            maskingKey: key
        )
        return (frame, index + Int(length))
    }
}

/// Checks the test encoder and decoder against the examples of RFC 6455 section 5.7, so that the tracker tests rest
/// on frames known to be right.
final class WebSocketFrameCodecTests: XCTestCase {
    private let hello = Array("Hello".utf8)

    func testUnmaskedTextMatchesRFCExample() {
        XCTAssertEqual(WebSocketTestFrame.text(hello).encoded, [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
    }

    func testMaskedTextMatchesRFCExample() {
        let frame = WebSocketTestFrame.text(hello, key: [0x37, 0xFA, 0x21, 0x3D])
        XCTAssertEqual(frame.encoded, [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    func testFragmentedTextMatchesRFCExample() {
        XCTAssertEqual(WebSocketTestFrame.text(Array("Hel".utf8), fin: false).encoded, [0x01, 0x03, 0x48, 0x65, 0x6C])
        XCTAssertEqual(WebSocketTestFrame.continuation(Array("lo".utf8)).encoded, [0x80, 0x02, 0x6C, 0x6F])
    }

    func testPingAndPongMatchRFCExample() {
        XCTAssertEqual(WebSocketTestFrame.ping(hello).encoded, [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        let pong = WebSocketTestFrame.pong(hello, key: [0x37, 0xFA, 0x21, 0x3D])
        XCTAssertEqual(pong.encoded, [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    func testExtendedLengthsMatchRFCExample() {
        let short = WebSocketTestFrame.binary(WebSocketTestFrame.pattern(256)).encoded
        XCTAssertEqual(Array(short.prefix(4)), [0x82, 0x7E, 0x01, 0x00])
        XCTAssertEqual(short.count, 4 + 256)
        let long = WebSocketTestFrame.binary(WebSocketTestFrame.pattern(65536)).encoded
        XCTAssertEqual(Array(long.prefix(10)), [0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00])
        XCTAssertEqual(long.count, 10 + 65536)
    }

    func testDecodeInvertsEncode() {
        let key: [UInt8] = [1, 2, 3, 4]
        let frames: [WebSocketTestFrame] = [
            .text([]), .text([7], key: key), .binary(WebSocketTestFrame.pattern(125), fin: false, rsv1: true),
            .continuation(WebSocketTestFrame.pattern(126), key: key), .binary(WebSocketTestFrame.pattern(65535)),
            .binary(WebSocketTestFrame.pattern(65536), key: key), .close(code: 1000, reason: "bye"),
        ]
        for frame in frames {
            let encoded = frame.encoded
            XCTAssertEqual(encoded.count, frame.headerLength + frame.payload.count)
            let decoded = WebSocketTestFrame.decode(encoded + [0xFF])
            XCTAssertEqual(decoded?.frame, frame)
            XCTAssertEqual(decoded?.length, encoded.count)
            XCTAssertNil(WebSocketTestFrame.decode(Array(encoded.dropLast())))
        }
    }
}
