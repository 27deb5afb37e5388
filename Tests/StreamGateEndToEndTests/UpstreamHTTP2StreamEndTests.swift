import Foundation
import StreamGateTestSupport
import XCTest

/// How streams on an `h2c` upstream connection end, against a scripted HTTP/2 origin: an upstream RST_STREAM cuts
/// only its client stream (the others on the connection go on), a client that goes away resets its upstream stream
/// with CANCEL, a graceful GOAWAY lets the open streams finish while new ones go to a fresh connection, and a
/// REFUSED_STREAM (the server never processed it) is retried; the route's timeouts end an upstream stream as they
/// end an HTTP/1.1 exchange, and the admin view names the upstream. StreamGate runs on one event loop
/// (`--threads 1`).
final class UpstreamHTTP2StreamEndTests: EndToEndTestCase {
    private func startOriginAndProxy() throws -> (origin: ScriptedHTTP2Origin, base: String) {
        let origin = try ScriptedHTTP2Origin()
        track(origin.peer)
        let proxy = try startProxy(
            ProxyConfigText.yaml(upstreamPorts: [origin.port], upstreamKeys: ["protocol: h2c"]),
            arguments: ["--threads", "1"]
        )
        return (origin, try proxy.baseURL())
    }

    func testUpstreamResetCutsOnlyItsClientStream() throws {
        let (origin, base) = try startOriginAndProxy()
        let events = try CurlStream(["-N", "--http2-prior-knowledge", "\(base)/events?count=20&interval=0.1"])
        XCTAssertTrue(events.waitForLines(timeout: 5) { $0.contains { $0.text == "id: 2" } }, events.stderr)

        for version in ["--http2-prior-knowledge", "--http1.1"] {
            let reset = try Curl.fetch("\(base)/reset?code=2", [version, "--max-time", "5"])
            XCTAssertEqual(reset.status, 200, version)
            XCTAssertEqual(reset.text, ":\n\ndata: before reset\n\n", version)
            XCTAssertNotEqual(reset.exitCode, 0, "\(version): a reset stream must not look complete")
            XCTAssertFalse(reset.timedOut, version)
        }

        XCTAssertEqual(events.waitForExit(timeout: 10), 0, events.stderr)
        XCTAssertEqual(events.lines.filter { $0.text.hasPrefix("id: ") }.count, 20, "the neighbouring stream was cut")
        XCTAssertEqual(Set(origin.events("request").compactMap { $0["conn"] }), ["1"], "one upstream connection")
        XCTAssertEqual(origin.events("reset_sent").count, 2)
    }

    /// On a route with `sse.resume`, an upstream RST_STREAM inside an event is hidden: the half event never reaches
    /// the client, the same request goes again as a new stream with Last-Event-ID, and what the origin resends is
    /// dropped; the client gets ids 1 to 12 once each and a clean end.
    func testResetInsideAnEventIsResumedOnANewStream() throws {
        let origin = try ScriptedHTTP2Origin()
        track(origin.peer)
        let yaml = ProxyConfigText.yaml(
            upstreamPorts: [origin.port],
            routes: [.init("/", sse: "{ resume: true, resume_backoff: 100ms }")],
            upstreamKeys: ["protocol: h2c"]
        )
        let proxy = try startProxy(yaml, arguments: ["--threads", "1"])
        let base = try proxy.baseURL()
        for (index, query) in ["count=12&reset_after=5", "count=12&reset_after=5&inclusive=1"].enumerated() {
            let result = try Curl.fetch("\(base)/resumable?\(query)", ["--http2-prior-knowledge", "--max-time", "10"])
            XCTAssertEqual(result.exitCode, 0, "\(query): \(result.stderr)")
            let ids = result.text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
            XCTAssertEqual(ids, (1...12).map(String.init), query)
            XCTAssertFalse(result.text.contains("half of event"), query)
            let requests = origin.events("request").suffix(2)
            XCTAssertEqual(requests.map { $0["last_event_id"] ?? "?" }, ["", "5"], query)
            XCTAssertEqual(origin.events("reset_sent").count, index + 1, query)
        }
        XCTAssertEqual(Set(origin.events("request").compactMap { $0["conn"] }), ["1"], "one upstream connection")
    }

    func testClientThatGoesAwayCancelsItsUpstreamStream() throws {
        let (origin, base) = try startOriginAndProxy()
        let stream = try CurlStream(["-N", "--http1.1", "\(base)/events?count=1000&interval=0.1"])
        XCTAssertTrue(stream.waitForLines(timeout: 5) { $0.contains { $0.text == "id: 2" } }, stream.stderr)
        stream.kill()

        let reset = origin.peer.waitForEvent("stream_reset", timeout: 5)
        XCTAssertEqual(reset?.int("code"), 8, "expected RST_STREAM CANCEL: \(origin.peer.events)")
        // The connection stays for the next stream.
        XCTAssertEqual(try Curl.fetch("\(base)/hello").text, "conn 1")
    }

