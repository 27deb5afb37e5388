import StreamGateTestSupport
import XCTest

/// A real browser's EventSource through the proxy: when `max_lifetime` ends the stream at an event boundary, the
/// browser reconnects (after `retry: 500`) and sends `Last-Event-ID` with the id of the last event it got.
final class EventStreamChromiumTests: EndToEndTestCase {
    func testEventSourceReconnectsWithLastEventID() throws {
        guard HeadlessChromium.isAvailable else {
            return XCTFail(
                "headless Chromium is not installed (CI installs the `chromium` package; or set STREAMGATE_CHROMIUM)"
            )
        }
        let (origin, _, base) = try startOriginAndProxy(routes: [
            .init("/sse-resume", timeouts: "{ max_lifetime: 3s }", sse: "{ retry: 500ms }"),
            .init("/"),
        ])

        // The page opens one EventSource on /sse-resume: events every ~400 ms, each written in two halves.
        let visit = try HeadlessChromium.visit("\(base)/sse-page", seconds: 9)

        let requests = origin.sseRequests
        XCTAssertEqual(requests.requests(path: "/sse-page").count, 1, "page requests; chromium: \(visit.stderr)")
        let streams = requests.requests(path: "/sse-resume")
        XCTAssertGreaterThanOrEqual(streams.count, 2, "no reconnect; chromium stderr:\n\(visit.stderr)")
        guard streams.count >= 2 else { return }
        XCTAssertNil(streams[0].lastEventID, "the first request already carried Last-Event-ID")
        let lastSent = streams[0].sentEventIDs.last
        XCTAssertNotNil(lastSent, "no event sent on the first connection")
        XCTAssertEqual(
            streams[1].lastEventID,
            lastSent.map(String.init),
            "first connection sent ids \(streams[0].sentEventIDs)"
        )
        XCTAssertEqual(streams.map(\.acceptEncoding), streams.map { _ in nil }, "Accept-Encoding reached the origin")
    }
}
