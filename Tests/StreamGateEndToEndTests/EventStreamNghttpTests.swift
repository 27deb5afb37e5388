import StreamGateTestSupport
import XCTest

/// nghttp (HTTP/2 with prior knowledge over cleartext) on an event stream: events intact, heartbeats between them.
final class EventStreamNghttpTests: EndToEndTestCase {
    func testEventsAndHeartbeatsArriveOverNghttp() throws {
        let (_, _, base) = try startOriginAndProxy(routes: [
            .init("/", sse: "{ heartbeat_interval: 1s, heartbeat_comment: hb }"),
        ])
        let nghttp = try ProcessRunner.findInPath("nghttp")

        // Event 1, 1.5 s of silence, event 2, 1.5 s of silence, the end: one heartbeat in each silence.
        let url = "\(base)/sse-split?count=2&pause=10&gap=1500&end=1500"
        let result = try ProcessRunner.run(nghttp, [url], timeout: 15)

        XCTAssertFalse(result.timedOut, "nghttp still running after 15 s")
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        let blocks = EventStreamBlocks(result.stdout).blocks
        let event1 = "id: 1\ndata: part one part two"
        let event2 = "id: 2\ndata: part one part two"
        XCTAssertEqual(blocks.filter { $0 != ":hb" }, [event1, event2], "output: \(result.stdout.debugDescription)")
        guard let first = blocks.firstIndex(of: event1), let second = blocks.firstIndex(of: event2) else { return }
        XCTAssertEqual(blocks.first, ":hb", "the first comment")
        XCTAssertGreaterThanOrEqual(second - first - 1, 1, "no heartbeat between the events: \(blocks)")
        XCTAssertGreaterThanOrEqual(blocks.count - second - 1, 1, "no heartbeat after the last event: \(blocks)")
    }
}
