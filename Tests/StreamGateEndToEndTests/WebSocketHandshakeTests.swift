import StreamGateTestSupport
import XCTest

/// Upgrade requests StreamGate must refuse itself (400 with the reason, 403 for an Origin not allowed), and an
/// upstream's refusal relayed as an ordinary response. Sent with curl over HTTP/1.1.
final class WebSocketHandshakeTests: WebSocketTestCase {
    /// A valid RFC 6455 request key (the sample nonce of section 1.3).
    private static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    /// curl arguments for an upgrade request with `fields` (name -> value; nil leaves the field out).
    private func upgradeArguments(_ fields: [String: String?]) -> [String] {
        var headers: [String: String?] = [
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Key": Self.key,
            "Sec-WebSocket-Version": "13",
        ]
        headers.merge(fields) { _, new in new }
        var arguments = ["--http1.1", "--max-time", "5"]
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            if let value {
                arguments += ["-H", "\(name): \(value)"]
            }
        }
        return arguments
    }

    func testUpgradeWithoutKeyIs400WithTheReason() throws {
        let echo = try startEchoServer()
        let proxy = try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [echo.port]))

        let response = try Curl.fetch("\(try proxy.baseURL())/ws", upgradeArguments(["Sec-WebSocket-Key": nil]))

        XCTAssertEqual(response.status, 400, response.stderr)
        XCTAssertTrue(response.text.contains("Sec-WebSocket-Key"), "body: \(response.text.debugDescription)")
        XCTAssertTrue(echo.peer.events.named("open").isEmpty && echo.peer.events.named("http").isEmpty,
                      "the refused handshake reached the upstream: \(echo.peer.events)")
    }

    func testUpgradeWithVersion12Is400() throws {
        let echo = try startEchoServer()
        let proxy = try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [echo.port]))

        let response = try Curl.fetch("\(try proxy.baseURL())/ws", upgradeArguments(["Sec-WebSocket-Version": "12"]))

        XCTAssertEqual(response.status, 400, response.stderr)
        XCTAssertTrue(response.text.contains("Sec-WebSocket-Version"), "body: \(response.text.debugDescription)")
        XCTAssertTrue(echo.peer.events.named("open").isEmpty, "the refused handshake reached the upstream")
    }

    func testOriginNotAllowedIs403AndAnAllowedOneOpens() throws {
        let echo = try startEchoServer()
        let proxy = try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [echo.port], routes: [
            .init("/", websocket: "{ allowed_origins: [\"https://app.example\"] }"),
        ]))

        let refused = try Curl.fetch(
            "\(try proxy.baseURL())/ws",
            upgradeArguments(["Origin": "https://evil.example"])
        )
        XCTAssertEqual(refused.status, 403, refused.stderr)
        XCTAssertTrue(refused.text.contains("https://evil.example"), "body: \(refused.text.debugDescription)")
        XCTAssertTrue(echo.peer.events.named("open").isEmpty, "the refused handshake reached the upstream")

        let allowed = try runClient(
            .client,
            ["close4001", "\(try proxy.webSocketBase())/ws", "--origin", "https://app.example"],
            timeout: 15
        )
        XCTAssertEqual(allowed.events.named("open").first?.int("status"), 101, allowed.transcript)
        XCTAssertEqual(allowed.events.named("closed").first?.int("code"), 4001, allowed.transcript)
    }

    func testUpstreamRefusalIsRelayedAsItsResponse() throws {
        let echo = try startEchoServer()
        let proxy = try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [echo.port]))

        let response = try Curl.fetch("\(try proxy.baseURL())/ws-reject", upgradeArguments([:]))

        XCTAssertEqual(response.status, 403, response.stderr)
        XCTAssertEqual(response.text, "upstream refuses this WebSocket\n")
        XCTAssertNotNil(echo.peer.waitForEvent("http", timeout: 2) { $0["path"] == "/ws-reject" },
                        "the upgrade never reached the upstream")
        XCTAssertTrue(response.headerValues("upgrade").isEmpty, "headers: \(response.headerLines)")
    }
}
