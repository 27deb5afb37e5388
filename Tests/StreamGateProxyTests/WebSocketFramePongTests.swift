import NIOCore
import XCTest

@testable import StreamGateProxy

/// Checks that `WebSocketFrameTracker` swallows exactly the Pongs answering StreamGate's own Pings, whatever the
/// chunking, and forwards every look-alike.
final class WebSocketFramePongTests: XCTestCase {
    private static let token: [UInt8] = [0x53, 0x47, 0x01, 0x02, 0x03, 0x04, 0xA5, 0x5A]

    /// Our Pongs among look-alikes: a Pong with another payload of the same length, Pongs of other lengths, a Ping
    /// carrying the token, and data frames (one fragmented around our Pong).
    private static func script(masked: Bool, seed: UInt64) -> WebSocketFrameScript {
        var random = WebSocketFrameTestRandom(seed: seed)
        var other = token
        other[7] ^= 0x01
        let frames: [WebSocketTestFrame] = [
            .pong(token),
            .text(Array("hi".utf8)),
            .pong(other),
            .ping(token),
            .pong(Array(token.prefix(7))),
            .pong(token + [0]),
            .binary(WebSocketTestFrame.pattern(130), fin: false),
            .pong(token),
            .continuation([1, 2, 3]),
            .pong([]),
            .pong(token),
        ]
        let name = "pongs \(masked ? "masked" : "unmasked") \(seed)"
        return WebSocketFrameScript(
            name, masked: masked, token: token,
            frames: WebSocketFrameScript.keyed(frames, masked: masked, random: &random))
    }

    func testOurPongsAreSwallowedInEveryFeeding() {
        for masked in [true, false] {
            let script = Self.script(masked: masked, seed: 7)
            XCTAssertEqual(script.ours, [true, false, false, false, false, false, false, true, false, false, true])
            WebSocketFrameTrackerHarness.checkAllFeedings(script)
        }
    }

    /// Three chunks, cut at every pair of offsets up to 24 bytes apart: a Pong is held across any two cuts.
    func testOurPongsAcrossThreeChunks() {
        for masked in [true, false] {
            let script = Self.script(masked: masked, seed: 11)
            let count = script.bytes.count
            for first in 0...count {
                for second in first...min(count, first + 24) {
                    let context = "cuts \(first) \(second)"
                    WebSocketFrameTrackerHarness.check(script, cuts: [first, second], context: context)
                }
            }
        }
    }

    func testMaskingKeysDoNotMatter() {
        var random = WebSocketFrameTestRandom(seed: 99)
        for round in 0..<200 {
            let key = round == 0 ? [0, 0, 0, 0] : random.key()
            let script = WebSocketFrameScript(
                "key \(key)", masked: true, token: Self.token, frames: [.pong(Self.token, key: key)])
            WebSocketFrameTrackerHarness.check(script, cuts: [], context: "whole")
            WebSocketFrameTrackerHarness.check(script, cuts: Array(0...script.bytes.count), context: "byte by byte")
        }
    }

    func testEmptyAndLongestTokens() {
        for token in [[], WebSocketTestFrame.pattern(125, seed: 9)] {
            let other = token.isEmpty ? [0] : WebSocketTestFrame.pattern(token.count, seed: 1)
            let frames: [WebSocketTestFrame] = [.pong(token), .pong(other), .ping(token), .pong(token)]
            let script = WebSocketFrameScript("token of \(token.count)", masked: false, token: token, frames: frames)
            XCTAssertEqual(script.ours, [true, false, false, true])
            WebSocketFrameTrackerHarness.checkAllFeedings(script)
        }
    }

    func testNoTokenForwardsEveryPong() {
        let script = WebSocketFrameScript(
            "no token", masked: true, token: nil, frames: [.pong(Self.token, key: [9, 8, 7, 6])])
        XCTAssertEqual(script.ours, [false])
        WebSocketFrameTrackerHarness.checkAllFeedings(script)
    }

    /// The token is the one passed with the chunk that completes the Pong: a Pong started while a Ping was
    /// outstanding but finished after the token was dropped is forwarded, including its earlier bytes.
    func testTokenDroppedWhileHoldingForwardsThePong() {
        let bytes = WebSocketTestFrame.pong(Self.token).encoded
        var tracker = WebSocketFrameTracker(masked: false)
        var forwarded: [UInt8] = []
        var swallowed = 0
        tracker.process(
            ByteBuffer(bytes: bytes[0..<5]), token: Self.token, forward: { forwarded += $0.readableBytesView },
            swallowedPong: { swallowed += 1 }, frameStarted: { _ in })
        XCTAssertEqual(forwarded, [])
        XCTAssertFalse(tracker.isAtFrameBoundary)
        tracker.process(
            ByteBuffer(bytes: bytes[5...]), token: nil, forward: { forwarded += $0.readableBytesView },
            swallowedPong: { swallowed += 1 }, frameStarted: { _ in })
        XCTAssertEqual(forwarded, bytes)
        XCTAssertEqual(swallowed, 0)
        XCTAssertTrue(tracker.isAtFrameBoundary)
    }

    /// A Pong produced the way a peer answers a Ping from `WebSocketControlFrame` is recognized.
    func testPongAnsweringControlFramePingIsSwallowed() {
        let allocator = ByteBufferAllocator()
        let ping = WebSocketControlFrame.ping(payload: Self.token, masked: false, allocator: allocator)
        guard let decoded = WebSocketTestFrame.decode(Array(ping.readableBytesView))?.frame else {
            return XCTFail("undecodable ping")
        }
        var random = WebSocketFrameTestRandom(seed: 5)
        let pong = WebSocketTestFrame.pong(decoded.payload, key: random.key())
        var tracker = WebSocketFrameTracker(masked: true)
        var swallowed = 0
        var forwarded = 0
        tracker.process(
            ByteBuffer(bytes: pong.encoded), token: Self.token, forward: { forwarded += $0.readableBytes },
            swallowedPong: { swallowed += 1 }, frameStarted: { XCTAssertEqual($0, 0xA) })
        XCTAssertEqual(swallowed, 1)
        XCTAssertEqual(forwarded, 0)
        XCTAssertTrue(tracker.isAtFrameBoundary)
    }
}

extension WebSocketFramePongTests {
    /// Our Pong in the middle of a chunk cuts it into the two slices around it, with no copy.
    func testOurPongInsideAChunkLeavesTwoSlices() {
        let before = WebSocketTestFrame.text([1, 2, 3], key: [1, 2, 3, 4]).encoded
        let pong = WebSocketTestFrame.pong(Self.token, key: [5, 6, 7, 8]).encoded
        let after = WebSocketTestFrame.pong(Array(Self.token.dropLast()), key: [9, 9, 9, 9]).encoded
        let input = ByteBuffer(bytes: before + pong + after)
        var tracker = WebSocketFrameTracker(masked: true)
        var forwards: [ByteBuffer] = []
        var swallowed = 0
        tracker.process(
            input, token: Self.token, forward: { forwards.append($0) }, swallowedPong: { swallowed += 1 },
            frameStarted: { _ in })
        XCTAssertEqual(forwards, [ByteBuffer(bytes: before), ByteBuffer(bytes: after)])
        XCTAssertEqual(swallowed, 1)
        let base = input.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let addresses = forwards.map { $0.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } }
        XCTAssertEqual(addresses, [base, base + UInt(before.count + pong.count)])
    }
}
