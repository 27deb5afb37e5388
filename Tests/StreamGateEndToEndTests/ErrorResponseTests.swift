import StreamGateTestSupport
import XCTest

/// Local error responses: 404 no route, 502 upstream refused, 504 response-header timeout, 400 malformed request.
final class ErrorResponseTests: EndToEndTestCase {
    func testUnroutedPathIsProxy404() throws {
        let (origin, _, base) = try startOriginAndProxy(routes: [.init("/only/")])

        let response = try Curl.fetch("\(base)/hello")

        XCTAssertEqual(response.status, 404)
        XCTAssertNotEqual(response.text, "origin 404")
        XCTAssertEqual(origin.connections.requestTargets, [], "the origin must not be asked")
    }

    func testRoutedPathReachesOriginUnderPrefix() throws {
        let (origin, _, base) = try startOriginAndProxy(routes: [.init("/only/")])

        let response = try Curl.fetch("\(base)/only/thing")

        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.text, "origin 404")
        XCTAssertEqual(origin.connections.requestTargets, ["/only/thing"])
    }

    func testRefusedUpstreamIs502() throws {
        let port = try RawConnection.unusedPort()
        let proxy = try startProxy(ProxyConfigText.yaml(upstreamPorts: [port]))

        let response = try Curl.fetch("\(try proxy.baseURL())/hello")

        XCTAssertEqual(response.exitCode, 0, response.stderr)
        XCTAssertEqual(response.status, 502)
    }

    func testResponseHeaderTimeoutIs504() throws {
        let (origin, _, base) = try startOriginAndProxy(routes: [.init("/", timeouts: "{ response_header: 1s }")])

        let response = try Curl.fetch("\(base)/slow", timeout: 15)

        XCTAssertFalse(response.exitCode == 28, "curl timed out: no 504 from the proxy")
        XCTAssertEqual(response.status, 504)
        XCTAssertEqual(origin.connections.requestTargets, ["/slow"])
    }

    func testMalformedRequestIs400() throws {
        let (origin, proxy, _) = try startOriginAndProxy()

        let reply = try RawConnection.exchange(port: try proxy.port(of: "plain"), request: "GARBAGE\r\n\r\n", timeout: 3)

        XCTAssertTrue(reply.text.hasPrefix("HTTP/1.1 400"), "reply: \(reply.text.debugDescription)")
        XCTAssertEqual(origin.connections.acceptedCount, 0)
        XCTAssertTrue(reply.closedByPeer, "connection still open 3 s after a 400 (the request stream is unusable)")
    }
}
