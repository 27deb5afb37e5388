import NIOCore
import XCTest

@testable import StreamGateProxy

final class EventStreamScannerTests: XCTestCase {
    /// A sample stream, what the reference must find in it, and whether it ends at an event boundary.
    private struct Sample {
        var name: String
        var bytes: [UInt8]
        var eventCount: Int
        var endsAtBoundary: Bool

        init(_ name: String, _ text: String, events eventCount: Int, boundary endsAtBoundary: Bool) {
            self.init(name, Array(text.utf8), events: eventCount, boundary: endsAtBoundary)
        }

        init(_ name: String, _ bytes: [UInt8], events eventCount: Int, boundary endsAtBoundary: Bool) {
            self.name = name
            self.bytes = bytes
            self.eventCount = eventCount
            self.endsAtBoundary = endsAtBoundary
        }
    }

    private static let bom = EventStreamScanner.byteOrderMark

    private static let samples: [Sample] = [
        Sample("empty", "", events: 0, boundary: true),
        Sample("LF", "data: a\n\ndata: b\ndata: c\n\n", events: 2, boundary: true),
        Sample("CRLF", "id: 1\r\ndata: x\r\n\r\ndata: y\r\n\r\n", events: 2, boundary: true),
        Sample("CR", "data: x\r\revent: e\rdata: y\r\r", events: 2, boundary: true),
        Sample("mixed line ends", "data: a\r\ndata: b\rdata: c\n\r\n", events: 1, boundary: true),
        Sample("CR then CRLF blank", "data: a\r\r\ndata: b\n\n", events: 2, boundary: true),
        Sample("comments", ":hello\n\n: another\ndata: z\n\n:c\n\n", events: 1, boundary: true),
        Sample("comment-only block", ":c\n\n", events: 0, boundary: true),
        Sample("multi-line data", "data: one\ndata\ndata:\ndata:  two\n\n", events: 1, boundary: true),
        Sample("id without space", "id:abc\ndata\n\n", events: 1, boundary: true),
        Sample("id without colon", "id:abc\ndata: 1\n\nid\ndata: 2\n\n", events: 2, boundary: true),
        Sample("id empty after colon", "id: 9\n\nid:\ndata: 2\n\n", events: 1, boundary: true),
        Sample("id with NUL", "id: 7\ndata: a\n\nid: 8\u{0}9\ndata: b\n\n", events: 2, boundary: true),
        Sample("id two spaces", "id:  x \ndata: a\n\n", events: 1, boundary: true),
        Sample("id in block without data", "\n\n\nevent: x\n\n:c\nid: 5\n\n", events: 0, boundary: true),
        Sample("id non-ASCII", "data: h\u{E9}llo \u{1F30D}\nid: \u{FC}\u{1F30D}\n\n", events: 1, boundary: true),
        Sample("retry", "retry: 3000\n\nretry: x1\nretry:\nretry: 12a\nretry\nretry:  5\n\n", events: 0,
               boundary: true),
        Sample("retry no space, zeros", "retry:0042\ndata: r\n\n", events: 1, boundary: true),
        Sample("retry overflow", "retry: 99999999999999999999999999\n\n", events: 0, boundary: true),
        Sample("event field", "event: ping\ndata: 1\n\nevent: only\n\ndata: 2\n\n", events: 2, boundary: true),
        Sample("near names", "datax: y\n\ndata : y\n\nData: y\n\nd\n\ndat\n\nidx: 1\n\nretryy: 5\n\n", events: 0,
               boundary: true),
        Sample("colon in value", "data: a:b\nid: c:d\n\n", events: 1, boundary: true),
        Sample("BOM", bom + Array("data: x\n\n".utf8), events: 1, boundary: true),
        Sample("BOM only", bom, events: 0, boundary: true),
        Sample("BOM then blank", bom + [0x0A], events: 0, boundary: true),
        Sample("two BOMs", bom + bom + Array("data: x\n\ndata: y\n\n".utf8), events: 1, boundary: true),
        Sample("broken BOM", [0xEF, 0xBB, 0x41] + Array("\n\ndata: y\n\n".utf8), events: 1, boundary: true),
        Sample("broken BOM before data", [0xEF] + Array("data: x\n\ndata: y\n\n".utf8), events: 1, boundary: true),
        Sample("broken BOM at line end", [0xEF, 0xBB, 0x0D, 0x0A, 0x0A] + Array("data: y\n\n".utf8), events: 1,
               boundary: true),
        Sample("partial BOM", [0xEF, 0xBB], events: 0, boundary: false),
        Sample("unfinished line", "data: a\n\ndata: b", events: 1, boundary: false),
        Sample("unfinished event", "data: a\n\ndata: b\n", events: 1, boundary: false),
        Sample("unfinished comment", "data: a\n\n:comment", events: 1, boundary: false),
        Sample("blank line CR pending", "data: a\r\n\r", events: 1, boundary: true),
        Sample("data line CR pending", "data: a\r\n\r\ndata: b\r", events: 1, boundary: false),
        Sample("id split by CR", "id: a\r\ndata: b\r\n\r\n", events: 1, boundary: true),
        Sample("invalid UTF-8", [0x64, 0x61, 0x74, 0x61, 0x3A, 0xC3, 0x0A, 0xFF, 0x0A, 0x0A], events: 1,
               boundary: true),
        Sample("long id kept", "id: " + String(repeating: "x", count: 1024) + "\ndata: a\n\n", events: 1,
               boundary: true),
        Sample("overlong id ignored", "id: k\n\nid: " + String(repeating: "y", count: 1025) + "\ndata: a\n\n",
               events: 1, boundary: true),
    ]

