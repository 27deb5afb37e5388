import StreamGateTestSupport
import XCTest

/// A `websockets` client and a `websockets` echo server with StreamGate between them, on a cleartext and on a TLS
/// listener: text, binary, 1 MiB and fragmented messages come back intact, permessage-deflate is negotiated end to end,
/// and the upstream's Close code and reason reach the client.
final class WebSocketEchoTests: WebSocketTestCase {
    func testEchoAndCloseOverCleartext() throws {
        let echo = try startEchoServer()
        let proxy = try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [echo.port]))

        try assertEchoes(through: "\(try proxy.webSocketBase())/ws", upstream: echo.peer, forwardedProto: "http")
        try assertCloseCodeRelayed(through: "\(try proxy.webSocketBase())/ws")
    }

    func testEchoAndCloseOverTLS() throws {
        let echo = try startEchoServer()
        let listener = try tlsListener()
        let proxy = try startWebSocketProxy(
            ProxyConfigText.yaml(upstreamPorts: [echo.port], listeners: [listener]),
            listeners: [listener.name]
        )
        let base = try proxy.webSocketBase(of: listener.name, secure: true)

        try assertEchoes(through: "\(base)/ws", upstream: echo.peer, forwardedProto: "https")
        try assertCloseCodeRelayed(through: "\(base)/ws")
    }

    /// Runs the client's `echo` scenario against `url` and checks both peers' reports.
    private func assertEchoes(
        through url: String,
        upstream: PythonPeer,
        forwardedProto: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let client = try runClient(.client, ["echo", url], timeout: 30)
        let events = client.events

        XCTAssertNotNil(events.named("done").first, "the echo scenario did not finish:\n\(client.transcript)",
                        file: file, line: line)
        let extensions = events.named("extensions").first?["value"] ?? ""
        XCTAssertTrue(extensions.contains("permessage-deflate"), "client saw extensions \(extensions.debugDescription)",
                      file: file, line: line)
        let echoes = Dictionary(events.named("echo").map { ($0["kind"] ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let expectedLengths = ["text": 24, "binary": 1024, "large": 1 << 20, "fragmented": 28]
        for (kind, length) in expectedLengths.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(echoes[kind]?["ok"], "True", "\(kind) echo: \(String(describing: echoes[kind]))",
                           file: file, line: line)
            XCTAssertEqual(echoes[kind]?.int("length"), length, "\(kind) echo length", file: file, line: line)
        }
        XCTAssertGreaterThanOrEqual(echoes["fragmented"]?.int("fragments") ?? 0, 2,
                                    "the fragmented echo came back whole", file: file, line: line)

        // The upstream's side of the same handshake and messages.
        let opened = upstream.waitForEvent("open", timeout: 2) { $0["path"] == "/ws" }
        let accepted = opened?["extensions"] ?? ""
        XCTAssertTrue(accepted.contains("permessage-deflate"), "upstream accepted \(accepted.debugDescription)",
                      file: file, line: line)
        XCTAssertEqual(opened?["forwarded_for"], "127.0.0.1", file: file, line: line)
        XCTAssertEqual(opened?["forwarded_proto"], forwardedProto, file: file, line: line)
        let fragmented = upstream.waitForEvent("message", timeout: 2) { $0["preview"]?.hasPrefix("frag-one") ?? false }
        XCTAssertGreaterThanOrEqual(fragmented?.int("fragments") ?? 0, 2,
                                    "the upstream got the fragmented message as one frame", file: file, line: line)
        XCTAssertNotNil(upstream.waitForEvent("message", timeout: 2) { $0.int("length") == 1 << 20 },
                        "the upstream never got the 1 MiB message", file: file, line: line)
    }

    /// "close:4001" makes the upstream close with 4001 "bye"; the client must see exactly that.
    private func assertCloseCodeRelayed(
        through url: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let client = try runClient(.client, ["close4001", url], timeout: 15)
        let closed = client.events.named("closed").first
        XCTAssertEqual(closed?.int("code"), 4001, "client events: \(client.events)", file: file, line: line)
        XCTAssertEqual(closed?["reason"], "bye", file: file, line: line)
    }
}
