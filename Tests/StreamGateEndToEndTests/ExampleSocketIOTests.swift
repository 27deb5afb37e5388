import Foundation
import StreamGateTestSupport
import XCTest

/// `examples/socketio` as its README runs it: the python-socketio server under uvicorn, StreamGate with the
/// example's config, and the example's client through it: the long-polling start, the upgrade to a WebSocket on the
/// same session, and a chat message there and back over the WebSocket.
final class ExampleSocketIOTests: ExampleTestCase {
    func testClientStartsOnPollingAndUpgradesThroughStreamGate() throws {
        let (app, port) = try startApp(
            example: "socketio", modules: ["socketio", "aiohttp", "uvicorn"], install: "python-socketio aiohttp uvicorn"
        )
        let proxy = try startProxy(example: "socketio", appPort: port, listeners: ["http"])
        let client = try PythonPeer.start(
            script: Self.examples.appendingPathComponent("socketio/client.py"),
            arguments: [try proxy.baseURL(of: "http")]
        )
        track(client)
        XCTAssertEqual(client.waitForExit(timeout: 30), 0, client.transcript)
        XCTAssertEqual(client.events.named("upgraded").first?["transport"], "websocket", client.transcript)
        XCTAssertEqual(client.events.named("echo").first?["transport"], "websocket", client.transcript)
        XCTAssertNotNil(client.events.named("done").first, client.transcript)

        // StreamGate's access log: the polling GET answered 200, then the WebSocket joining that session (sid=...).
        func accessLines(_ transport: String) -> [Substring] {
            proxy.log.split(separator: "\n").filter { $0.contains("/socket.io/?") && $0.contains("transport=\(transport)") }
        }
        XCTAssertTrue(
            Wait.until(timeout: 5) { accessLines("polling").contains { $0.contains("GET") && $0.contains(" 200 ") } },
            proxy.log
        )
        XCTAssertTrue(
            Wait.until(timeout: 5) { accessLines("websocket").contains { $0.contains("sid=") && $0.contains(" 101 ") } },
            proxy.log
        )
        XCTAssertEqual(app.events.named("chat").first?["transport"], "websocket")
    }
}
