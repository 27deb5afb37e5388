import NIOCore
import XCTest

@testable import StreamGateProxy

final class EventStreamScannerBOMTests: XCTestCase {
    private typealias LeadingBOM = EventStreamScanner.LeadingBOM

    /// The `LeadingBOM` answer and boundary after each chunk.
    private func answers(_ chunks: [[UInt8]]) -> [(LeadingBOM, Bool)] {
        var scanner = EventStreamScanner()
        return chunks.map { chunk in
            let answer = scanner.scan(ByteBuffer(bytes: chunk))
            return (answer, scanner.isAtEventBoundary)
        }
    }

    private func bom(withheld: Int, restored: Int = 0) -> LeadingBOM {
        LeadingBOM(withheldByteCount: withheld, restoredByteCount: restored)
    }

    func testWholeBOMInFirstChunk() {
        let result = answers([[0xEF, 0xBB, 0xBF, 0x64], Array("ata: x\n\n".utf8)])
        XCTAssertEqual(result.map(\.0), [bom(withheld: 3), .none])
        XCTAssertEqual(result.map(\.1), [false, true])
    }

    func testBOMAloneIsABoundary() {
        let result = answers([[0xEF, 0xBB, 0xBF]])
        XCTAssertEqual(result.map(\.0), [bom(withheld: 3)])
        XCTAssertEqual(result.map(\.1), [true])
    }

    func testSplitBOMIsWithheldUntilComplete() {
        let result = answers([[], [0xEF], [0xBB], [0xBF, 0x0A], [0x0A]])
        XCTAssertEqual(result.map(\.0), [.none, bom(withheld: 1), bom(withheld: 1), bom(withheld: 1), .none])
        XCTAssertEqual(result.map(\.1), [true, false, false, true, true])
    }

    func testBrokenBOMComesBack() {
        XCTAssertEqual(answers([[0xEF], [0x41, 0x0A]]).map(\.0), [bom(withheld: 1), bom(withheld: 0, restored: 1)])
        XCTAssertEqual(answers([[0xEF, 0xBB], [0x0A]]).map(\.0), [bom(withheld: 2), bom(withheld: 0, restored: 2)])
        XCTAssertEqual(answers([[0xEF], [0xBB, 0x0D]]).map(\.0), [bom(withheld: 1), bom(withheld: 0, restored: 1)])
        XCTAssertEqual(answers([[0xEF, 0xBB, 0xEF]]).map(\.0), [.none])
    }

    func testNoBOMAndLaterBOMsChangeNothing() {
        let result = answers([Array("data: x\n\n".utf8), [0xEF, 0xBB, 0xBF], Array("\n".utf8)])
        XCTAssertEqual(result.map(\.0), [.none, .none, .none])
        XCTAssertEqual(result.map(\.1), [true, false, false])
    }

    func testAppliedSlicesWithoutCopyingOrRestoresThePrefix() {
        let allocator = ByteBufferAllocator()
        let chunk = ByteBuffer(bytes: [0xEF, 0xBB, 0xBF, 0x3A, 0x0A])
        XCTAssertEqual(LeadingBOM.none.applied(to: chunk, allocator: allocator), chunk)
        XCTAssertEqual(
            Array(buffer: bom(withheld: 3).applied(to: chunk, allocator: allocator)),
            [0x3A, 0x0A]
        )
        XCTAssertEqual(
            Array(buffer: bom(withheld: 0, restored: 2).applied(to: ByteBuffer(bytes: [0x0A]), allocator: allocator)),
            [0xEF, 0xBB, 0x0A]
        )
    }

    func testProxyWritingAheadDropsOrRestoresTheBOM() {
        let streams: [[UInt8]] = [
            EventStreamScanner.byteOrderMark + Array("data: x\n\n".utf8),
            [0xEF, 0xBB] + Array("data: x\n\ndata: y\n\n".utf8),
            [0xEF] + Array("\n\ndata: y\n\n".utf8),
            EventStreamScanner.byteOrderMark + EventStreamScanner.byteOrderMark + Array("data: x\n\ndata: y\n\n".utf8),
        ]
        for stream in streams {
            let original = ReferenceEventStream(parsing: stream)
            for feeding in EventStreamScannerHarness.standardFeedings(of: stream) {
                let result = EventStreamScannerHarness.proxy(
                    feeding.chunks,
                    heartbeat: Array(":\n\n".utf8),
                    insertAtStart: true,
                    insertAfter: { _ in false }
                )
                XCTAssertEqual(result.insertions, 1)
                XCTAssertEqual(ReferenceEventStream(parsing: result.output).events, original.events, feeding.name)
            }
        }
    }
}
