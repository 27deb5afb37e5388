import NIOCore
import XCTest

@testable import StreamGateProxy

/// Seeded random streams and chunkings: heartbeats inserted wherever the scanner reports a boundary never change the
/// events a client parses, and the scanner reports a boundary wherever an event has just ended.
final class EventStreamScannerPropertyTests: XCTestCase {
    private static let streamCount = 500

    func testHeartbeatsAtReportedBoundariesNeverChangeEvents() {
        var eventEndsSeen = 0
        var heartbeatsInserted = 0
        for seed in 0..<UInt64(Self.streamCount) {
            var random = SeededGenerator(seed: seed)
            let stream = Self.randomStream(using: &random)
            let chunks = Self.randomChunks(of: stream, using: &random)
            let context = "seed \(seed), stream \(String(decoding: stream, as: UTF8.self).debugDescription)"
            let original = ReferenceEventStream(parsing: stream)

            // Every chunk end: same reports as the reference on the prefix, so a boundary wherever an event ended.
            var scanner = EventStreamScanner()
            var prefix: [UInt8] = []
            var eventsBefore = 0
            for chunk in chunks {
                scanner.scan(ByteBuffer(bytes: chunk))
                prefix += chunk
                let reference = ReferenceEventStream(parsing: prefix)
                EventStreamScannerHarness.assertMatches(scanner, reference, context: context)
                if reference.endsAtBlockStart && reference.events.count > eventsBefore {
                    // The chunk ends right after the blank line that dispatched an event: heartbeats must fit here.
                    XCTAssertTrue(scanner.isAtEventBoundary, "no boundary after an event, \(context)")
                    eventEndsSeen += 1
                }
                eventsBefore = reference.events.count
            }

            let insertions = (0..<chunks.count).map { _ in Bool.random(using: &random) }
            let heartbeat = Bool.random(using: &random) ? ":\n\n" : ":hb\n\n"
            let result = EventStreamScannerHarness.proxy(
                chunks,
                heartbeat: Array(heartbeat.utf8),
                insertAtStart: Bool.random(using: &random),
                insertAfter: { insertions[$0] }
            )
            heartbeatsInserted += result.insertions
            let proxied = ReferenceEventStream(parsing: result.output)
            XCTAssertEqual(proxied.events, original.events, context)
            XCTAssertEqual(proxied.lastEventIDBuffer, original.lastEventIDBuffer, context)
            XCTAssertEqual(proxied.retry, original.retry, context)
        }
        // The generator must actually exercise both sides of the property.
        XCTAssertGreaterThan(eventEndsSeen, Self.streamCount / 2)
        XCTAssertGreaterThan(heartbeatsInserted, Self.streamCount)
    }

    // MARK: - Generation

    /// Chunk sizes from one byte to the whole stream, with the odd empty chunk.
    private static func randomChunks(of stream: [UInt8], using random: inout SeededGenerator) -> [[UInt8]] {
        let largest = [1, 2, 3, 5, 8, 16, 64, max(stream.count, 1)].randomElement(using: &random) ?? 1
        var chunks: [[UInt8]] = []
        var start = 0
        while start < stream.count {
            let size = Int.random(in: 0...largest, using: &random)
            let end = min(start + size, stream.count)
            chunks.append(Array(stream[start..<end]))
            start = end
        }
        if chunks.isEmpty || Int.random(in: 0..<10, using: &random) == 0 {
            chunks.append([])
        }
        return chunks
    }

    /// A stream of random blocks, random line ends (LF, CRLF, CR, mixed freely so that a CR and the next line's
    /// LF can merge), an optional BOM or broken BOM, and sometimes an unfinished tail.
    private static func randomStream(using random: inout SeededGenerator) -> [UInt8] {
        var stream: [UInt8] = []
        switch Int.random(in: 0..<20, using: &random) {
        case 0..<3: stream += EventStreamScanner.byteOrderMark
        case 3: stream += [0xEF, 0xBB]
        case 4: stream += [0xEF]
        case 5: stream += EventStreamScanner.byteOrderMark + EventStreamScanner.byteOrderMark
        default: break
        }
        let lineEnds = ["\n", "\r\n", "\r"]
        let favourite = lineEnds.randomElement(using: &random) ?? "\n"
        func lineEnd() -> [UInt8] {
            let end = Int.random(in: 0..<4, using: &random) == 0 ? lineEnds.randomElement(using: &random) : favourite
            return Array((end ?? "\n").utf8)
        }
        for _ in 0..<Int.random(in: 0...6, using: &random) {
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                stream += Array(randomLine(using: &random).utf8) + lineEnd()
            }
            for _ in 0..<(Int.random(in: 0..<8, using: &random) == 0 ? 2 : 1) {
                stream += lineEnd()
            }
        }
        if Int.random(in: 0..<4, using: &random) == 0 {
            stream += Array(randomLine(using: &random).utf8)
        }
        return stream
    }

    private static func randomLine(using random: inout SeededGenerator) -> String {
        let value = randomValue(using: &random)
        let digits = String(Int.random(in: 0...100_000, using: &random))
        let choices: [String] = [
            "data: \(value)", "data:\(value)", "data", "data:", "data:  \(value)", "data: \(value)",
            "id: \(value)", "id:\(value)", "id", "id:", "id: a\u{0}b",
            "retry: \(digits)", "retry:\(digits)", "retry: \(value)", "retry", "retry: ", "retry: 1 2",
            "retry: 99999999999999999999",
            "event: \(value)", "event:\(value)", "event",
            ":", ": \(value)", ":data: x", ":\(value)",
            "foo: bar", "datum: x", "Data: y", "dat", "i", "ids: 5", "retryx: 1", " data: x", "\u{FEFF}data: x",
        ]
        return choices.randomElement(using: &random) ?? ""
    }

    private static func randomValue(using random: inout SeededGenerator) -> String {
        let alphabet: [String] = ["a", "b", "z", "0", "7", " ", ":", "\u{E9}", "\u{1F30D}", "\u{FEFF}", "\t", "d", "i"]
        let length = Int.random(in: 0...10, using: &random)
        return (0..<length).map { _ in alphabet.randomElement(using: &random) ?? "" }.joined()
    }
}
