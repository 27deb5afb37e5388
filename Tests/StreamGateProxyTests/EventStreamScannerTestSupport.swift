import NIOCore
import XCTest

@testable import StreamGateProxy

/// A small deterministic generator (SplitMix64), so that a failing seed reproduces.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// Feeds streams to an `EventStreamScanner` the way the proxy does and checks it against `ReferenceEventStream`.
enum EventStreamScannerHarness {
    /// `bytes` cut at `cuts` (sorted offsets, repeats give empty chunks).
    static func chunks(of bytes: [UInt8], cuttingAt cuts: [Int]) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var start = 0
        for cut in cuts {
            result.append(Array(bytes[start..<cut]))
            start = cut
        }
        result.append(Array(bytes[start...]))
        return result
    }

    /// Every way to feed `bytes` named in the drip-feeding checks: whole, byte by byte, and in two chunks split at
    /// every offset (including the empty first and last chunk).
    static func standardFeedings(of bytes: [UInt8]) -> [(name: String, chunks: [[UInt8]])] {
        var feedings: [(name: String, chunks: [[UInt8]])] = [
            ("whole", [bytes]),
            ("byte by byte", bytes.map { [$0] }),
        ]
        for split in 0...bytes.count {
            feedings.append(("split at \(split)", chunks(of: bytes, cuttingAt: [split])))
        }
        return feedings
    }

    /// Scans `chunks` one by one and, after each, checks the scanner against the reference parse of the prefix.
    static func scanChecking(
        _ chunks: [[UInt8]],
        context: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> EventStreamScanner {
        var scanner = EventStreamScanner()
        var prefix: [UInt8] = []
        for chunk in chunks {
            scanner.scan(ByteBuffer(bytes: chunk))
            prefix += chunk
            assertMatches(scanner, ReferenceEventStream(parsing: prefix), context: context, file: file, line: line)
        }
        return scanner
    }

    /// Checks everything the scanner reports against the reference parse of the same bytes.
    static func assertMatches(
        _ scanner: EventStreamScanner,
        _ reference: ReferenceEventStream,
        context: @autoclosure () -> String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertEqual(scanner.eventCount, reference.events.count, "eventCount, \(context())", file: file, line: line)
        XCTAssertEqual(
            scanner.lastEventID.map { Array($0.unicodeScalars) },
            reference.lastEventIDBuffer.map { Array($0.unicodeScalars) },
            "lastEventID, \(context())",
            file: file,
            line: line
        )
        XCTAssertEqual(scanner.lastRetry, reference.retry, "lastRetry, \(context())", file: file, line: line)
        XCTAssertEqual(
            scanner.isAtEventBoundary,
            reference.endsAtBlockStart,
            "isAtEventBoundary, \(context())",
            file: file,
            line: line
        )
    }

    /// Plays the proxy: optionally writes `heartbeat` before the first chunk, forwards each chunk (adjusted for a
    /// leading BOM once something was written ahead) and writes `heartbeat` after a chunk when `insertAfter` says so
    /// and the scanner is at an event boundary.
    static func proxy(
        _ chunks: [[UInt8]],
        heartbeat: [UInt8],
        insertAtStart: Bool,
        insertAfter: (Int) -> Bool
    ) -> (output: [UInt8], insertions: Int) {
        var scanner = EventStreamScanner()
        var output: [UInt8] = []
        var insertions = 0
        var wroteAhead = false
        if insertAtStart && scanner.isAtEventBoundary {
            output += heartbeat
            insertions += 1
            wroteAhead = true
        }
        for (index, chunk) in chunks.enumerated() {
            let buffer = ByteBuffer(bytes: chunk)
            let leadingBOM = scanner.scan(buffer)
            let forwarded = wroteAhead ? leadingBOM.applied(to: buffer, allocator: ByteBufferAllocator()) : buffer
            output += Array(buffer: forwarded)
            if scanner.isAtEventBoundary && insertAfter(index) {
                output += heartbeat
                insertions += 1
                wroteAhead = true
            }
        }
        return (output, insertions)
    }
}
