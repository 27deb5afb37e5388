import StreamGateTestSupport
import XCTest

/// A plain request goes through the proxy to the origin and back.
final class BasicProxyingTests: EndToEndTestCase {
    func testGetHelloThroughProxy() throws {
        let (origin, _, base) = try startOriginAndProxy()

        let response = try Curl.fetch("\(base)/hello")

        XCTAssertEqual(response.exitCode, 0, response.stderr)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "hello")
        XCTAssertEqual(origin.connections.requestTargets, ["/hello"])
    }

    func testOriginStatusIsPassedThrough() throws {
        let (_, _, base) = try startOriginAndProxy()

        let response = try Curl.fetch("\(base)/status/418")

        XCTAssertEqual(response.status, 418)
        XCTAssertEqual(response.text, "status 418")
    }
}
