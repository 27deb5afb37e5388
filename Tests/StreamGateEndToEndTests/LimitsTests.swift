import Foundation
import StreamGateTestSupport
import XCTest

/// Every limit of the config hit by a real client, against the real binary: the documented answer, how fast, and
/// `streamgate_limit_hits_total` moving; a well-behaved client keeps being served.
final class LimitsTests: AdminTestCase {
    /// A proxy with `limits` and the plain listener's `max_connections`; `/upload` takes at most 1 KiB of body.
    @discardableResult
    private func startLimitedProxy(
        origin: TestOrigin,
        limits: String,
        maxConnections: Int = 100
    ) throws -> ProxyProcess {
        let yaml = """
            version: 1
            listeners:
              - { name: plain, address: "127.0.0.1:0", max_connections: \(maxConnections) }
            admin: { address: "127.0.0.1:0" }
            limits: \(limits)
            upstreams:
              - { name: app, servers: ["127.0.0.1:\(origin.port)"] }
            routes:
              - { match: { path_prefix: /upload }, upstream: app, max_request_body: 1KiB }
              - { match: { path_prefix: /sse }, upstream: app, sse: { heartbeat_interval: 0s } }
              - { match: { path_prefix: / }, upstream: app }

            """
        let proxy = try startWebSocketProxy(yaml, listeners: ["plain", "admin"])
        adminBase = "http://127.0.0.1:\(try proxy.port(of: "admin"))"
        self.proxy = proxy
        return proxy
    }

    func testOversizedHeadGets431OverBothProtocols() throws {
        let origin = try startOrigin()
        let proxy = try startLimitedProxy(origin: origin, limits: "{ max_header_bytes: 2KiB }")
        let base = try proxy.baseURL()
        let big = ["-H", "X-Big: " + String(repeating: "a", count: 3000)]
        let http1 = try Curl.fetch("\(base)/hello", ["--http1.1"] + big)
        XCTAssertEqual(http1.status, 431, http1.text)
        XCTAssertTrue(http1.text.contains("request head over 2048 bytes"), http1.text)
        XCTAssertEqual(http1.headerValues("connection"), ["close"])
        let http2 = try Curl.fetch("\(base)/hello", ["--http2-prior-knowledge"] + big)
        XCTAssertEqual(http2.status, 431, http2.text)
        // A head just under the limit passes, on the same listener.
        let fits = try Curl.fetch("\(base)/hello", ["--http1.1", "-H", "X-Fits: " + String(repeating: "a", count: 1500)])
        XCTAssertEqual(fits.status, 200)
        XCTAssertFalse(origin.connections.requestTargets.isEmpty)
        XCTAssertEqual(origin.connections.requestTargets.filter { $0 == "/hello" }.count, 1, "an oversized head went upstream")
        XCTAssertEqual(try limitHits("max_header_bytes"), 2)
    }

    func testSlowlorisAndSilentConnectionsAreClosedByTheHeaderTimeout() throws {
        let origin = try startOrigin()
        let proxy = try startLimitedProxy(origin: origin, limits: "{ header_timeout: 1s, client_idle_timeout: 30s }")
        let port = try proxy.port(of: "plain")

        // One header byte every 200 ms: never a complete head, so 408 about 1 s after connecting.
        let trickling = try TrickleConnection(port: port)
        trickling.send("GET /hello HTTP/1.1\r\nHost: x\r\n")
        trickling.trickle(String(repeating: "X-Slow: y\r\n", count: 20), interval: 0.2)
        XCTAssertTrue(trickling.received.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), trickling.received)
        let trickleClosed = try XCTUnwrap(trickling.closedAfter, "the trickling client is still connected")
        XCTAssertTrue((0.8...2.5).contains(trickleClosed), "closed after \(trickleClosed) s")

        // A client that sends nothing at all is closed as soon (no response: it never said which protocol).
        let silent = try TrickleConnection(port: port)
        XCTAssertTrue(silent.read(for: 4), "a silent connection stayed open")
        XCTAssertEqual(silent.received, "")
        XCTAssertTrue((0.8...2.5).contains(silent.closedAfter ?? 0), "closed after \(silent.closedAfter ?? 0) s")

