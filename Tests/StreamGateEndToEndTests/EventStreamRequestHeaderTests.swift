import StreamGateTestSupport
import XCTest

/// Request headers of event streams as the origin sees them: `Last-Event-ID` unchanged; `Accept-Encoding` removed
/// on routes with an `sse` block or for requests that accept `text/event-stream`, kept with
/// `upstream_accept_encoding: keep`.
final class EventStreamRequestHeaderTests: EndToEndTestCase {
    private func assertLastEventIDPassed(over client: EventStreamClientProtocol, line: UInt = #line) throws {
        let (origin, _, base) = try startOriginAndProxy(routes: [.init("/", sse: "{ heartbeat_comment: hb }")])

        let (response, _) = try timedFetch(
            base, "/sse-resume?count=2", over: client, extra: ["-H", "Last-Event-ID: 41"], timeout: 10
        )

        XCTAssertEqual(response.exitCode, 0, response.stderr, line: line)
        XCTAssertEqual(origin.sseRequests.requests(path: "/sse-resume").map(\.lastEventID), ["41"], line: line)
        XCTAssertEqual(
            EventStreamBlocks(response.text).events(),
            ["id: 42\ndata: resume 42", "id: 43\ndata: resume 43"],
            line: line
        )
    }

    /// The `Accept-Encoding` the origin saw for a request with `headers` on a proxy with `routes`.
    private func originAcceptEncoding(
        routes: [ProxyConfigText.Route],
        headers: [String],
        over client: EventStreamClientProtocol = .http1,
        line: UInt = #line
    ) throws -> String? {
        let (origin, _, base) = try startOriginAndProxy(routes: routes)
        let (response, _) = try timedFetch(
            base, "/sse-resume?count=1", over: client, extra: headers.flatMap { ["-H", $0] }, timeout: 10
        )
        XCTAssertEqual(response.exitCode, 0, response.stderr, line: line)
        let seen = origin.sseRequests.requests(path: "/sse-resume")
        XCTAssertEqual(seen.count, 1, line: line)
        return seen.first?.acceptEncoding
    }

    func testLastEventIDReachesOriginOverHTTP1() throws {
        try assertLastEventIDPassed(over: .http1)
    }

    func testLastEventIDReachesOriginOverHTTP2() throws {
        try assertLastEventIDPassed(over: .http2)
    }

    func testAcceptEncodingRemovedOnSSERouteOverHTTP1() throws {
        let seen = try originAcceptEncoding(routes: [.init("/", sse: "{}")], headers: ["Accept-Encoding: gzip, br"])
        XCTAssertNil(seen)
    }

    func testAcceptEncodingRemovedOnSSERouteOverHTTP2() throws {
        let seen = try originAcceptEncoding(
            routes: [.init("/", sse: "{}")], headers: ["Accept-Encoding: gzip, br"], over: .http2
        )
        XCTAssertNil(seen)
    }

    func testAcceptEncodingKeptWithKeep() throws {
        let seen = try originAcceptEncoding(
            routes: [.init("/", sse: "{ upstream_accept_encoding: keep }")],
            headers: ["Accept-Encoding: gzip, br", "Accept: text/event-stream"]
        )
        XCTAssertEqual(seen, "gzip, br")
    }

    func testAcceptEncodingRemovedForEventStreamAcceptWithoutSSEBlock() throws {
        let seen = try originAcceptEncoding(
            routes: [.init("/")], headers: ["Accept-Encoding: gzip", "Accept: text/event-stream"]
        )
        XCTAssertNil(seen)
    }

    func testAcceptEncodingKeptForOtherRequestsWithoutSSEBlock() throws {
        let seen = try originAcceptEncoding(routes: [.init("/")], headers: ["Accept-Encoding: gzip", "Accept: */*"])
        XCTAssertEqual(seen, "gzip")
    }
}
