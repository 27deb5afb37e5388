import StreamGateTestSupport
import XCTest

/// An event stream's response head is rewritten for every hop behind the proxy (no Content-Length, Cache-Control
/// gains no-cache and no-transform, X-Accel-Buffering: no) while its body bytes pass intact.
final class EventStreamHeaderTests: EndToEndTestCase {
    /// The body `/sse-cached?count=3` sends, after the proxy's first comment.
    private static let expectedBody = ":hb\n\n"
        + "id: 1\ndata: cached 1\n\nid: 2\ndata: cached 2\n\nid: 3\ndata: cached 3\n\n"

    private func assertHeadRewritten(
        over client: EventStreamClientProtocol,
        routes: [ProxyConfigText.Route],
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let (_, _, base) = try startOriginAndProxy(routes: routes)

        let (response, _) = try timedFetch(base, "/sse-cached?count=3", over: client, timeout: 10)

        XCTAssertEqual(response.exitCode, 0, response.stderr, file: file, line: line)
        XCTAssertEqual(response.status, 200, file: file, line: line)
        let head = response.headerLines.joined(separator: "\n")
        XCTAssertEqual(response.headerValues("content-length"), [], "head: \(head)", file: file, line: line)
        let directives = response.headerValues("cache-control")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for directive in ["private", "no-cache", "no-transform"] {
            let message = "cache-control lacks \(directive): \(head)"
            XCTAssertTrue(directives.contains(directive), message, file: file, line: line)
        }
        XCTAssertEqual(response.headerValues("x-accel-buffering"), ["no"], "head: \(head)", file: file, line: line)
        XCTAssertEqual(response.headerValues("content-type"), ["text/event-stream"], file: file, line: line)
        XCTAssertEqual(response.text, Self.expectedBody, file: file, line: line)
    }

    func testHeadRewrittenOnSSERouteOverHTTP1() throws {
        try assertHeadRewritten(over: .http1, routes: [.init("/sse-cached", sse: "{ heartbeat_comment: hb }")])
    }

    func testHeadRewrittenOnSSERouteOverHTTP2() throws {
        try assertHeadRewritten(over: .http2, routes: [.init("/sse-cached", sse: "{ heartbeat_comment: hb }")])
    }

    /// Without an `sse` block the Content-Type alone makes it an event stream (the first comment is then `:`).
    func testHeadRewrittenOnPlainRouteOverHTTP2() throws {
        let (_, _, base) = try startOriginAndProxy()

        let (response, _) = try timedFetch(base, "/sse-cached?count=3", over: .http2, timeout: 10)

        XCTAssertEqual(response.exitCode, 0, response.stderr)
        XCTAssertEqual(response.headerValues("content-length"), [])
        XCTAssertEqual(response.headerValues("cache-control").first?.lowercased(), "private, no-cache, no-transform")
        XCTAssertEqual(response.headerValues("x-accel-buffering"), ["no"])
        XCTAssertEqual(response.text, ":" + Self.expectedBody.dropFirst(":hb".count))
    }
}
