import Foundation
import StreamGateTestSupport
import XCTest

/// `protocol: h2c` upstreams against a real third-party HTTP/2 server (hypercorn): client streams of many clients
/// share one upstream connection per event loop (more as `max_streams_per_connection` fills), event streams keep
/// their heartbeats, request bodies and large responses move under HTTP/2 flow control with a stopped reader's
/// backpressure reaching the origin (a scripted origin there, which reports what went on the wire) while the
/// other streams on its connection go on, a client that goes away ends only its upstream stream, WebSockets take an
/// HTTP/1.1 upgrade to the same server, and a server that closes or dies is met with fresh connections or a 502.
/// StreamGate runs on one event loop (`--threads 1`) so connection counts are exact.
final class UpstreamHTTP2Tests: WebSocketTestCase {
    private func startHypercorn(keepAliveMaxRequests: Int = 1000) throws -> HypercornOrigin {
        let origin = try HypercornOrigin(keepAliveMaxRequests: keepAliveMaxRequests)
        track(origin.peer)
        return origin
    }

    private func startProxy(
        to origin: HypercornOrigin,
        keys: [String] = [],
        routes: [ProxyConfigText.Route] = [.init("/")]
    ) throws -> ProxyProcess {
        try startWebSocketProxy(
            ProxyConfigText.yaml(upstreamPorts: [origin.port], routes: routes, upstreamKeys: ["protocol: h2c"] + keys),
            arguments: ["--threads", "1"]
        )
    }

    func testStreamsOfManyClientsShareOneUpstreamConnection() throws {
        let origin = try startHypercorn()
        let proxy = try startProxy(to: origin)
        let base = try proxy.baseURL()

        // 60 event streams from 3 HTTP/2 clients, all at once, each to its end.
        let load = try Nghttp.h2load(
            ["-n", "60", "-c", "3", "-m", "20", "\(base)/events?count=4&interval=0.2"], timeout: 30
        )
        let summary = try XCTUnwrap(Nghttp.loadSummary(in: load.stdout), load.stdout + load.stderr)
        XCTAssertEqual(summary.succeeded, 60, load.stdout)
        XCTAssertEqual(summary.status2xx, 60, load.stdout)
        // An HTTP/1.1 client's stream takes the same connection.
        let plain = try Curl.fetch("\(base)/events?count=3&interval=0.05", ["--http1.1"])
        XCTAssertEqual(plain.status, 200, plain.stderr)
        // After the preamble comment StreamGate sends at once, the origin's events byte for byte.
        XCTAssertEqual(plain.text, ":\n\n" + (1...3).map { "id: \($0)\ndata: event \($0)\n\n" }.joined())

        let events = origin.requests.filter { $0["path"] == "/events" }
        XCTAssertEqual(events.count, 61)
        XCTAssertTrue(events.allSatisfy { $0["http_version"] == "2" }, "\(events)")
        XCTAssertEqual(origin.connections().count, 1, "upstream connections: \(origin.connections())")
    }

    func testMaxStreamsPerConnectionOpensMoreConnections() throws {
        let origin = try startHypercorn()
        let proxy = try startProxy(to: origin, keys: ["max_streams_per_connection: 10"])

        let load = try Nghttp.h2load(
            ["-n", "30", "-c", "1", "-m", "30", "\(try proxy.baseURL())/events?count=3&interval=0.3"], timeout: 30
        )
        XCTAssertEqual(Nghttp.loadSummary(in: load.stdout)?.status2xx, 30, load.stdout + load.stderr)
        let connections = origin.connections(path: "/events").count
        XCTAssertGreaterThanOrEqual(connections, 3, "30 streams at once on connections of 10")
        XCTAssertLessThanOrEqual(connections, 6, "30 streams at once on connections of 10")
    }

    func testHeartbeatsFillTheSilencesOfAnEventStream() throws {
        let origin = try startHypercorn()
        let proxy = try startProxy(to: origin, routes: [.init("/", sse: "{ heartbeat_interval: 1s }")])

        let response = try Curl.fetch(
            "\(try proxy.baseURL())/events?count=2&interval=2.5", ["--http2-prior-knowledge", "--max-time", "10"]
        )
        XCTAssertEqual(response.status, 200, response.stderr)
        let text = response.text
        let first = try XCTUnwrap(text.range(of: "data: event 1\n\n"), text)
        let second = try XCTUnwrap(text.range(of: "id: 2\ndata: event 2\n\n"), text)
        let between = text[first.upperBound..<second.lowerBound]
        XCTAssertGreaterThanOrEqual(between.components(separatedBy: ":\n\n").count - 1, 1, "no heartbeat: \(text)")
        XCTAssertTrue(text.hasSuffix("data: event 2\n\n"), text)
    }

