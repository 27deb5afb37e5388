import StreamGateTestSupport
import XCTest

/// Route timeouts end streams: `idle` when the upstream goes silent, `max_lifetime` however lively it is.
/// An event stream ends cleanly (terminating chunk: curl exits 0, EventSource reconnects); any other streamed body
/// is cut (no final chunk: curl exits non-zero). Either way the upstream connection is closed.
final class StreamTimeoutTests: EndToEndTestCase {
    private func assertStreamEnds(
        path: String,
        routes: [ProxyConfigText.Route],
        cleanly: Bool,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let (origin, _, base) = try startOriginAndProxy(routes: routes)
        let curl = try CurlStream(["-N", "\(base)\(path)"])

        let gotFirst = curl.waitForLines(timeout: 10) { lines in
            lines.contains { OriginEvent.parse(dataLine: $0.text) != nil }
        }
        XCTAssertTrue(gotFirst, "no event: \(curl.stderr)", file: file, line: line)

        let exitCode = curl.waitForExit(timeout: 8)
        XCTAssertNotNil(exitCode, "stream still open 8 s later", file: file, line: line)
        if cleanly {
            XCTAssertEqual(exitCode, 0, "event stream not ended cleanly: \(curl.stderr)", file: file, line: line)
        } else {
            XCTAssertNotEqual(exitCode, 0, "curl saw a complete response", file: file, line: line)
        }
        XCTAssertTrue(
            origin.connections.waitForClosedConnections(1, timeout: 2),
            "the upstream connection was kept after the stream ended",
            file: file,
            line: line
        )
    }

    func testIdleTimeoutEndsSilentEventStreamCleanly() throws {
        try assertStreamEnds(
            path: "/silent-after-first",
            routes: [.init("/silent-after-first", timeouts: "{ idle: 1s }"), .init("/")],
            cleanly: true
        )
    }

    func testMaxLifetimeEndsLiveEventStreamCleanly() throws {
        try assertStreamEnds(
            path: "/sse",
            routes: [.init("/sse", timeouts: "{ max_lifetime: 1s }"), .init("/")],
            cleanly: true
        )
    }

    func testIdleTimeoutCutsSilentPlainStream() throws {
        try assertStreamEnds(
            path: "/silent-after-first?type=plain",
            routes: [.init("/silent-after-first", timeouts: "{ idle: 1s }"), .init("/")],
            cleanly: false
        )
    }

    func testMaxLifetimeCutsLivePlainStream() throws {
        try assertStreamEnds(
            path: "/sse?type=plain",
            routes: [.init("/sse", timeouts: "{ max_lifetime: 1s }"), .init("/")],
            cleanly: false
        )
    }
}

/// `response_header` counts from the end of the request: an upload slower than the timeout is not cut.
final class SlowUploadTests: EndToEndTestCase {
    func testUploadSlowerThanResponseHeaderIsNotCut() throws {
        let (_, _, base) = try startOriginAndProxy(routes: [.init("/", timeouts: "{ response_header: 1s }")])
        let directory = try TemporaryDirectory(prefix: "streamgate-upload")
        let body = String(repeating: "0123456789abcdef", count: 512)  // 8 KiB at 2 KiB/s: about 4 s
        let file = try directory.write(body, to: "body.txt")
        // `/headers` answers only once the whole request has arrived.
        let response = try Curl.fetch(
            base + "/headers",
            ["--data-binary", "@\(file.path)", "--limit-rate", "2K", "-H", "Content-Type: text/plain"],
            timeout: 20
        )
        XCTAssertEqual(response.status, 200, "a slow upload got \(response.status): \(response.text.prefix(200))")
        XCTAssertEqual(try OriginRequestEcho.decode(response.text).method, "POST")
    }
}