    func testSamplesMatchReferenceInEveryFeeding() {
        for sample in Self.samples {
            let reference = ReferenceEventStream(parsing: sample.bytes)
            XCTAssertEqual(reference.events.count, sample.eventCount, "reference events in \(sample.name)")
            XCTAssertEqual(reference.endsAtBlockStart, sample.endsAtBoundary, "reference boundary in \(sample.name)")
            for feeding in EventStreamScannerHarness.standardFeedings(of: sample.bytes) {
                // Byte by byte is checked after every byte; the others after each of their chunks.
                let scanner = EventStreamScannerHarness.scanChecking(
                    feeding.chunks,
                    context: "\(sample.name), \(feeding.name)"
                )
                XCTAssertEqual(scanner.isAtEventBoundary, sample.endsAtBoundary, "\(sample.name), \(feeding.name)")
            }
        }
    }

    func testSamplesInThreeChunksAtEveryPairOfOffsets() {
        for sample in Self.samples where sample.bytes.count <= 64 {
            let reference = ReferenceEventStream(parsing: sample.bytes)
            for first in 0...sample.bytes.count {
                for second in first...sample.bytes.count {
                    var scanner = EventStreamScanner()
                    let chunks = EventStreamScannerHarness.chunks(of: sample.bytes, cuttingAt: [first, second])
                    for chunk in chunks {
                        scanner.scan(ByteBuffer(bytes: chunk))
                    }
                    EventStreamScannerHarness.assertMatches(
                        scanner,
                        reference,
                        context: "\(sample.name), cut at \(first) and \(second)"
                    )
                }
            }
        }
    }

    func testSampleValues() {
        func scanned(_ bytes: [UInt8]) -> EventStreamScanner {
            var scanner = EventStreamScanner()
            scanner.scan(ByteBuffer(bytes: bytes))
            return scanner
        }
        func scanned(_ text: String) -> EventStreamScanner {
            scanned(Array(text.utf8))
        }
        XCTAssertNil(scanned("").lastEventID)
        XCTAssertNil(scanned("").lastRetry)
        XCTAssertEqual(scanned("id:abc\ndata\n\n").lastEventID, "abc")
        XCTAssertEqual(scanned("id:abc\n\nid\n").lastEventID, "")
        XCTAssertEqual(scanned("id: 7\nid: 8\u{0}9\n").lastEventID, "7")
        XCTAssertEqual(scanned("id:  x \n").lastEventID, " x ")
        XCTAssertEqual(scanned("id: \u{FC}\u{1F30D}\n").lastEventID, "\u{FC}\u{1F30D}")
        XCTAssertEqual(scanned("id: a\nid: b").lastEventID, "a", "an unfinished id line is not applied")
        XCTAssertEqual(scanned("retry: 3000\n\nretry: x1\nretry:\nretry\nretry:  5\n").lastRetry, 3000)
        XCTAssertEqual(scanned("retry:0042\n").lastRetry, 42)
        XCTAssertEqual(scanned("retry: 99999999999999999999999999\n").lastRetry, Int.max)
        XCTAssertEqual(scanned("data\n\ndata:\n\n\n\nevent: x\n\n").eventCount, 2)
        let longID = String(repeating: "x", count: EventStreamScanner.maximumEventIDLength)
        XCTAssertEqual(scanned("id: \(longID)\n").lastEventID, longID)
        XCTAssertEqual(scanned("id: k\nid: \(longID)y\n").lastEventID, "k")
    }

