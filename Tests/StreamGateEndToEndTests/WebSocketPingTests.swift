import StreamGateTestSupport
import XCTest

/// StreamGate's keep-alive Pings (payload "sgping" + 6 random bytes): sent after `ping_interval` of silence toward
/// the client (or `upstream_ping_interval` toward the upstream), and the Pongs that answer them are swallowed, while
/// the application's own Ping and Pong pass through. Both peers frame by hand, so nothing is answered unseen.
final class WebSocketPingTests: WebSocketTestCase {
    /// "sgping" in hex: how StreamGate's Ping payloads start.
    private static let tokenPrefix = "736770696e67"

    func testIdleTunnelPingsTheClientAndSwallowsItsPongs() throws {
        let upstream = try startRawUpstream()
        let proxy = try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [upstream.port], routes: [
            .init("/", websocket: "{ ping_interval: 1s }"),
        ]))

        // 3.5 s of silence answering every Ping, then the client's own Ping "app", then Close.
        let client = try runClient(.rawClient, ["pings", "\(try proxy.webSocketBase())/ws", "--seconds", "3.5"],
                                   timeout: 15)

        let events = client.events
        XCTAssertEqual(events.named("open").first?.int("status"), 101, client.transcript)
        let pings = events.named("frame").filter { $0["opcode"] == "ping" && $0["text"] != "app" }
        let tokens = pings.filter { $0["payload_hex"]?.hasPrefix(Self.tokenPrefix) ?? false }
        XCTAssertGreaterThanOrEqual(tokens.count, 2, "StreamGate Pings within 3.5 s: \(pings)")
        XCTAssertEqual(tokens.count, pings.count, "Pings that are not StreamGate's: \(pings)")
        XCTAssertTrue(tokens.allSatisfy { $0.int("length") == 12 && $0["masked"] == "False" }, "\(tokens)")
        XCTAssertGreaterThanOrEqual(events.named("sent").filter { $0["opcode"] == "pong" }.count, 2)
        XCTAssertEqual(events.named("app_pong").first?["received"], "True", "the app's Pong did not come back")

        let upstreamFrames = upstream.peer.events.named("frame")
        let upstreamPongs = upstreamFrames.filter { $0["opcode"] == "pong" }
        XCTAssertEqual(upstreamPongs.count, 0, "Pongs reached the upstream: \(upstreamPongs)")
        XCTAssertFalse(upstreamFrames.contains { $0["payload_hex"]?.hasPrefix(Self.tokenPrefix) ?? false },
                       "a StreamGate payload reached the upstream: \(upstreamFrames)")
        let appPing = upstreamFrames.first { $0["opcode"] == "ping" }
        XCTAssertEqual(appPing?["text"], "app", "the app's Ping did not reach the upstream: \(upstreamFrames)")
        XCTAssertEqual(appPing?["masked"], "True")
    }

    func testUpstreamPingsAreMaskedAndTheirPongsSwallowed() throws {
        let upstream = try startRawUpstream()
        let proxy = try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [upstream.port], routes: [
            .init("/", websocket: "{ ping_interval: 0s, upstream_ping_interval: 1s }"),
        ]))

        let client = try runClient(.rawClient, ["pings", "\(try proxy.webSocketBase())/ws", "--seconds", "3.5"],
                                   timeout: 15)

        let upstreamPings = upstream.peer.events.named("frame").filter { $0["opcode"] == "ping" }
        let tokens = upstreamPings.filter { $0["payload_hex"]?.hasPrefix(Self.tokenPrefix) ?? false }
        XCTAssertGreaterThanOrEqual(tokens.count, 2, "upstream Pings: \(upstreamPings)")
        XCTAssertTrue(tokens.allSatisfy { $0["masked"] == "True" }, "unmasked Pings toward the upstream: \(tokens)")
        let clientFrames = client.events.named("frame")
        XCTAssertFalse(clientFrames.contains { $0["payload_hex"]?.hasPrefix(Self.tokenPrefix) ?? false },
                       "the client saw StreamGate's upstream Ping or its Pong: \(clientFrames)")
        XCTAssertEqual(client.events.named("app_pong").first?["received"], "True", client.transcript)
    }
}
