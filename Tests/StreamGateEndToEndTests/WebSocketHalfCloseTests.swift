import Foundation
import StreamGateTestSupport
import XCTest

/// RFC 8441 section 4: END_STREAM on a WebSocket's extended CONNECT stream half-closes it. The client sends its
/// Close with END_STREAM, as an HTTP/2 WebSocket client may; the upstream's answering Close must still reach it
/// before the stream ends, as it would over TCP.
final class WebSocketHalfCloseTests: WebSocketTestCase {
    func testClientHalfCloseStillDeliversTheUpstreamsClose() throws {
        let upstream = try startRawUpstream()
        let proxy = try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [upstream.port]))
        let port = try proxy.port(of: "plain")
        let client = try RawHTTP2Client(port: port)
        defer { client.close() }
        let block = RawHPACK.literalBlock([
            (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
            (":authority", "127.0.0.1:\(port)"), (":path", "/ws"), ("sec-websocket-version", "13"),
        ])
        client.sendFrame(type: RawHTTP2Frame.headers, flags: 0x4, stream: 1, payload: block)
        XCTAssertTrue(client.waitForStream(1, timeout: 5) { $0.headerBlocks > 0 })
        XCTAssertEqual(client.stream(1).status, 200)

        // A text frame and a Close 1000, masked with a zero key, in one DATA frame that ends the stream.
        let text: [UInt8] = [0x81, 0x82, 0, 0, 0, 0] + Array("hi".utf8)
        let close: [UInt8] = [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8]
        let start = Date()
        client.sendFrame(type: RawHTTP2Frame.data, flags: 0x1, stream: 1, payload: text + close)

        XCTAssertTrue(client.waitForStream(1, timeout: 5) { $0.ended || $0.resetCode != nil }, "the stream never ended")
        let elapsed = Date().timeIntervalSince(start)
        let received = [UInt8](client.stream(1).data)
        XCTAssertNil(client.stream(1).resetCode)
        // The echo of "hi", then the upstream's Close 1000, unmasked.
        XCTAssertEqual(received, [0x81, 0x02] + Array("hi".utf8) + [0x88, 0x02, 0x03, 0xE8], "received \(received)")
        XCTAssertTrue(Wait.until(timeout: 3) { upstream.peer.events.named("closed").first?.int("code") == 1000 })
        XCTAssertNil(client.goAwayCode)
        print("half-close: upstream Close delivered and stream ended \(String(format: "%.0f", elapsed * 1000)) ms after the client's END_STREAM")
    }
}
