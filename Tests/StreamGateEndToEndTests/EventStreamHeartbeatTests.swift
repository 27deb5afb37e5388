import StreamGateTestSupport
import XCTest

/// A quiet event stream gets a heartbeat comment (`:hb`) each time nothing was sent for `heartbeat_interval` (1 s
/// here), over HTTP/1.1 and HTTP/2. Timing is checked only within generous bounds.
final class EventStreamHeartbeatTests: EndToEndTestCase {
    private static let routes: [ProxyConfigText.Route] = [
        .init("/", sse: "{ heartbeat_interval: 1s, heartbeat_comment: hb }"),
    ]

    /// Streams `path`; after the first line matching `anchor`, expects at least three `:hb` comments (each ending
    /// a block), roughly one interval apart, and nothing else.
    private func assertHeartbeats(
        path: String,
        over client: EventStreamClientProtocol,
        after anchor: @escaping (String) -> Bool,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let (_, _, base) = try startOriginAndProxy(routes: Self.routes)
        let curl = try CurlStream(["-N"] + client.curlArguments + ["\(base)\(path)"])
        defer { curl.kill() }

        func beatsAfterAnchor(_ lines: [CurlStream.Line]) -> (anchor: Int, beats: [CurlStream.Line])? {
            guard let index = lines.firstIndex(where: { anchor($0.text) }) else { return nil }
            return (index, lines[(index + 1)...].filter { $0.text == ":hb" })
        }
        let gotThree = curl.waitForLines(timeout: 8) { lines in
            (beatsAfterAnchor(lines)?.beats.count ?? 0) >= 3
        }
        let lines = curl.lines
        XCTAssertTrue(gotThree, "lines: \(lines.map(\.text)) stderr: \(curl.stderr)", file: file, line: line)
        guard let (index, beats) = beatsAfterAnchor(lines), beats.count >= 3 else { return }

        XCTAssertEqual(lines.first?.text, ":hb", "the stream does not open with a comment", file: file, line: line)
        // After the anchor: the blank line ending it (CRLF streams: a lone CR), then only `:hb` + blank line pairs.
        let after = lines[(index + 1)...].map(\.text)
        XCTAssertTrue(["", "\r"].contains(after.first), "after the anchor: \(after)", file: file, line: line)
        XCTAssertEqual(Array(after.dropFirst().prefix(5)), [":hb", "", ":hb", "", ":hb"], file: file, line: line)
        // Never early (the grid may bring one at most 62 ms forward); how late a busy machine lets one be is the
        // benchmark's business, and the exact schedule is pinned by ProxyStreamDeadlineTests on a test clock.
        var previous = lines[index].arrivedAt
        for beat in beats.prefix(3) {
            let gap = beat.arrivedAt - previous
            let message = "heartbeat \(Int(gap)) ms after the previous line"
            XCTAssertTrue((600...10_000).contains(gap), message, file: file, line: line)
            previous = beat.arrivedAt
        }
    }

    private static func isOriginEvent(_ line: String) -> Bool {
        OriginEvent.parse(dataLine: line) != nil
    }

    func testSilentStreamGetsHeartbeatsOverHTTP1() throws {
        try assertHeartbeats(path: "/silent-after-first", over: .http1, after: Self.isOriginEvent)
    }

    func testSilentStreamGetsHeartbeatsOverHTTP2() throws {
        try assertHeartbeats(path: "/silent-after-first", over: .http2, after: Self.isOriginEvent)
    }

    /// The origin sends its head and then nothing: the proxy's first comment, then heartbeats.
    func testStreamWithOnlyAHeadGetsHeartbeats() throws {
        try assertHeartbeats(path: "/sse-split?count=0", over: .http1, after: { $0 == ":hb" })
    }

    /// Events ending in CRLF CRLF are boundaries too.
    func testStreamOfCRLFEventsGetsHeartbeats() throws {
        try assertHeartbeats(path: "/sse-crlf?count=1", over: .http2, after: { $0 == "data: crlf 1\r" })
    }
}
