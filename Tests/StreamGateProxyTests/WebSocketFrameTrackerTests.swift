import NIOCore
import XCTest

@testable import StreamGateProxy

/// Masking keys and cut offsets come from the seeded generator of the scanner tests, so a failure reproduces.
typealias WebSocketFrameTestRandom = SeededGenerator

extension SeededGenerator {
    /// A masking key.
    mutating func key() -> [UInt8] {
        (0..<4).map { _ in UInt8.random(in: .min ... .max, using: &self) }
    }
}

/// Frames sent in one direction of a tunnel, and what a tracker must make of them at any point of the stream.
struct WebSocketFrameScript {
    let name: String
    let masked: Bool
    let token: [UInt8]?
    let frames: [WebSocketTestFrame]
    /// All frames on the wire.
    let bytes: [UInt8]
    /// Where each frame starts in `bytes`; one more entry for the end.
    let starts: [Int]
    /// Whether each frame is a Pong answering our Ping, which must be swallowed.
    let ours: [Bool]
    /// `bytes` in a buffer.
    let input: ByteBuffer
    /// The bytes that must come out: the input without our Pongs.
    let expectedForwarded: ByteBuffer

    init(_ name: String, masked: Bool, token: [UInt8]? = nil, frames: [WebSocketTestFrame]) {
        self.name = name
        self.masked = masked
        self.token = token
        self.frames = frames
        var bytes: [UInt8] = []
        var starts: [Int] = []
        for frame in frames {
            starts.append(bytes.count)
            bytes += frame.encoded
        }
        starts.append(bytes.count)
        self.bytes = bytes
        self.starts = starts
        let ours = frames.map { $0.opcode == 0xA && $0.fin && token != nil && $0.payload == token }
        self.ours = ours
        input = ByteBuffer(bytes: bytes)
        expectedForwarded = ByteBuffer(bytes: frames.indices.filter { !ours[$0] }.flatMap {
            bytes[starts[$0]..<starts[$0 + 1]]
        })
    }

    /// Frames with `key()` applied when the direction is masked (a fresh key per frame).
    static func keyed(
        _ frames: [WebSocketTestFrame],
        masked: Bool,
        random: inout WebSocketFrameTestRandom
    ) -> [WebSocketTestFrame] {
        frames.map { frame in
            var frame = frame
            frame.maskingKey = masked ? random.key() : nil
            return frame
        }
    }

    /// Where each frame's header ends.
    var headerEnds: [Int] {
        frames.indices.map { starts[$0] + frames[$0].headerLength }
    }

    /// True when `offset` is the start of the stream or the end of a frame.
    func isBoundary(_ offset: Int) -> Bool {
        starts.contains(offset)
    }

    /// True while the first `seen` bytes of `frame` may still be a Pong of ours, which must be held back.
    func mayBeOurs(_ frame: WebSocketTestFrame, seen: Int) -> Bool {
        guard let token, token.count <= 125, frame.opcode == 0xA, frame.fin else {
            return false
        }
        return seen < 2 || frame.payload.count == token.count
    }

    /// True when some frame may be held back as a possible Pong of ours.
    var hasPongCandidates: Bool {
        frames.contains { mayBeOurs($0, seen: 2) }
    }

    /// How many bytes must have been forwarded once the first `offset` bytes were fed: everything except our
    /// Pongs and the part of a possible Pong of ours still incomplete.
    func forwardedCount(after offset: Int) -> Int {
        var count = 0
        for index in frames.indices where offset > starts[index] {
            let length = starts[index + 1] - starts[index]
            if offset >= starts[index + 1] {
                count += ours[index] ? 0 : length
            } else {
                let seen = offset - starts[index]
                count += mayBeOurs(frames[index], seen: seen) ? 0 : seen
            }
        }
        return count
    }
}

/// Feeds scripts to a `WebSocketFrameTracker` in chunks and checks every promise of its interface after every chunk.
enum WebSocketFrameTrackerHarness {
    /// Every feeding of the drip-feed checks: whole, byte by byte, two chunks split at every offset (for long
    /// streams: every offset up to 16 bytes past each frame start, plus a sample), and random chunkings.
    static func feedings(of script: WebSocketFrameScript, seed: UInt64 = 1) -> [(name: String, cuts: [Int])] {
        let count = script.bytes.count
        var feedings: [(name: String, cuts: [Int])] = [("whole", []), ("byte by byte", Array(0...count))]
        var splits: Set<Int>
        if count <= 4096 {
            splits = Set(0...count)
        } else {
            splits = Set(script.starts.flatMap { start in start...min(count, start + 16) })
            var random = WebSocketFrameTestRandom(seed: seed)
            for _ in 0..<48 {
                splits.insert(Int.random(in: 0...count, using: &random))
            }
        }
        feedings += splits.sorted().map { ("split at \($0)", [$0]) }
        var random = WebSocketFrameTestRandom(seed: seed &+ 1000)
        for round in 0..<6 {
            var cuts: [Int] = []
            var offset = 0
            let largest = max(1, count / 5)
            while offset < count {
                offset = min(count, offset + Int.random(in: 1...largest, using: &random))
                cuts.append(offset)
            }
            feedings.append(("random chunks #\(round)", cuts))
        }
        return feedings
    }