    func testGracefulGoawayLetsOpenStreamsFinishAndMovesNewOnes() throws {
        let (origin, base) = try startOriginAndProxy()
        let events = try CurlStream(["-N", "--http2-prior-knowledge", "\(base)/events?count=10&interval=0.2"])
        XCTAssertTrue(events.waitForLines(timeout: 5) { $0.contains { $0.text == "id: 1" } }, events.stderr)

        XCTAssertEqual(try Curl.fetch("\(base)/goaway").text, "goaway sent")
        XCTAssertNotNil(origin.peer.waitForEvent("goaway_sent", timeout: 5))
        for _ in 1...3 {
            XCTAssertEqual(try Curl.fetch("\(base)/hello", ["--http2-prior-knowledge"]).text, "conn 2")
        }

        XCTAssertEqual(events.waitForExit(timeout: 10), 0, events.stderr)
        let data = events.lines.map(\.text).filter { $0.hasPrefix("data: ") }
        XCTAssertEqual(data, (1...10).map { "data: conn 1 event \($0)" })
        XCTAssertNotNil(origin.peer.waitForEvent("connection_close", timeout: 5) { $0["conn"] == "1" })
        XCTAssertEqual(origin.events("connection_open").count, 2)
    }

    func testRefusedStreamIsRetried() throws {
        let (origin, base) = try startOriginAndProxy()
        let response = try Curl.fetch("\(base)/refuse-once", ["--http2-prior-knowledge"])
        XCTAssertEqual(response.status, 200, response.stderr)
        XCTAssertEqual(response.text, "served after a refusal")
        XCTAssertEqual(origin.events("refused").count, 1)
        XCTAssertEqual(origin.events("request").count, 2)
    }

    func testRouteTimeoutsAndTheAdminViewWorkAsOverHTTP1() throws {
        let origin = try ScriptedHTTP2Origin()
        track(origin.peer)
        let routes: [ProxyConfigText.Route] = [
            .init("/stall", timeouts: "{ response_header: 500ms }"),
            .init("/events", timeouts: "{ idle: 700ms }", sse: "{ heartbeat_interval: 0s }"),
            .init("/"),
        ]
        let yaml = ProxyConfigText.yaml(upstreamPorts: [origin.port], routes: routes, upstreamKeys: ["protocol: h2c"])
            + "admin: { address: \"127.0.0.1:0\" }\n"
        let proxy = try startProxy(yaml, arguments: ["--threads", "1"])
        let base = try proxy.baseURL()

        // No response head within response_header: 504, and the upstream stream is cancelled, not left open.
        let started = Date()
        let stalled = try Curl.fetch("\(base)/stall", ["--http1.1"])
        XCTAssertEqual(stalled.status, 504, stalled.text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertNotNil(origin.peer.waitForEvent("stream_reset", timeout: 3) { $0.int("code") == 8 }, origin.peer.transcript)

        // Events 2 s apart under idle: 700ms: the stream ends after the first one.
        let idle = try CurlStream(["-N", "--http2-prior-knowledge", "\(base)/events?count=5&interval=2"])
        XCTAssertNotNil(idle.waitForExit(timeout: 5), "the idle stream was not ended")
        let texts = idle.lines.map(\.text)
        XCTAssertTrue(texts.contains("data: conn 1 event 1"), "\(texts)")
        XCTAssertFalse(texts.contains("data: conn 1 event 2"), "\(texts)")

        // A live stream in the admin view: its upstream by name and server address.
        let live = try CurlStream(["-N", "--http2-prior-knowledge", "\(base)/events?count=100&interval=0.1"])
        defer { live.kill() }
        XCTAssertTrue(live.waitForLines(timeout: 5) { $0.contains { $0.text == "data: conn 1 event 3" } }, live.stderr)
        XCTAssertTrue(Wait.until(timeout: 5) { proxy.currentPort(of: "admin") != nil }, proxy.log)
        let connections = try Curl.fetch("http://127.0.0.1:\(try proxy.port(of: "admin"))/connections")
        XCTAssertEqual(connections.status, 200, connections.text)
        XCTAssertTrue(
            connections.text.contains("\"upstream\":{\"name\":\"app\",\"address\":\"127.0.0.1:\(origin.port)\"}"),
            connections.text
        )
    }
}
