import StreamGateTestSupport
import XCTest

@testable import StreamGateProxy

/// The per-stream objects (the stream, its HTTP/2 adapter, a WebSocket tunnel) hold one another and their upstream
/// handlers strongly, and each such reference is dropped when the stream ends or its channel closes. These tests
/// end streams every way a client, an origin or the proxy can and check, through the debug builds' instance
/// counts, that every one of those objects is freed: a reference left in place would keep its stream alive for
/// the life of the process. A `ProxyServer` in this process on real loopback sockets, a real origin, hypercorn as an
/// h2c origin, curl, nghttp and a Python `websockets` client.
final class StreamLifetimeTests: XCTestCase {
    #if DEBUG
    func testEveryStreamAndTunnelIsFreedOnceItEnds() async throws {
        try WebSocketPeers.requireWebSocketsLibrary()
        let origin = try TestOrigin()
        defer { origin.stop() }
        let echo = try WebSocketPeers.startServer(.echoServer)
        defer { echo.peer.stop() }
        let nothingListens = try RawConnection.unusedPort()
        let hypercorn = try HypercornOrigin()
        defer { hypercorn.kill() }

        let yaml = """
            version: 1
            listeners:
              - { name: plain, address: "127.0.0.1:0" }
            upstreams:
              - { name: app, servers: ["127.0.0.1:\(origin.port)"] }
              - { name: ws, servers: ["127.0.0.1:\(echo.port)"] }
              - { name: down, servers: ["127.0.0.1:\(nothingListens)"], connect_timeout: 1s }
              - { name: multiplexed, servers: ["127.0.0.1:\(hypercorn.port)"], protocol: h2c }
            routes:
              - { match: { path_prefix: /events }, upstream: multiplexed }
              - { match: { path_prefix: /h2c }, upstream: multiplexed }
              - { match: { path_prefix: /down }, upstream: down }
              - { match: { path_prefix: /ws }, upstream: ws }
              - { match: { path_prefix: /slow }, upstream: app, timeouts: { response_header: 1s } }
              - { match: { path_prefix: / }, upstream: app }
            """
        try await InProcessProxy.run(yaml, name: "lifetime-test") { server in
            try await exercise(server)
        }
    }