    /// Found by fuzzing: 400 invalid UTF-8 bytes are within the limit as received but decode to 1,200 bytes of
    /// U+FFFD; such an id is ignored too, so `lastEventID` never exceeds the limit.
    func testIDOverTheLimitOnceDecodedIsIgnored() {
        var scanner = EventStreamScanner()
        scanner.scan(ByteBuffer(bytes: Array("id: k\n\nid: ".utf8) + Array(repeating: 0xFF, count: 400) + [0x0A]))
        XCTAssertEqual(scanner.lastEventID, "k")
        scanner.scan(ByteBuffer(bytes: Array("id: ".utf8) + Array(repeating: 0xFF, count: 300) + [0x0A]))
        XCTAssertEqual(scanner.lastEventID, String(repeating: "\u{FFFD}", count: 300))
    }

    func testLongIDSpanningManyChunksIsKeptOrIgnoredByLength() {
        for length in [1, 100, 1023, 1024, 1025, 5000] {
            let stream = Array("id: k\n\nid: ".utf8) + Array(repeating: UInt8(ascii: "z"), count: length) + [0x0A]
            let chunks = stride(from: 0, to: stream.count, by: 7).map { Array(stream[$0..<min($0 + 7, stream.count)]) }
            var scanner = EventStreamScanner()
            for chunk in chunks {
                scanner.scan(ByteBuffer(bytes: chunk))
            }
            let expected = length <= 1024 ? String(repeating: "z", count: length) : "k"
            XCTAssertEqual(scanner.lastEventID, expected, "id of \(length) bytes")
        }
    }

    func testBoundaryProgressThroughAnEvent() {
        var scanner = EventStreamScanner()
        var boundaries: [Bool] = [scanner.isAtEventBoundary]
        for byte in Array("data: a\r\n\r\n".utf8) {
            scanner.scan(ByteBuffer(bytes: [byte]))
            boundaries.append(scanner.isAtEventBoundary)
        }
        // Stream start, then mid-line, mid-event, and the blank line's CR already closes the event.
        XCTAssertEqual(boundaries, [true] + Array(repeating: false, count: 9) + [true, true])
        XCTAssertEqual(scanner.eventCount, 1)
    }

    func testHeartbeatAtPendingCRIsSafeWhateverFollows() {
        // "data: x\r\r" ends a blank line with CR; an LF may still follow as the second half of a CRLF.
        for tail in ["\n", "\ndata: y\n\n", "data: y\r\r", "\r", ""] {
            let head = Array("id: 1\rdata: x\r\r".utf8)
            let rest = Array(tail.utf8)
            let original = ReferenceEventStream(parsing: head + rest)
            let result = EventStreamScannerHarness.proxy(
                [head, rest],
                heartbeat: Array(":\n\n".utf8),
                insertAtStart: false,
                insertAfter: { $0 == 0 }
            )
            XCTAssertEqual(result.insertions, 1, "tail \(tail.debugDescription)")
            let proxied = ReferenceEventStream(parsing: result.output)
            XCTAssertEqual(proxied.events, original.events, "tail \(tail.debugDescription)")
            XCTAssertEqual(proxied.lastEventIDBuffer, original.lastEventIDBuffer)
        }
    }

    func testHeartbeatsAfterEveryChunkKeepSampleEvents() {
        for sample in Self.samples {
            let original = ReferenceEventStream(parsing: sample.bytes)
            for feeding in EventStreamScannerHarness.standardFeedings(of: sample.bytes) {
                for heartbeat in [":\n\n", ":hb\n\n"] {
                    let result = EventStreamScannerHarness.proxy(
                        feeding.chunks,
                        heartbeat: Array(heartbeat.utf8),
                        insertAtStart: true,
                        insertAfter: { _ in true }
                    )
                    let proxied = ReferenceEventStream(parsing: result.output)
                    let context = "\(sample.name), \(feeding.name), heartbeat \(heartbeat.debugDescription)"
                    XCTAssertEqual(proxied.events, original.events, context)
                    XCTAssertEqual(proxied.lastEventIDBuffer, original.lastEventIDBuffer, context)
                    XCTAssertEqual(proxied.retry, original.retry, context)
                }
            }
        }
    }
}
