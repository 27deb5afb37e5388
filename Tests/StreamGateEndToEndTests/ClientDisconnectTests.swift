import StreamGateTestSupport
import XCTest

/// A client that goes away mid-response makes the proxy close the upstream connection at once.
final class ClientDisconnectTests: EndToEndTestCase {
    func testKilledClientClosesUpstreamConnection() throws {
        let (origin, _, base) = try startOriginAndProxy()
        let curl = try CurlStream(["-N", "\(base)/sse"])

        let gotFirst = curl.waitForLines(timeout: 10) { lines in
            lines.contains { OriginEvent.parse(dataLine: $0.text) != nil }
        }
        XCTAssertTrue(gotFirst, curl.stderr)
        XCTAssertEqual(origin.connections.openCount, 1)
        XCTAssertEqual(origin.connections.closedCount, 0)

        curl.kill()

        XCTAssertTrue(
            origin.connections.waitForClosedConnections(1, timeout: 2),
            "upstream connection still open 2 s after the client went away"
        )
    }
}
