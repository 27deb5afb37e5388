import NIOCore
import NIOEmbedded
import XCTest

@testable import StreamGateProxy

/// What the HTTP/1.1 downstream answers itself, byte for byte through NIO's real codec on an `EmbeddedChannel`:
/// each way `StreamAdmission` turns a request away, whether the connection stays open after it, and that the
/// registry counts it.
final class HTTP1AdmissionTests: XCTestCase {
    private func statusLine(_ response: String) -> String {
        response.components(separatedBy: "\r\n").first ?? ""
    }

    func testNoRouteIs404AndKeepsTheConnection() throws {
        let downstream = try EmbeddedDownstream(.http1)
        let response = try downstream.exchange("GET /elsewhere HTTP/1.1\r\nHost: api.example.com\r\n\r\n")
        XCTAssertEqual(statusLine(response), "HTTP/1.1 404 Not Found")
        XCTAssertTrue(response.hasSuffix("404 Not Found: no route for api.example.com/elsewhere\n"), response)
        XCTAssertTrue(downstream.channel.isActive)
        // The next request on the same connection is answered too.
        let second = try downstream.exchange("GET /api/../x HTTP/1.1\r\nHost: api.example.com\r\n\r\n")
        XCTAssertEqual(statusLine(second), "HTTP/1.1 400 Bad Request")
        XCTAssertEqual(downstream.proxy.registry.loopTotals(downstream.channel)[.http, .local], 2)
    }

    func testMalformedTargetsAre400AndCloseTheConnection() throws {
        // The first two reach admission; NIO's parser itself refuses the third.
        for target in ["/api/%2e%2e/secret", "ftp://api.example.com/api/x", "api/x"] {
            let downstream = try EmbeddedDownstream(.http1)
            let response = try downstream.exchange("GET \(target) HTTP/1.1\r\nHost: api.example.com\r\n\r\n")
            XCTAssertEqual(statusLine(response), "HTTP/1.1 400 Bad Request", target)
            XCTAssertTrue(response.lowercased().contains("connection: close"), response)
            XCTAssertFalse(downstream.channel.isActive, "\(target): connection left open")
        }
    }

    func testMissingHostIs400ButHTTP10NeedsNone() throws {
        let downstream = try EmbeddedDownstream(.http1)
        XCTAssertTrue(try downstream.exchange("GET /api/x HTTP/1.1\r\n\r\n").hasSuffix("missing Host header\n"))
        let old = try EmbeddedDownstream(.http1)
        let response = try old.exchange("GET /api/x HTTP/1.0\r\n\r\n")
        XCTAssertEqual(statusLine(response), "HTTP/1.0 404 Not Found", "no host matches the exact-host route")
    }

    func testTwoHostHeadersAre400() throws {
        let downstream = try EmbeddedDownstream(.http1)
        let response = try downstream.exchange("GET /api/x HTTP/1.1\r\nHost: api.example.com\r\nHost: other.example\r\n\r\n")
        XCTAssertEqual(statusLine(response), "HTTP/1.1 400 Bad Request")
        XCTAssertTrue(response.hasSuffix("400 Bad Request: more than one Host header\n"), response)
        XCTAssertFalse(downstream.channel.isActive)
    }

    func testAbsoluteFormIsRoutedByItsHost() throws {
        let downstream = try EmbeddedDownstream(.http1)
        let response = try downstream.exchange("GET http://other.example.com/api/x HTTP/1.1\r\nHost: api.example.com\r\n\r\n")
        XCTAssertTrue(response.contains("no route for other.example.com/api/x"), response)
    }

    func testConnectIsNotImplemented() throws {
        let downstream = try EmbeddedDownstream(.http1)
        let response = try downstream.exchange("CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n")
        XCTAssertEqual(statusLine(response), "HTTP/1.1 501 Not Implemented")
    }

    func testBadWebSocketHandshakesAreRefused() throws {
        let upgrade = "GET /api/ws HTTP/1.1\r\nHost: api.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        let cases: [(String, String)] = [
            (upgrade + "Sec-WebSocket-Version: 13\r\n\r\n", "400 Bad Request: missing or malformed Sec-WebSocket-Key"),
            (upgrade + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", "400 Bad Request: Sec-WebSocket-Version must be 13"),
            (upgrade + key + "Origin: https://evil.example\r\n\r\n", "403 Forbidden: WebSocket origin https://evil.example is not allowed"),
            (upgrade + key + "\r\n", "403 Forbidden: WebSocket origin none is not allowed"),
        ]
        for (request, expected) in cases {
            let downstream = try EmbeddedDownstream(.http1)
            let response = try downstream.exchange(request)
            XCTAssertTrue(response.hasSuffix(expected + "\n"), "expected \(expected), got:\n\(response)")
            XCTAssertFalse(downstream.channel.isActive, "an upgrade request ends its connection whatever the answer")
        }
    }
}