    /// Feeds `script` to a fresh tracker in chunks cut at `cuts` (sorted) and checks, after each chunk, the forwarded
    /// bytes, the boundary and the absence of violations; at the end, the opcodes reported, when they were reported,
    /// and the swallowed Pongs.
    static func check(
        _ script: WebSocketFrameScript,
        cuts: [Int],
        context: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        let label = "\(script.name), \(context)"
        let input = script.input
        let inputStart = input.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let inputRange = inputStart..<(inputStart + UInt(script.bytes.count))
        var tracker = WebSocketFrameTracker(masked: script.masked)
        var forwarded = ByteBuffer()
        var copiedBytes = 0
        var started: [(opcode: UInt8, chunk: Range<Int>)] = []
        var swallowed: [Range<Int>] = []
        var chunkStart = 0
        for chunkEnd in cuts + [script.bytes.count] {
            guard let chunk = input.getSlice(at: chunkStart, length: chunkEnd - chunkStart) else {
                return XCTFail("\(label): bad cut \(chunkEnd)", file: file, line: line)
            }
            let span = chunkStart..<chunkEnd
            tracker.process(
                chunk,
                token: script.token,
                forward: { buffer in
                    XCTAssertGreaterThan(buffer.readableBytes, 0, "\(label): empty forward", file: file, line: line)
                    let address = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
                    if !inputRange.contains(address) {
                        copiedBytes += buffer.readableBytes
                    }
                    forwarded.writeImmutableBuffer(buffer)
                },
                swallowedPong: { swallowed.append(span) },
                frameStarted: { started.append(($0, span)) }
            )
            chunkStart = chunkEnd
            let expected = script.forwardedCount(after: chunkEnd)
            guard forwarded.readableBytes == expected else {
                let message = "\(label): after \(chunkEnd) bytes, \(forwarded.readableBytes) forwarded, not \(expected)"
                return XCTFail(message, file: file, line: line)
            }
            guard tracker.isAtFrameBoundary == script.isBoundary(chunkEnd) else {
                return XCTFail("\(label): isAtFrameBoundary \(tracker.isAtFrameBoundary) after \(chunkEnd) bytes",
                               file: file, line: line)
            }
            guard tracker.protocolViolation == nil else {
                return XCTFail("\(label): violation \(tracker.protocolViolation ?? "")", file: file, line: line)
            }
        }
        XCTAssert(forwarded == script.expectedForwarded, "\(label): forwarded bytes differ", file: file, line: line)
        XCTAssertEqual(started.map(\.opcode), script.frames.map(\.opcode), "\(label): opcodes", file: file, line: line)
        for (report, headerEnd) in zip(started, script.headerEnds) where !report.chunk.contains(headerEnd - 1) {
            XCTFail("\(label): opcode reported in chunk \(report.chunk), header ends at \(headerEnd)",
                    file: file, line: line)
        }
        let oursEnds = script.frames.indices.filter { script.ours[$0] }.map { script.starts[$0 + 1] }
        XCTAssertEqual(swallowed.count, oursEnds.count, "\(label): swallowed Pongs", file: file, line: line)
        for (span, end) in zip(swallowed, oursEnds) where !span.contains(end - 1) {
            XCTFail("\(label): Pong ending at \(end) swallowed in chunk \(span)", file: file, line: line)
        }
        if !script.hasPongCandidates {
            XCTAssertEqual(copiedBytes, 0, "\(label): forwarded bytes were copied", file: file, line: line)
        }
    }

    /// Runs every feeding of `script`.
    static func checkAllFeedings(_ script: WebSocketFrameScript, file: StaticString = #filePath, line: UInt = #line) {
        for feeding in feedings(of: script) {
            check(script, cuts: feeding.cuts, context: feeding.name, file: file, line: line)
        }
    }
}

/// Drip-feeds frame sequences of every length class, in both directions, to `WebSocketFrameTracker`.
final class WebSocketFrameTrackerTests: XCTestCase {
    private static let lengths = [0, 1, 125, 126, 65535, 65536, 70000]

