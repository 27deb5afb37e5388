import StreamGateTestSupport
import XCTest

/// `websocket.idle_timeout`: a tunnel with no data frame either way is closed with 1001 toward both peers (Pings and
/// Pongs, here every 500 ms, do not count as activity); a tunnel with a message every 500 ms stays open. And
/// `websocket.max_lifetime` closes even a busy tunnel with 1001.
final class WebSocketIdleTimeoutTests: WebSocketTestCase {
    private func startProxy(echoPort: Int) throws -> ProxyProcess {
        try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [echoPort], routes: [
            .init("/", websocket: "{ idle_timeout: 2s, ping_interval: 500ms }"),
        ]))
    }

    func testIdleTunnelIsClosedWith1001OnBothSides() throws {
        let echo = try startEchoServer()
        let proxy = try startProxy(echoPort: echo.port)

        let client = try runClient(.client, ["idle", "\(try proxy.webSocketBase())/idle", "--seconds", "10"],
                                   timeout: 16)

        let upstreamClosed = assertClosedGoingAway(
            client: client, echo: echo.peer, path: "/idle", by: "the idle timeout"
        )
        let opened = echo.peer.events.named("open").first?.time ?? 0
        XCTAssertLessThan((upstreamClosed?.time ?? .infinity) - opened, 8, "the upstream was closed too late")
    }

    func testTunnelWithAMessageEvery500msStaysOpen() throws {
        let echo = try startEchoServer()
        let proxy = try startProxy(echoPort: echo.port)

        let client = try runClient(.client, ["chatty", "\(try proxy.webSocketBase())/chatty", "--seconds", "3.2"],
                                   timeout: 12)

        let open = client.events.named("still_open").first
        XCTAssertNotNil(open, "closed early: \(client.events)")
        XCTAssertGreaterThanOrEqual(open?.double("after") ?? 0, 3)
        XCTAssertGreaterThanOrEqual(open?.int("messages") ?? 0, 6)
        let upstreamClosed = echo.peer.waitForEvent("closed", timeout: 3) { $0["path"] == "/chatty" }
        XCTAssertEqual(upstreamClosed?.int("code"), 1000, "the client's own Close; upstream: \(echo.peer.events)")
    }

    func testMaxLifetimeClosesABusyTunnelWith1001() throws {
        let echo = try startEchoServer()
        let proxy = try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [echo.port], routes: [
            .init("/", websocket: "{ max_lifetime: 2s }"),
        ]))

        let client = try runClient(.client, ["chatty", "\(try proxy.webSocketBase())/busy", "--seconds", "10"],
                                   timeout: 16)

        assertClosedGoingAway(client: client, echo: echo.peer, path: "/busy", by: "max_lifetime")
    }

    /// The client saw Close 1001 between 1.5 s and 8 s after opening (the exact schedule is pinned by WebSocketDeadlinesTests) (the 2 s limit named by `limit`), and the
    /// echo server's side of `path` got Close 1001 too. Returns the echo server's "closed" event.
    @discardableResult
    private func assertClosedGoingAway(
        client: PythonPeer,
        echo: PythonPeer,
        path: String,
        by limit: String,
        line: UInt = #line
    ) -> PythonPeerEvent? {
        let closed = client.events.named("closed").first
        XCTAssertEqual(closed?.int("code"), 1001, "client events: \(client.events)", line: line)
        let after = closed?.double("after") ?? .infinity
        XCTAssertGreaterThanOrEqual(after, 1.5, "closed before \(limit)", line: line)
        XCTAssertLessThan(after, 8, "closed too late", line: line)
        let upstreamClosed = echo.waitForEvent("closed", timeout: 3) { $0["path"] == path }
        XCTAssertEqual(upstreamClosed?.int("code"), 1001, "upstream events: \(echo.events)", line: line)
        return upstreamClosed
    }
}
