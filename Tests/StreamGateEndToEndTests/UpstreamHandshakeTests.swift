import Foundation
import StreamGateTestSupport
import XCTest

/// Upstreams that answer with a 101 they should not: to a request that did not ask to upgrade (RFC 9110 section
/// 15.2.2), or with a `Sec-WebSocket-Accept` that does not answer the key sent (RFC 6455 section 4.1). Each gets the
/// client a 502 with the reason, over HTTP/1.1 and HTTP/2, instead of a relayed 101 and a hung connection.
final class UpstreamHandshakeTests: WebSocketTestCase {
    private static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    private func startProxyOnRawUpstream() throws -> ProxyProcess {
        let upstream = try startRawUpstream()
        return try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [upstream.port]))
    }

    func testUnsolicited101Is502OverBothProtocols() throws {
        let proxy = try startProxyOnRawUpstream()
        let base = try proxy.baseURL()
        for version in ["--http1.1", "--http2-prior-knowledge"] {
            let start = Date()
            let response = try Curl.fetch("\(base)/plain", [version, "--max-time", "5"])
            let elapsed = Date().timeIntervalSince(start)
            XCTAssertEqual(response.status, 502, "\(version): \(response.stderr)")
            XCTAssertTrue(response.text.contains("did not ask to upgrade"), "\(version): \(response.text)")
            XCTAssertLessThan(elapsed, 3, "\(version): answered after \(elapsed) s")
        }
        // The listener still serves: an upgrade that asked for it opens.
        let upgrade = try Curl.fetch("\(base)/ws", upgradeArguments())
        XCTAssertEqual(upgrade.status, 101, upgrade.stderr)
    }

    func testWrongSecWebSocketAcceptIs502OverHTTP1() throws {
        let proxy = try startProxyOnRawUpstream()
        let response = try Curl.fetch("\(try proxy.baseURL())/bad-accept", upgradeArguments())
        XCTAssertEqual(response.status, 502, response.stderr)
        XCTAssertTrue(response.text.contains("Sec-WebSocket-Accept does not match"), response.text)
    }

    func testWrongSecWebSocketAcceptIs502OverExtendedConnect() throws {
        let proxy = try startProxyOnRawUpstream()
        let client = try RawHTTP2Client(port: try proxy.port(of: "plain"))
        defer { client.close() }
        let authority = "127.0.0.1:\(try proxy.port(of: "plain"))"
        for (id, path, status) in [(UInt32(1), "/ws", 200), (UInt32(3), "/bad-accept", 502)] {
            let block = RawHPACK.literalBlock([
                (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"), (":authority", authority),
                (":path", path), ("sec-websocket-version", "13"),
            ])
            client.sendFrame(type: RawHTTP2Frame.headers, flags: 0x4, stream: id, payload: block)
            XCTAssertTrue(client.waitForStream(id, timeout: 5) { $0.headerBlocks > 0 }, "\(path): no answer")
            XCTAssertEqual(client.stream(id).status, status, path)
        }
        XCTAssertTrue(client.waitForStream(3, timeout: 5) { $0.ended }, "the refused tunnel's stream did not end")
        XCTAssertTrue(String(decoding: client.stream(3).data, as: UTF8.self).contains("does not match"))
        XCTAssertNil(client.goAwayCode)
    }

    private func upgradeArguments() -> [String] {
        [
            "--http1.1", "--max-time", "3", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
            "-H", "Sec-WebSocket-Key: \(Self.key)", "-H", "Sec-WebSocket-Version: 13",
        ]
    }
}