    private func exercise(_ server: ProxyServer) async throws {
        guard let address = await server.listeningAddresses()["plain"], let port = address.port else {
            return XCTFail("the listener did not bind")
        }
        let base = "http://127.0.0.1:\(port)"
        try assertAllFreed("before any stream")

        // Complete responses: over HTTP/1.1 one after the other on one connection, the upstream connection going
        // back to the pool between them; over HTTP/2 at once on one connection (nghttp: curl 7.88 cannot reuse a
        // prior-knowledge connection). An event stream the origin ends; local answers.
        let hello = try Curl.run(["--http1.1", "\(base)/hello", "\(base)/hello", "\(base)/hello"])
        XCTAssertEqual(hello.stdout, "hellohellohello", hello.stderr)
        let paths = ["/hello?1", "/hello?2", "/hello?3", "/sse?count=3", "/status/404"]
        let multiplexed = try Nghttp.nghttp(["-n", "-s"] + paths.map { "\(base)\($0)" }, timeout: 15)
        let statuses = Nghttp.statistics(in: multiplexed.stdout).map { "\($0.path) \($0.status)" }.sorted()
        XCTAssertEqual(
            statuses,
            ["/hello?1 200", "/hello?2 200", "/hello?3 200", "/sse?count=3 200", "/status/404 404"],
            multiplexed.stdout + multiplexed.stderr
        )
        for version in ["--http1.1", "--http2-prior-knowledge"] {
            let events = try Curl.run([version, "-N", "\(base)/sse?count=3"])
            XCTAssertEqual(events.stdout.components(separatedBy: "data:").count - 1, 3, "\(version): \(events.stdout)")
            let missing = try Curl.run([version, "-o", "/dev/null", "-w", "%{http_code}", "\(base)/status/404"])
            XCTAssertEqual(missing.stdout, "404")
            // Nothing listens: 502 after the connect fails.
            let down = try Curl.run([version, "-o", "/dev/null", "-w", "%{http_code}", "\(base)/down"])
            XCTAssertEqual(down.stdout, "502", "\(version): \(down.stderr)")
            // The origin never answers: 504 when the response-head timeout fires.
            let slow = try Curl.run([version, "-o", "/dev/null", "-w", "%{http_code}", "\(base)/slow"])
            XCTAssertEqual(slow.stdout, "504", "\(version): \(slow.stderr)")
        }
        try await waitUntilAllFreed("after complete responses, 404, 502 and 504")

        // Event streams the client leaves in the middle, over both protocols, and a client that gives up waiting
        // for a head.
        let h1 = try CurlStream(["-N", "--http1.1", "\(base)/sse"])
        defer { h1.kill() }
        let h2 = try CurlStream(["-N", "--http2-prior-knowledge", "\(base)/sse"])
        defer { h2.kill() }
        for client in [h1, h2] {
            XCTAssertTrue(client.waitForLines(timeout: 10) { $0.filter { $0.text.hasPrefix("data:") }.count >= 2 })
        }
        let counts = DebugInstanceCounts.current
        XCTAssertEqual(counts.proxyStreams, 2, "two event streams are open: \(counts)")
        XCTAssertEqual(counts.http2Downstreams, 1, "one of them over HTTP/2: \(counts)")
        h1.kill()
        h2.kill()
        _ = try Curl.run(["--http2-prior-knowledge", "--max-time", "0.5", "\(base)/slow"])
        try await waitUntilAllFreed("after clients left event streams")

        // Over a multiplexed h2c upstream (hypercorn): a complete response, an event stream the origin ends, and
        // one the client leaves.
        let multiplexedHello = try Curl.run(["--http1.1", "\(base)/h2c/hello"])
        XCTAssertTrue(multiplexedHello.stdout.hasPrefix("hello over"), "h2c: \(multiplexedHello.stderr)")
        let ended = try Curl.run(["--http2-prior-knowledge", "-N", "\(base)/events?count=3&interval=0.05"])
        XCTAssertEqual(ended.stdout.components(separatedBy: "data:").count - 1, 3, "h2c upstream: \(ended.stdout)")
        let left = try CurlStream(["-N", "--http1.1", "\(base)/events?interval=0.05"])
        defer { left.kill() }
        XCTAssertTrue(left.waitForLines(timeout: 10) { $0.filter { $0.text.hasPrefix("data:") }.count >= 2 })
        XCTAssertEqual(DebugInstanceCounts.current.proxyStreams, 1, "the h2c event stream is open")
        left.kill()
        try await waitUntilAllFreed("after streams over an h2c upstream")

        // A WebSocket tunnel, open while the client chats and gone when it closes.
        let chatty = try WebSocketPeers.start(.client, ["chatty", "ws://127.0.0.1:\(port)/ws", "--seconds", "2"])
        defer { chatty.stop() }
        XCTAssertTrue(Wait.until(timeout: 10) { DebugInstanceCounts.current.webSocketTunnels == 1 }, "no tunnel opened")
        XCTAssertNotNil(chatty.waitForExit(timeout: 15), "the WebSocket client did not finish")
        let echoed = try WebSocketPeers.run(.client, ["echo", "ws://127.0.0.1:\(port)/ws"], timeout: 15)
        let results = echoed.events.filter { $0.name == "echo" }
        XCTAssertFalse(results.isEmpty, "no echo results: \(echoed.stdout) \(echoed.stderr)")
        try await waitUntilAllFreed("after WebSocket tunnels closed")
    }

    /// Polls the counts for up to 5 s: every stream object freed, or the test fails naming what is left.
    private func waitUntilAllFreed(_ when: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !isAllFreed(DebugInstanceCounts.current) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try assertAllFreed(when, file: file, line: line)
    }

    private func assertAllFreed(_ when: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let counts = DebugInstanceCounts.current
        XCTAssertTrue(isAllFreed(counts), "\(when), still alive: \(counts)", file: file, line: line)
    }

    private func isAllFreed(_ counts: (proxyStreams: Int, http2Downstreams: Int, webSocketTunnels: Int)) -> Bool {
        counts.proxyStreams == 0 && counts.http2Downstreams == 0 && counts.webSocketTunnels == 0
    }
    #endif
}
