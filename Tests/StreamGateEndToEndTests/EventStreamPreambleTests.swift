import StreamGateTestSupport
import XCTest

/// What the proxy sends before the upstream's first byte: `retry: <ms>` when the route sets `sse.retry`, else one
/// comment (`first_byte: immediate`, the default).
final class EventStreamPreambleTests: EndToEndTestCase {
    private func assertBody(
        startsWith preamble: String,
        sse: String,
        over client: EventStreamClientProtocol,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let (_, _, base) = try startOriginAndProxy(routes: [.init("/", sse: sse)])

        let (response, _) = try timedFetch(base, "/sse?count=3", over: client, timeout: 10)

        XCTAssertEqual(response.exitCode, 0, response.stderr, file: file, line: line)
        let body = response.text
        XCTAssertTrue(body.hasPrefix(preamble), "body: \(body.prefix(40).debugDescription)", file: file, line: line)
        let rest = body.dropFirst(preamble.count)
        let message = "after the preamble: \(rest.prefix(40).debugDescription)"
        XCTAssertTrue(rest.hasPrefix("id: 1\n"), message, file: file, line: line)
        let events = rest.components(separatedBy: "\n").compactMap(OriginEvent.parse(dataLine:))
        XCTAssertEqual(events.map(\.seq), [1, 2, 3], file: file, line: line)
    }

    func testRetryComesFirstOverHTTP1() throws {
        try assertBody(startsWith: "retry: 3000\n\n", sse: "{ retry: 3s, heartbeat_comment: hb }", over: .http1)
    }

    func testRetryComesFirstOverHTTP2() throws {
        try assertBody(startsWith: "retry: 3000\n\n", sse: "{ retry: 3s, heartbeat_comment: hb }", over: .http2)
    }

    func testWithoutRetryOneCommentComesFirst() throws {
        try assertBody(startsWith: ":hb\n\n", sse: "{ heartbeat_comment: hb }", over: .http1)
    }
}