    func testRequestBodiesArriveWholeUnderFlowControl() throws {
        let origin = try startHypercorn()
        let proxy = try startProxy(to: origin)
        let directory = try temporaryDirectory("streamgate-h2-body")
        // 3 MiB: many times hypercorn's 64 KiB stream window, so the body waits for WINDOW_UPDATEs.
        var generator = SystemRandomNumberGenerator()
        let body = Data((0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let file = directory.file("body.bin")
        try body.write(to: file)

        for (version, extra) in [("--http2-prior-knowledge", []), ("--http1.1", ["-H", "Transfer-Encoding: chunked"])] {
            let response = try Curl.fetch(
                "\(try proxy.baseURL())/echo", [version, "--data-binary", "@\(file.path)"] + extra, timeout: 30
            )
            XCTAssertEqual(response.status, 200, "\(version): \(response.stderr)")
            XCTAssertEqual(response.body.count, body.count, version)
            XCTAssertTrue(response.body == body, "\(version): the echoed body differs")
        }
        XCTAssertEqual(origin.peer.events.named("echo").compactMap { $0.int("length") }, [body.count, body.count])
    }

    func testReaderThatStopsHoldsTheOriginBackThroughTheStreamWindow() throws {
        // hypercorn lets its app write on into its own memory once a stream's window is shut, so the origin here
        // is the scripted one, which sends each DATA frame only as the windows allow: what it reports is on the wire.
        let origin = try ScriptedHTTP2Origin()
        track(origin.peer)
        let proxy = try startWebSocketProxy(
            ProxyConfigText.yaml(upstreamPorts: [origin.port], upstreamKeys: ["protocol: h2c"]),
            arguments: ["--threads", "1"]
        )
        let size = 32 << 20

        // The client asks for 32 MiB and reads nothing: the origin can send only what the stream window, the
        // stream's queue and the socket buffers hold, and then waits. Without backpressure it would send it all,
        // into the proxy's memory.
        let client = try TrickleConnection(port: try proxy.port(of: "plain"))
        client.send("GET /bulk?size=\(size) HTTP/1.1\r\nHost: app\r\n\r\n")
        func sent() -> Int { origin.peer.events.named("bulk_progress").last?.int("sent") ?? 0 }
        XCTAssertTrue(Wait.until(timeout: 10) { sent() > 0 }, "the origin sent nothing\n\(origin.peer.transcript)")
        var previous = -1
        XCTAssertTrue(Wait.until(timeout: 15, interval: 1) {
            defer { previous = sent() }
            return sent() == previous
        }, "the origin never stopped: \(sent()) bytes sent")
        let held = sent()
        print("reader that stops, over h2c: the origin stopped after \(held >> 20) MiB of 32 MiB")
        XCTAssertLessThan(held, 24 << 20, "the origin sent \(held) bytes to a client that read none")
        XCTAssertTrue(origin.peer.events.named("bulk_done").isEmpty)

        // The held stream holds only itself: another one on the same upstream connection goes on.
        let other = try Curl.fetch("\(try proxy.baseURL())/events?count=5&interval=0.05", ["--http1.1"], timeout: 10)
        XCTAssertEqual(other.text.components(separatedBy: "data: conn 1 event").count - 1, 5, other.text)

        // Reading resumes: the rest flows and the whole body arrives.
        var received = 0
        XCTAssertTrue(Wait.until(timeout: 20, interval: 0) {
            client.read(for: 0.2)
            received = client.receivedByteCount
            return received >= size
        }, "received \(received) of \(size)")
        XCTAssertNotNil(origin.peer.waitForEvent("bulk_done", timeout: 5))
    }

    func testClientThatGoesAwayEndsOnlyItsUpstreamStream() throws {
        let origin = try startHypercorn()
        let proxy = try startProxy(to: origin)
        let url = "\(try proxy.baseURL())/events?interval=0.1"

        let staying = try CurlStream(["-N", "--http2-prior-knowledge", url])
        let leaving = try CurlStream(["-N", "--http2-prior-knowledge", url])
        XCTAssertTrue(staying.waitForLines(timeout: 5) { $0.contains { $0.text == "id: 3" } }, staying.stderr)
        XCTAssertTrue(leaving.waitForLines(timeout: 5) { $0.contains { $0.text == "id: 3" } }, leaving.stderr)
        leaving.kill()

        let closed = origin.peer.waitForEvent("stream_close", timeout: 5) { $0["disconnected"] == "True" }
        XCTAssertNotNil(closed, "the origin never saw the client go")
        let before = staying.lines.count
        XCTAssertTrue(staying.waitForLines(timeout: 5) { $0.count >= before + 9 }, "the other stream stopped")
        XCTAssertEqual(origin.peer.events.named("stream_close").count, 1)
        XCTAssertEqual(origin.connections().count, 1, "the upstream connection was not kept")
        staying.kill()
    }

    func testWebSocketsTakeAnHTTP1UpgradeToTheSameServer() throws {
        let origin = try startHypercorn()
        let proxy = try startProxy(to: origin)

        let client = try runClient(.client, ["echo", "\(try proxy.webSocketBase())/ws"], timeout: 30)
        let echoes = client.events.named("echo")
        XCTAssertEqual(echoes.map { $0["kind"] ?? "" }, ["text", "binary", "large", "fragmented"], client.transcript)
        XCTAssertTrue(echoes.allSatisfy { $0["ok"] == "True" }, client.transcript)

        // RFC 8441 from an HTTP/2 client: the tunnel opens over the same HTTP/1.1 upgrade to the origin.
        let port = try proxy.port(of: "plain")
        let http2 = try RawHTTP2Client(port: port)
        defer { http2.close() }
        let block = RawHPACK.literalBlock([
            (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
            (":authority", "127.0.0.1:\(port)"), (":path", "/ws"), ("sec-websocket-version", "13"),
        ])
        http2.sendFrame(type: RawHTTP2Frame.headers, flags: 0x4, stream: 1, payload: block)
        XCTAssertTrue(http2.waitForStream(1, timeout: 5) { $0.headerBlocks > 0 }, "no answer to extended CONNECT")
        XCTAssertEqual(http2.stream(1).status, 200)

        let upgrades = origin.requests.filter { $0["type"] == "websocket" }
        XCTAssertEqual(upgrades.count, 2, "\(origin.requests)")
        XCTAssertTrue(upgrades.allSatisfy { $0["http_version"] == "1.1" }, "\(upgrades)")
    }

    func testConnectionsTheServerClosesAreReplaced() throws {
        // hypercorn sends GOAWAY and closes a connection after 5 requests.
        let origin = try startHypercorn(keepAliveMaxRequests: 5)
        let proxy = try startProxy(to: origin)
        let base = try proxy.baseURL()

        for index in 1...20 {
            let response = try Curl.fetch("\(base)/hello", ["--http1.1"])
            XCTAssertEqual(response.status, 200, "request \(index): \(response.stderr)")
            XCTAssertEqual(response.text, "hello over 2", "request \(index)")
        }
        XCTAssertGreaterThanOrEqual(origin.connections().count, 4, "\(origin.connections())")
    }

    func testDeadServerIsA502AndItsReturnIsServed() throws {
        let origin = try startHypercorn()
        let proxy = try startProxy(to: origin)
        let base = try proxy.baseURL()
        XCTAssertEqual(try Curl.fetch("\(base)/hello").status, 200)

        let stream = try CurlStream(["-N", "--http2-prior-knowledge", "\(base)/events?interval=0.1"])
        XCTAssertTrue(stream.waitForLines(timeout: 5) { $0.contains { $0.text == "id: 2" } }, stream.stderr)
        origin.kill()
        XCTAssertNotNil(stream.waitForExit(timeout: 5), "the event stream was not cut when its server died")

        let started = Date()
        let refused = try Curl.fetch("\(base)/hello", ["--http2-prior-knowledge", "--max-time", "10"])
        XCTAssertEqual(refused.status, 502, refused.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertTrue(proxy.log.contains("upstream"), proxy.log)
    }
}
