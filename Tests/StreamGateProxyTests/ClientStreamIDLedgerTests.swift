import NIOCore
import XCTest

@testable import StreamGateHTTP2

final class ClientStreamIDLedgerTests: XCTestCase {
    func testIdsInOrderAreNewAndReusedOnesKnown() {
        var ledger = ClientStreamIDLedger()
        for id: Int32 in [1, 3, 5, 7] {
            XCTAssertEqual(ledger.headersReceived(streamID: id), .new)
        }
        // Trailers on a stream the client opened, or HEADERS racing our RST_STREAM: not ours to judge.
        XCTAssertEqual(ledger.headersReceived(streamID: 3), .known)
        XCTAssertEqual(ledger.highestOpened, 7)
    }

    func testAJumpMarksEverySkippedIdClosed() {
        var ledger = ClientStreamIDLedger()
        XCTAssertEqual(ledger.headersReceived(streamID: 1), .new)
        XCTAssertEqual(ledger.headersReceived(streamID: 9), .new)
        for id: Int32 in [3, 5, 7] {
            XCTAssertEqual(ledger.headersReceived(streamID: id), .skipped, "stream \(id)")
        }
        XCTAssertEqual(ledger.headersReceived(streamID: 1), .known)
        XCTAssertEqual(ledger.headersReceived(streamID: 9), .known)
        XCTAssertEqual(ledger.headersReceived(streamID: 11), .new)
    }

    func testAFirstStreamAboveOneSkipsTheIdsBelowIt() {
        var ledger = ClientStreamIDLedger()
        XCTAssertEqual(ledger.headersReceived(streamID: 5), .new)
        XCTAssertEqual(ledger.headersReceived(streamID: 1), .skipped)
        XCTAssertEqual(ledger.headersReceived(streamID: 3), .skipped)
    }

    func testOnlyTheNewestRangesAreKept() {
        var ledger = ClientStreamIDLedger(capacity: 2)
        // Three jumps: (1...1), (5...5), (9...9) skipped; the oldest range is forgotten.
        for id: Int32 in [3, 7, 11] {
            XCTAssertEqual(ledger.headersReceived(streamID: id), .new)
        }
        XCTAssertEqual(ledger.headersReceived(streamID: 1), .known, "the oldest range should be forgotten")
        XCTAssertEqual(ledger.headersReceived(streamID: 5), .skipped)
        XCTAssertEqual(ledger.headersReceived(streamID: 9), .skipped)
    }
}

final class StreamResetRateLimitTests: XCTestCase {
    func testTheBurstIsAllowedThenTheRate() {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var limit = StreamResetRateLimit(burst: 10, perSecond: 5, now: start)
        for index in 0..<10 {
            XCTAssertTrue(limit.allowReset(now: start), "reset \(index) of the burst")
        }
        XCTAssertFalse(limit.allowReset(now: start))
        // 200 ms later one token is back (5 a second), not two.
        let later = start + .milliseconds(200)
        XCTAssertTrue(limit.allowReset(now: later))
        XCTAssertFalse(limit.allowReset(now: later))
        // A long pause refills to the burst, never beyond it.
        let much = later + .seconds(60)
        for _ in 0..<10 {
            XCTAssertTrue(limit.allowReset(now: much))
        }
        XCTAssertFalse(limit.allowReset(now: much))
    }
}
