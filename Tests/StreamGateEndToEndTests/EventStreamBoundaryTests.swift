import StreamGateTestSupport
import XCTest

/// Heartbeats go out only between events: an event whose halves arrive three heartbeat intervals apart reaches the
/// client intact, with nothing between its halves in the raw bytes.
final class EventStreamBoundaryTests: EndToEndTestCase {
    private static let routes: [ProxyConfigText.Route] = [
        .init("/", sse: "{ heartbeat_interval: 1s, heartbeat_comment: hb }"),
    ]

    /// Fetches `path` (one event written as `firstHalf`, a 3 s pause, `secondHalf`, then 1.5 s of silence and the
    /// end) and checks the raw body: the first comment, the event intact, then only heartbeats.
    private func assertEventIntact(
        path: String,
        firstHalf: String,
        secondHalf: String,
        over client: EventStreamClientProtocol,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let (_, _, base) = try startOriginAndProxy(routes: Self.routes)

        let (response, seconds) = try timedFetch(base, path, over: client, timeout: 15)

        XCTAssertEqual(response.exitCode, 0, response.stderr, file: file, line: line)
        XCTAssertGreaterThanOrEqual(seconds, 3, "the origin's pause did not happen", file: file, line: line)
        let body = response.text
        guard let first = body.range(of: firstHalf),
            let second = body.range(of: secondHalf, range: first.upperBound..<body.endIndex)
        else {
            return XCTFail("event halves missing from \(body.debugDescription)", file: file, line: line)
        }
        let between = body[first.upperBound..<second.lowerBound]
        XCTAssertEqual(between, "", "bytes between the halves of one event", file: file, line: line)
        XCTAssertEqual(body[..<first.lowerBound], ":hb\n\n", "before the event", file: file, line: line)
        let after = body[second.upperBound...]
        XCTAssertFalse(after.isEmpty, "no heartbeat after the event in 1.5 s of silence", file: file, line: line)
        XCTAssertEqual(
            after.replacingOccurrences(of: ":hb\n\n", with: ""),
            "",
            "after the event: \(after.debugDescription)",
            file: file,
            line: line
        )
    }

    func testNoHeartbeatInsideEventOverHTTP1() throws {
        try assertEventIntact(
            path: "/sse-split?count=1&pause=3000&end=1500",
            firstHalf: "id: 1\ndata: part one",
            secondHalf: " part two\n\n",
            over: .http1
        )
    }

    func testNoHeartbeatInsideEventOverHTTP2() throws {
        try assertEventIntact(
            path: "/sse-split?count=1&pause=3000&end=1500",
            firstHalf: "id: 1\ndata: part one",
            secondHalf: " part two\n\n",
            over: .http2
        )
    }

    /// A CRLF event split between the CR and the LF of its data line: the line has ended, the event has not.
    func testNoHeartbeatInsideCRLFEvent() throws {
        try assertEventIntact(
            path: "/sse-crlf?count=1&split=1&pause=3000&end=1500",
            firstHalf: "id: 1\r\ndata: crlf 1\r",
            secondHalf: "\n\r\n",
            over: .http1
        )
    }
}
