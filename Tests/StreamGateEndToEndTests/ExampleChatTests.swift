import Foundation
import StreamGateTestSupport
import XCTest

/// `examples/chat` as its README runs it: the chat app under uvicorn, StreamGate with the example's config, and
/// headless Chromium on the page: its message comes back over the WebSocket, the presence feed lists it, and the
/// admin view shows the page's `sse` and `websocket` streams on one h2 connection (RFC 8441).
final class ExampleChatTests: ExampleTestCase {
    func testWebSocketAndPresenceFeedShareOneHTTP2Connection() throws {
        _ = try HeadlessChromium.executable()
        let (app, port) = try startApp(
            example: "chat", modules: ["fastapi", "sse_starlette", "uvicorn", "websockets"],
            install: "fastapi sse-starlette uvicorn websockets"
        )
        let proxy = try startProxy(example: "chat", appPort: port, listeners: ["https", "admin"])
        let admin = "http://127.0.0.1:\(try proxy.port(of: "admin"))/connections"

        // The admin view is read while the page is still open, as soon as it has reported.
        var connections: [[String: Any]] = []
        let visit = try HeadlessChromium.visit("https://127.0.0.1:\(try proxy.port(of: "https"))/?name=alice&report=1", timeout: 45) {
            guard !app.events.named("report").isEmpty, let json = try? Curl.fetch(admin).body,
                let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any]
            else { return false }
            connections = object["connections"] as? [[String: Any]] ?? []
            return true
        }

        let report = try XCTUnwrap(app.events.named("report").first, "chromium: \(visit.stderr.suffix(2000))\n\(app.transcript)")
        XCTAssertEqual(report["echoed"], "1", "JSON true")
        XCTAssertEqual(report["present"], "1", "JSON true")
        XCTAssertEqual(report["protocol"], "h2")
        XCTAssertEqual(app.events.named("join").first?["name"], "alice")

        let shared = connections.first { connection in
            let kinds = Set((connection["streams"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String })
            return connection["protocol"] as? String == "h2" && kinds.isSuperset(of: ["sse", "websocket"])
        }
        XCTAssertNotNil(shared, "no h2 connection carries both the presence feed and the chat socket: \(connections)")
    }
}
