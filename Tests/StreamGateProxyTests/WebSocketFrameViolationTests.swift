import NIOCore
import XCTest

@testable import StreamGateProxy

/// Checks that `WebSocketFrameTracker` flags streams that break the framing StreamGate relies on, whatever the
/// chunking, and from then on forwards everything unchanged.
final class WebSocketFrameViolationTests: XCTestCase {
    private static let token: [UInt8] = [1, 2, 3, 4]

    /// Feeds `good` then `bad` in every way (whole, byte by byte, split at every offset) and checks: the frames of
    /// `good` are reported, a violation is set once `bad` is complete (and not before `good` is), and every byte is
    /// forwarded, our Pongs after the violation included.
    private func assertViolation(
        masked: Bool,
        good: [WebSocketTestFrame],
        bad: [UInt8],
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        let goodBytes = good.flatMap(\.encoded)
        let trailer = WebSocketTestFrame.pong(Self.token, key: masked ? [5, 6, 7, 8] : nil).encoded
        let bytes = goodBytes + bad + trailer
        let input = ByteBuffer(bytes: bytes)
        var feedings: [[Int]] = [[], Array(0...bytes.count)]
        feedings += (0...bytes.count).map { [$0] }
        for cuts in feedings {
            var tracker = WebSocketFrameTracker(masked: masked)
            var forwarded: [UInt8] = []
            var opcodes: [UInt8] = []
            var start = 0
            for end in cuts + [bytes.count] {
                guard let chunk = input.getSlice(at: start, length: end - start) else {
                    return XCTFail("bad cut", file: file, line: line)
                }
                tracker.process(
                    chunk, token: Self.token, forward: { forwarded += $0.readableBytesView },
                    swallowedPong: { XCTFail("swallowed after a violation", file: file, line: line) },
                    frameStarted: { opcodes.append($0) })
                start = end
                if end <= goodBytes.count {
                    XCTAssertNil(tracker.protocolViolation, "cuts \(cuts)", file: file, line: line)
                } else if end >= goodBytes.count + bad.count {
                    XCTAssertNotNil(tracker.protocolViolation, "cuts \(cuts)", file: file, line: line)
                    XCTAssertFalse(tracker.isAtFrameBoundary, "cuts \(cuts)", file: file, line: line)
                }
            }
            XCTAssert(forwarded == bytes, "cuts \(cuts): forwarded bytes differ", file: file, line: line)
            XCTAssertEqual(opcodes, good.map(\.opcode), "cuts \(cuts)", file: file, line: line)
        }
    }

    func testUnmaskedFrameFromClient() {
        let good = [WebSocketTestFrame.text([1], key: [1, 1, 1, 1])]
        assertViolation(masked: true, good: good, bad: WebSocketTestFrame.text([1, 2, 3]).encoded)
        assertViolation(masked: true, good: good, bad: WebSocketTestFrame.pong(Self.token).encoded)
    }

    func testMaskedFrameFromServer() {
        let good = [WebSocketTestFrame.text([1])]
        assertViolation(masked: false, good: good, bad: WebSocketTestFrame.binary([1], key: [1, 2, 3, 4]).encoded)
        assertViolation(masked: false, good: good, bad: WebSocketTestFrame.pong(Self.token, key: [1, 2, 3, 4]).encoded)
    }

    func testControlFrameLongerThan125Bytes() {
        for masked in [false, true] {
            let key: [UInt8]? = masked ? [4, 3, 2, 1] : nil
            let good = [WebSocketTestFrame.ping(WebSocketTestFrame.pattern(125), key: key)]
            for opcode: UInt8 in [0x8, 0x9, 0xA] {
                var bad = WebSocketTestFrame.ping(WebSocketTestFrame.pattern(126), key: key)
                bad.opcode = opcode
                assertViolation(masked: masked, good: good, bad: Array(bad.encoded.prefix(2)))
            }
            var huge = WebSocketTestFrame.pong(WebSocketTestFrame.pattern(65536), key: key)
            huge.opcode = 0xA
            assertViolation(masked: masked, good: good, bad: Array(huge.encoded.prefix(2)))
        }
    }

    func testFragmentedControlFrame() {
        for masked in [false, true] {
            let key: [UInt8]? = masked ? [4, 3, 2, 1] : nil
            let good = [WebSocketTestFrame.text([1], fin: false, key: key)]
            for frame in [WebSocketTestFrame.ping([1], fin: false), .pong(Self.token, fin: false)] {
                assertViolation(masked: masked, good: good, bad: Array(frame.encoded.prefix(1)))
            }
            let close = WebSocketTestFrame(fin: false, opcode: 0x8, payload: [0x03, 0xE8])
            assertViolation(masked: masked, good: good, bad: Array(close.encoded.prefix(1)))
        }
    }

    func testSixtyFourBitLengthWithTopBitSet() {
        for masked in [false, true] {
            let good = [WebSocketTestFrame.binary([1], key: masked ? [4, 3, 2, 1] : nil)]
            let bad: [UInt8] = [0x82, (masked ? 0x80 : 0) | 127, 0x80]
            assertViolation(masked: masked, good: good, bad: bad)
        }
    }

    /// The first byte of a Pong that might be ours is held back; a violation in its second byte forwards it, in
    /// order, with the rest.
    func testViolationWhileHoldingAPong() {
        var tracker = WebSocketFrameTracker(masked: true)
        var forwarded: [UInt8] = []
        let bytes: [UInt8] = [0x81, 0x80, 1, 2, 3, 4, 0x8A, 0x04, 9, 9, 9, 9, 0x81, 0x80]
        for (chunk, token) in [(bytes[0..<7], Self.token), (bytes[7...], nil)] {
            tracker.process(
                ByteBuffer(bytes: chunk), token: token, forward: { forwarded += $0.readableBytesView },
                swallowedPong: {}, frameStarted: { _ in })
            if token != nil {
                XCTAssertEqual(forwarded, Array(bytes[0..<6]))
            }
        }
        XCTAssertEqual(tracker.protocolViolation, "unmasked frame from the client")
        XCTAssertEqual(forwarded, bytes)
    }
}
