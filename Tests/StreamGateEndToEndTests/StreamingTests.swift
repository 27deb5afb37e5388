import StreamGateTestSupport
import XCTest

/// Server-sent events reach the client as the origin sends them, not buffered by the proxy.
final class StreamingTests: EndToEndTestCase {
    func testFirstEventArrivesBeforeOriginSendsTheSecond() throws {
        let (_, _, base) = try startOriginAndProxy()

        let curl = try CurlStream(["-N", "\(base)/sse?count=5"])
        let gotFive = curl.waitForLines(timeout: 10) { lines in
            lines.compactMap { OriginEvent.parse(dataLine: $0.text) }.count >= 5
        }
        XCTAssertTrue(gotFive, "lines: \(curl.lines.map(\.text)) stderr: \(curl.stderr)")

        let events = curl.lines.compactMap { line in
            OriginEvent.parse(dataLine: line.text).map { (event: $0, arrivedAt: line.arrivedAt) }
        }
        XCTAssertEqual(events.map(\.event.seq), [1, 2, 3, 4, 5])
        guard events.count >= 2 else { return }
        // Ordering on one clock: event 1 reached curl before the origin even wrote event 2.
        XCTAssertLessThan(
            events[0].arrivedAt,
            Double(events[1].event.sentAt),
            "event 1 arrived at \(events[0].arrivedAt), event 2 sent at \(events[1].event.sentAt)"
        )
        XCTAssertEqual(curl.waitForExit(timeout: 5), 0, curl.stderr)
    }

    func testEventStreamKeepsOriginContentType() throws {
        let (_, _, base) = try startOriginAndProxy()

        let response = try Curl.fetch("\(base)/sse?count=2")

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headerValues("content-type").first, "text/event-stream")
        XCTAssertEqual(response.text.components(separatedBy: "\n").compactMap(OriginEvent.parse).map(\.seq), [1, 2])
    }
}
