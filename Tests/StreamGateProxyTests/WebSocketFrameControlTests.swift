import NIOCore
import XCTest

@testable import StreamGateProxy

/// Decodes what `WebSocketControlFrame` encodes, masked and unmasked, and feeds it to a tracker.
final class WebSocketFrameControlTests: XCTestCase {
    private let allocator = ByteBufferAllocator()

    /// Decodes `buffer` as exactly one frame and checks what every control frame of ours shares.
    private func decodeOne(
        _ buffer: ByteBuffer,
        masked: Bool,
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> WebSocketTestFrame? {
        let bytes = Array(buffer.readableBytesView)
        guard let (frame, length) = WebSocketTestFrame.decode(bytes) else {
            XCTFail("incomplete frame", file: file, line: line)
            return nil
        }
        XCTAssertEqual(length, bytes.count, "trailing bytes", file: file, line: line)
        XCTAssertTrue(frame.fin, file: file, line: line)
        XCTAssertEqual(frame.reservedBits, 0, file: file, line: line)
        XCTAssertEqual(frame.maskingKey != nil, masked, file: file, line: line)
        XCTAssertLessThanOrEqual(frame.payload.count, 125, file: file, line: line)

        var tracker = WebSocketFrameTracker(masked: masked)
        var opcodes: [UInt8] = []
        var forwarded = 0
        tracker.process(
            buffer, token: nil, forward: { forwarded += $0.readableBytes }, swallowedPong: {},
            frameStarted: { opcodes.append($0) })
        XCTAssertNil(tracker.protocolViolation, file: file, line: line)
        XCTAssertTrue(tracker.isAtFrameBoundary, file: file, line: line)
        XCTAssertEqual(opcodes, [frame.opcode], file: file, line: line)
        XCTAssertEqual(forwarded, bytes.count, file: file, line: line)
        return frame
    }

    func testPingRoundTrip() {
        for masked in [false, true] {
            for payload in [[], [0x42], WebSocketTestFrame.pattern(16), WebSocketTestFrame.pattern(125)] {
                let buffer = WebSocketControlFrame.ping(payload: payload, masked: masked, allocator: allocator)
                let frame = decodeOne(buffer, masked: masked)
                XCTAssertEqual(frame?.opcode, 0x9)
                XCTAssertEqual(frame?.payload, payload)
            }
        }
    }

    func testCloseRoundTrip() {
        let cases: [(code: UInt16, reason: String)] = [
            (1000, ""), (1001, "going away"), (1002, "protocol error"), (4321, "caf\u{E9} \u{1F30D}"),
        ]
        for masked in [false, true] {
            for (code, reason) in cases {
                let buffer = WebSocketControlFrame.close(
                    code: code, reason: reason, masked: masked, allocator: allocator)
                let frame = decodeOne(buffer, masked: masked)
                XCTAssertEqual(frame?.opcode, 0x8)
                XCTAssertEqual(frame?.payload, [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8))
            }
        }
    }

    /// A reason too long for a control frame is cut at a character boundary, so it stays valid UTF-8.
    func testCloseReasonIsTruncatedAtCharacterBoundary() {
        let reason = String(repeating: "\u{E9}", count: 100)
        let buffer = WebSocketControlFrame.close(code: 1001, reason: reason, masked: true, allocator: allocator)
        guard let frame = decodeOne(buffer, masked: true) else {
            return
        }
        let reasonBytes = Array(frame.payload.dropFirst(2))
        XCTAssertEqual(reasonBytes.count, 122)
        XCTAssertEqual(String(validating: reasonBytes, as: UTF8.self), String(repeating: "\u{E9}", count: 61))
    }

    func testMaskingKeysAreFresh() {
        let keys = (0..<8).compactMap { _ in
            let buffer = WebSocketControlFrame.ping(payload: [1, 2, 3], masked: true, allocator: allocator)
            return WebSocketTestFrame.decode(Array(buffer.readableBytesView))?.frame.maskingKey
        }
        XCTAssertEqual(keys.count, 8)
        XCTAssertGreaterThan(Set(keys).count, 1)
    }
}