        // The timeout covers a head, not a keep-alive connection between requests.
        let keepAlive = try TrickleConnection(port: port)
        keepAlive.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        keepAlive.read(for: 2)
        XCTAssertTrue(keepAlive.received.hasPrefix("HTTP/1.1 200 OK"), keepAlive.received)
        XCTAssertFalse(keepAlive.isClosedByPeer, "an idle keep-alive connection was closed by the header timeout")
        XCTAssertEqual(try limitHits("header_timeout"), 2)
    }

    func testIdleConnectionIsClosedAfterTheClientIdleTimeout() throws {
        let origin = try startOrigin()
        let proxy = try startLimitedProxy(origin: origin, limits: "{ client_idle_timeout: 1s }")
        let connection = try TrickleConnection(port: try proxy.port(of: "plain"))
        connection.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(connection.read(for: 5), "the idle keep-alive connection was not closed")
        XCTAssertTrue(connection.received.hasPrefix("HTTP/1.1 200 OK"), connection.received)
        XCTAssertTrue((0.8...3).contains(connection.closedAfter ?? 0), "closed after \(connection.closedAfter ?? 0) s")
    }

    func testListenerRefusesConnectionsOverMaxConnections() throws {
        let origin = try startOrigin()
        let proxy = try startLimitedProxy(origin: origin, limits: "{}", maxConnections: 3)
        let base = try proxy.baseURL()
        let held = try (0..<3).map { _ in try CurlStream(["-N", "-s", "\(base)/sse-resume?gap=300"]) }
        defer { held.forEach { $0.kill() } }
        XCTAssertTrue(Wait.until(timeout: 5) { held.allSatisfy { $0.lines.contains { $0.text == "id: 1" } } })

        let refused = try Curl.fetch("\(base)/hello", ["--http1.1"])
        XCTAssertEqual(refused.status, 503, refused.text)
        XCTAssertTrue(refused.text.contains("listener plain is at max_connections"), refused.text)
        XCTAssertEqual(refused.headerValues("retry-after"), ["1"])
        let h2 = try Curl.fetch("\(base)/hello", ["--http2-prior-knowledge"])
        XCTAssertNotEqual(h2.status, 200, "an HTTP/2 client got through past max_connections")
        XCTAssertEqual(try limitHits("max_connections"), 2)
        XCTAssertTrue(proxy.log.contains("listener plain holds max_connections 3: refusing new connections"), proxy.log)

        // A place frees up when a connection closes.
        held[0].kill()
        XCTAssertTrue(Wait.until(timeout: 5) { (try? Curl.fetch("\(base)/hello").status) == 200 }, "no place freed")
    }

    func testRequestBodyOverTheRouteLimitGets413() throws {
        let origin = try startOrigin()
        let proxy = try startLimitedProxy(origin: origin, limits: "{}")
        let base = try proxy.baseURL()
        let directory = try temporaryDirectory("streamgate-upload")
        let body = try directory.write(String(repeating: "b", count: 4000), to: "body")
        // Declared too long: refused before anything goes upstream, over both protocols.
        for version in ["--http1.1", "--http2-prior-knowledge"] {
            let declared = try Curl.fetch("\(base)/upload", [version, "--data-binary", "@\(body.path)"])
            XCTAssertEqual(declared.status, 413, "\(version): \(declared.text)")
            XCTAssertTrue(declared.text.contains("over max_request_body 1024"), declared.text)
        }
        XCTAssertFalse(origin.connections.requestTargets.contains("/upload"), "a refused body went upstream")
        // Streamed (chunked): cut when it grows past the limit.
        let streamed = try Curl.fetch(
            "\(base)/upload",
            ["--http1.1", "-H", "Transfer-Encoding: chunked", "--data-binary", "@\(body.path)"]
        )
        XCTAssertEqual(streamed.status, 413, streamed.text)
        let small = try Curl.fetch("\(base)/upload", ["--http1.1", "--data-binary", "small"])
        XCTAssertNotEqual(small.status, 413)
        XCTAssertEqual(try limitHits("max_request_body"), 3)
    }

    func testSlowConsumerStreamIsEndedWhileAnotherOnTheSameConnectionFlows() throws {
        let origin = try startOrigin()
        let proxy = try startLimitedProxy(
            origin: origin,
            limits: "{ stream_buffer_bytes: 16KiB, slow_consumer_timeout: 2s }"
        )
        let client = try RawHTTP2Client(port: try proxy.port(of: "plain"))
        defer { client.close() }
        let residentBefore = try ProcessStatus.residentBytes(of: proxy.processIdentifier)

        // A fast event stream the client never reads past its 64 KiB window, and a slow one it reads.
        let stalled = client.get("/sse-crlf?count=50000&gap=0", readsAutomatically: false)
        let reading = client.get("/sse-resume?gap=200")
        XCTAssertTrue(client.waitForStream(stalled, timeout: 10) { $0.data.count >= 65_000 }, "the window never filled")
        let stalledAt = Date()
        XCTAssertTrue(
            Wait.until(timeout: 6) { (try? self.limitHits("slow_consumer")) == 1 },
            "the stalled stream was not ended as a slow consumer"
        )
        let endedAfter = Date().timeIntervalSince(stalledAt)
        XCTAssertTrue((1.5...5).contains(endedAfter), "ended \(endedAfter) s after its queue filled (timeout 2 s)")
        let metrics = try admin("/metrics").text
        XCTAssertTrue(metrics.contains("outcome=\"slow_consumer\"} 1"), metrics)

        // The other stream never stopped; the stalled one, read again, shows how it ended.
        let before = EventStreamText.ids(in: String(decoding: client.stream(reading).data, as: UTF8.self)).count
        XCTAssertTrue(
            client.waitForStream(reading, timeout: 5) {
                EventStreamText.ids(in: String(decoding: $0.data, as: UTF8.self)).count >= before + 5
            },
            "the stream beside the slow consumer stalled"
        )
        client.resumeReading(stalled, bytes: 16 << 20)
        XCTAssertTrue(client.waitForStream(stalled, timeout: 5) { $0.ended || $0.resetCode != nil })
        let state = client.stream(stalled)
        if state.ended {
            XCTAssertTrue(String(decoding: state.data, as: UTF8.self).hasSuffix("\r\n\r\n"), "ended inside an event")
        }
        XCTAssertLessThan(state.data.count, 200_000, "far more than the window and the queue was held for it")
        let residentAfter = try ProcessStatus.residentBytes(of: proxy.processIdentifier)
        if !Sanitizers.active {  // A sanitizer's shadow memory and quarantine count in RSS.
            XCTAssertLessThan(residentAfter - residentBefore, 32 << 20, "RSS \(residentBefore) -> \(residentAfter)")
        }
        print("slow consumer: ended \(String(format: "%.2f", endedAfter)) s after its queue filled; \(state.data.count) bytes delivered; RSS \(residentBefore / 1024) -> \(residentAfter / 1024) KiB")
    }
}
