import StreamGateTestSupport
import XCTest

/// Request headers the origin sees: X-Forwarded-*, Host, and no hop-by-hop headers; none come back either.
final class HeaderForwardingTests: EndToEndTestCase {
    private func originView(_ base: String, _ headers: [String]) throws -> OriginRequestEcho {
        let response = try Curl.fetch("\(base)/headers", headers.flatMap { ["-H", $0] })
        XCTAssertEqual(response.status, 200, response.stderr)
        return try OriginRequestEcho.decode(response.text)
    }

    func testForwardedHeadersAndHost() throws {
        let (_, _, base) = try startOriginAndProxy()

        let seen = try originView(base, ["Host: app.example.test"])

        XCTAssertEqual(seen.values(of: "host"), ["app.example.test"])
        XCTAssertEqual(seen.values(of: "x-forwarded-for"), ["127.0.0.1"])
        XCTAssertEqual(seen.values(of: "x-forwarded-proto"), ["http"])
        XCTAssertEqual(seen.values(of: "x-forwarded-host"), ["app.example.test"])
        XCTAssertEqual(seen.method, "GET")
        XCTAssertEqual(seen.uri, "/headers")
    }

    func testForwardedForIsAppended() throws {
        let (_, _, base) = try startOriginAndProxy()

        let seen = try originView(base, ["X-Forwarded-For: 203.0.113.7"])

        let chain = seen.values(of: "x-forwarded-for").joined(separator: ", ")
        XCTAssertEqual(chain, "203.0.113.7, 127.0.0.1")
    }

    func testHopByHopRequestHeadersAreStripped() throws {
        let (_, _, base) = try startOriginAndProxy()

        let seen = try originView(base, [
            "Connection: keep-alive, X-Custom-Hop",
            "X-Custom-Hop: 1",
            "Keep-Alive: timeout=5",
            "TE: trailers",
            "Trailer: X-Checksum",
            "Proxy-Connection: keep-alive",
            "X-End-To-End: kept",
        ])

        for name in ["x-custom-hop", "keep-alive", "te", "trailer", "proxy-connection"] {
            XCTAssertEqual(seen.values(of: name), [], "\(name) reached the origin: \(seen.headers)")
        }
        let connection = seen.values(of: "connection").joined(separator: ",").lowercased()
        XCTAssertFalse(connection.contains("x-custom-hop"), "Connection forwarded as \(connection)")
        XCTAssertEqual(seen.values(of: "x-end-to-end"), ["kept"])
    }

    func testHopByHopResponseHeadersAreStripped() throws {
        let (_, _, base) = try startOriginAndProxy()

        let response = try Curl.fetch("\(base)/hop-by-hop")

        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "hop")
        for name in ["x-origin-hop", "keep-alive", "proxy-connection", "trailer"] {
            XCTAssertEqual(response.headerValues(name), [], "\(name) reached the client: \(response.headerLines)")
        }
        let connection = response.headerValues("connection").joined(separator: ",").lowercased()
        XCTAssertFalse(connection.contains("x-origin-hop"), "Connection passed as \(connection)")
        XCTAssertEqual(response.headerValues("x-origin-end-to-end"), ["1"])
    }
}