    /// Text, a fragmented binary message (RSV1 set) with a Ping between its fragments, a Pong and a Close.
    private static func mixedScript(length: Int, masked: Bool) -> WebSocketFrameScript {
        var random = WebSocketFrameTestRandom(seed: UInt64(length) &* 7 &+ (masked ? 1 : 0))
        let frames: [WebSocketTestFrame] = [
            .text(WebSocketTestFrame.pattern(length, seed: 1)),
            .binary(WebSocketTestFrame.pattern(length, seed: 2), fin: false, rsv1: true),
            .ping(WebSocketTestFrame.pattern(min(length, 125), seed: 3)),
            .continuation(WebSocketTestFrame.pattern(length, seed: 4)),
            .pong(WebSocketTestFrame.pattern(min(length, 125), seed: 5)),
            .close(code: 1000, reason: "bye"),
        ]
        let name = "mixed \(length) \(masked ? "masked" : "unmasked")"
        return WebSocketFrameScript(name, masked: masked, frames: WebSocketFrameScript.keyed(
            frames, masked: masked, random: &random))
    }

    func testMixedFramesAtEveryLength() {
        for masked in [false, true] {
            for length in Self.lengths {
                WebSocketFrameTrackerHarness.checkAllFeedings(Self.mixedScript(length: length, masked: masked))
            }
        }
    }

    func testControlFramesOnly() {
        for masked in [false, true] {
            var random = WebSocketFrameTestRandom(seed: 42)
            let frames: [WebSocketTestFrame] = [
                .ping([]), .pong([]), .close(code: 1001, reason: ""), .ping([9]),
                .pong(WebSocketTestFrame.pattern(125)), .text([]), .continuation([], fin: false),
                .close(code: 1000, reason: String(repeating: "x", count: 123)),
            ]
            let script = WebSocketFrameScript(
                "control \(masked)", masked: masked,
                frames: WebSocketFrameScript.keyed(frames, masked: masked, random: &random))
            WebSocketFrameTrackerHarness.checkAllFeedings(script)
        }
    }

    func testReservedBitsAndOpcodesPassThrough() {
        let frames = [
            WebSocketTestFrame(fin: true, reservedBits: 0x70, opcode: 0x1, payload: [1, 2]),
            WebSocketTestFrame(fin: true, reservedBits: 0x40, opcode: 0x3, payload: WebSocketTestFrame.pattern(300)),
            WebSocketTestFrame(fin: true, reservedBits: 0x20, opcode: 0xB, payload: [7]),
        ]
        WebSocketFrameTrackerHarness.checkAllFeedings(WebSocketFrameScript("reserved", masked: false, frames: frames))
    }

    func testEmptyStreamIsAtBoundary() {
        var tracker = WebSocketFrameTracker(masked: true)
        XCTAssertTrue(tracker.isAtFrameBoundary)
        var calls = 0
        tracker.process(
            ByteBuffer(), token: [1], forward: { _ in calls += 1 }, swallowedPong: { calls += 1 },
            frameStarted: { _ in calls += 1 })
        XCTAssertEqual(calls, 0)
        XCTAssertTrue(tracker.isAtFrameBoundary)
    }

    /// A chunk with no Pong that might be ours goes out as one forward of the whole chunk, however many frames it
    /// holds: the tunnel writes once per read.
    func testChunkWithoutPongIsForwardedWhole() {
        let script = Self.mixedScript(length: 300, masked: false)
        let input = ByteBuffer(bytes: script.bytes)
        var tracker = WebSocketFrameTracker(masked: false)
        var forwards: [ByteBuffer] = []
        tracker.process(
            input, token: [0xEE, 0xEE], forward: { forwards.append($0) }, swallowedPong: {}, frameStarted: { _ in })
        XCTAssertEqual(forwards, [input])
    }

    /// A data frame's payload is forwarded as it arrives, never held until the frame ends.
    func testLargeFrameIsNotBuffered() {
        let frame = WebSocketTestFrame.binary(WebSocketTestFrame.pattern(1 << 20), key: [1, 2, 3, 4])
        let bytes = ByteBuffer(bytes: frame.encoded)
        var tracker = WebSocketFrameTracker(masked: true)
        var forwardedCount = 0
        var offset = 0
        while offset < bytes.readableBytes {
            let length = min(1000, bytes.readableBytes - offset)
            guard let chunk = bytes.getSlice(at: offset, length: length) else {
                return XCTFail("bad slice")
            }
            tracker.process(
                chunk, token: [1, 2, 3], forward: { forwardedCount += $0.readableBytes }, swallowedPong: {},
                frameStarted: { _ in })
            offset += length
            XCTAssertEqual(forwardedCount, offset)
            XCTAssertEqual(tracker.isAtFrameBoundary, offset == bytes.readableBytes)
        }
    }
}
