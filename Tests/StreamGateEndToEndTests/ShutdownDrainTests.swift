#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StreamGateTestSupport
import XCTest

/// The drain block on SIGTERM with many streams open, against the real binary: every event stream gets its own
/// `retry:` then a clean end at a boundary, WebSockets get Close 1012, both spread over `drain.spread` instead of
/// all at once; a browser's EventSource reconnects to the next instance on the same port and misses nothing.
final class ShutdownDrainTests: AdminTestCase {
    func testDrainEndsEventStreamsAndWebSocketsSpreadOverTheWindow() throws {
        let origin = try startOrigin()
        let echo = try startEchoServer()
        let proxy = try startAdminProxy(
            originPort: origin.port,
            echoPort: echo.port,
            extra: "drain: { timeout: 10s, spread: 4s, sse_retry: 2s }\n"
        )
        let plain = try proxy.port(of: "plain")

        // 200 event streams over HTTP/2 (two connections), 5 over HTTP/1.1, 20 WebSockets echoing every 200 ms.
        let clients = try (0..<2).map { _ in try RawHTTP2Client(port: plain) }
        defer { clients.forEach { $0.close() } }
        let streams = clients.flatMap { client in (0..<100).map { _ in (client, client.get("/sse-resume?gap=200")) } }
        let http1 = try (0..<5).map { _ in try CurlStream(["-N", "-s", "--http1.1", "http://127.0.0.1:\(plain)/sse-resume?gap=200"]) }
        defer { http1.forEach { $0.kill() } }
        let sockets = try startClient(
            .client,
            ["chatty", "\(try proxy.webSocketBase())/ws/drain", "--connections", "20", "--interval", "0.2", "--seconds", "30"]
        )
        let flowing = Wait.until(timeout: 20) {
            streams.allSatisfy { EventStreamText.ids(in: String(decoding: $0.0.stream($0.1).data, as: UTF8.self)).count >= 2 }
                && http1.allSatisfy { $0.lines.contains { $0.text == "id: 2" } }
                && sockets.events.named("open").count == 20
        }
        XCTAssertTrue(flowing, "not every stream was flowing before the signal; sockets: \(sockets.transcript)")

        let signalled = proxy.send(SIGTERM)
        let health = try admin("/healthz")
        XCTAssertEqual(health.status, 503, "healthz during the drain: \(health.text)")

        // When each HTTP/2 stream ended, seen by polling every 20 ms.
        var endedAt: [Int: TimeInterval] = [:]
        Wait.until(timeout: 8, interval: 0.02) {
            for (index, (client, id)) in streams.enumerated() where endedAt[index] == nil {
                let state = client.stream(id)
                if state.ended || state.resetCode != nil {
                    endedAt[index] = Date().timeIntervalSince(signalled)
                }
            }
            return endedAt.count == streams.count
        }
        XCTAssertEqual(endedAt.count, 200, "event streams still open 8 s after SIGTERM")
        var problems: [String] = []
        for (client, id) in streams {
            let state = client.stream(id)
            let text = String(decoding: state.data, as: UTF8.self)
            let ids = EventStreamText.ids(in: text)
            let retries = EventStreamText.retries(in: text)
            if state.resetCode != nil || !text.hasSuffix("\n\n") || ids != Array(1...max(1, ids.count))
                || retries.count != 1 || !retries.allSatisfy({ (1_000...3_000).contains($0) })
            {
                problems.append("stream \(id): reset \(state.resetCode.map(String.init) ?? "-"), ids \(ids), retries \(retries)")
            }
        }
        XCTAssertEqual(problems, [], "event streams not ended cleanly after a retry")
        let ends = endedAt.values.sorted()
        let first = ends.first ?? 0, last = ends.last ?? 0, median = ends.isEmpty ? 0 : ends[ends.count / 2]
        XCTAssertLessThan(first, 1, "the first stream ended only \(first) s after SIGTERM")
        XCTAssertTrue((3.0...5.5).contains(last), "the last stream ended \(last) s after SIGTERM (spread 4 s)")
        XCTAssertTrue((1.0...3.0).contains(median), "half the streams ended by \(median) s: not spread evenly")

        for curl in http1 {
            XCTAssertEqual(curl.waitForExit(timeout: 6), 0, "an HTTP/1.1 event stream was not ended cleanly: \(curl.stderr)")
            XCTAssertEqual(EventStreamText.retries(in: curl.lines.map(\.text).joined(separator: "\n")).count, 1)
        }
        XCTAssertTrue(Wait.until(timeout: 8) { sockets.events.named("closed").count == 20 }, sockets.transcript)
        let closes = sockets.events.named("closed")
        XCTAssertEqual(closes.compactMap { $0.int("code") }, Array(repeating: 1012, count: 20), sockets.transcript)
        let closeTimes = closes.compactMap(\.time).map { $0 - signalled.timeIntervalSince1970 }.sorted()
        XCTAssertGreaterThan((closeTimes.last ?? 0) - (closeTimes.first ?? 0), 2, "WebSockets closed in a herd: \(closeTimes)")
        XCTAssertLessThan(closeTimes.last ?? .infinity, 5.5, "a WebSocket closed after the spread: \(closeTimes)")

        let exit = try XCTUnwrap(proxy.waitForExit(timeout: 8), "still running 8 s after SIGTERM")
        XCTAssertEqual(exit.result.exitCode, 0, exit.result.stderr)
        XCTAssertLessThan(exit.at.timeIntervalSince(signalled), 6.5, "exit waited for the timeout")
        XCTAssertFalse(exit.result.stderr.contains("drain timeout"), exit.result.stderr)
        XCTAssertTrue(exit.result.stderr.contains("225 event streams and WebSockets end over 4s"), exit.result.stderr)
        print(
            String(
                format: "drain: 205 event streams ended %.2f-%.2f s (median %.2f), 20 WebSockets closed %.2f-%.2f s, exit at %.2f s",
                first, last, median, closeTimes.first ?? 0, closeTimes.last ?? 0, exit.at.timeIntervalSince(signalled)
            )
        )
    }

    func testGraceReportsUnreadyWhileTheListenerStillServes() throws {
        let origin = try startOrigin()
        let proxy = try startAdminProxy(
            originPort: origin.port,
            extra: "drain: { grace: 1500ms, timeout: 5s, spread: 500ms, sse_retry: 600ms }\n"
        )
        let plain = try proxy.port(of: "plain")
        let client = try RawHTTP2Client(port: plain)
        defer { client.close() }
        let stream = client.get("/sse-resume?gap=100")
        XCTAssertTrue(Wait.until(timeout: 5) {
            EventStreamText.ids(in: String(decoding: client.stream(stream).data, as: UTF8.self)).count >= 2
        })

        let signalled = proxy.send(SIGTERM)
        let health = try admin("/healthz")
        XCTAssertEqual(health.status, 503, "healthz in the grace: \(health.text)")
        // In the grace a new connection is still accepted and served, and open streams go on untouched.
        let fresh = try Curl.run(["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(plain)/hello"])
        XCTAssertEqual(fresh.stdout, "200", "a new request in the grace: \(fresh.stderr)")
        let before = EventStreamText.ids(in: String(decoding: client.stream(stream).data, as: UTF8.self)).count
        Thread.sleep(forTimeInterval: 0.5)
        let state = client.stream(stream)
        let text = String(decoding: state.data, as: UTF8.self)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 1.4, "the checks above took too long to mean anything")
        XCTAssertFalse(state.ended, "the event stream ended in the grace")
        XCTAssertGreaterThan(EventStreamText.ids(in: text).count, before, "events stopped flowing in the grace")
        XCTAssertTrue(EventStreamText.retries(in: text).isEmpty, "retry: sent before the grace was over")

        // After the grace the drain proper runs: the listener refuses, the stream ends at a boundary after a retry.
        XCTAssertTrue(Wait.until(timeout: 3) { client.stream(stream).ended }, "the stream did not end after the grace")
        let endedAt = Date().timeIntervalSince(signalled)
        XCTAssertGreaterThanOrEqual(endedAt, 1.5, "ended \(endedAt) s after the signal, inside the grace")
        XCTAssertFalse(EventStreamText.retries(in: String(decoding: client.stream(stream).data, as: UTF8.self)).isEmpty)
        let refused = try Curl.run(["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(plain)/hello"])
        XCTAssertNotEqual(refused.stdout, "200", "the listener still served after the grace")
        let exit = try XCTUnwrap(proxy.waitForExit(timeout: 5), "still running 5 s after SIGTERM")
        XCTAssertEqual(exit.result.exitCode, 0, exit.result.stderr)
        XCTAssertTrue(exit.result.stderr.contains("listeners keep accepting for 1s500ms (drain.grace)"), exit.result.stderr)
    }

    func testStreamsStillOpenAtTheTimeoutAreClosedAndLogged() throws {
        let origin = try startOrigin()
        // A plain response that never ends (`/slow` never answers) outlives every slot: only the timeout ends it.
        let proxy = try startAdminProxy(originPort: origin.port, extra: "drain: { timeout: 1s, spread: 500ms }\n")
        let hanging = try CurlStream(["-N", "-s", "\(try proxy.baseURL())/slow"])
        defer { hanging.kill() }
        XCTAssertTrue(Wait.until(timeout: 5) { origin.connections.requestTargets.contains("/slow") })
        let signalled = proxy.send(SIGTERM)
        let exit = try XCTUnwrap(proxy.waitForExit(timeout: 5), "still running 5 s after SIGTERM")
        XCTAssertEqual(exit.result.exitCode, 0, exit.result.stderr)
        XCTAssertGreaterThanOrEqual(exit.at.timeIntervalSince(signalled), 0.9, "exited before the timeout")
        XCTAssertTrue(
            exit.result.stderr.contains("drain timeout (1s): closing 1 connections with 1 streams still open"),
            exit.result.stderr
        )
    }

    func testEventSourceReconnectsToTheNextInstanceOnTheSamePort() throws {
        guard HeadlessChromium.isAvailable else {
            return XCTFail("headless Chromium is not installed (CI installs the `chromium` package)")
        }
        let origin = try startOrigin()
        func yaml(port: Int) -> String {
            """
            version: 1
            listeners:
              - { name: plain, address: "127.0.0.1:\(port)" }
            upstreams:
              - { name: app, servers: ["127.0.0.1:\(origin.port)"] }
            routes:
              - { match: { path_prefix: /sse-resume }, upstream: app, sse: { heartbeat_interval: 1s } }
              - { match: { path_prefix: / }, upstream: app }
            drain: { timeout: 5s, spread: 500ms, sse_retry: 600ms }

            """
        }
        let first = try startWebSocketProxy(yaml(port: 0))
        let port = try first.port(of: "plain")

        // The page's EventSource gets an event about every 400 ms; the first instance is stopped mid-way.
        let visit = BackgroundRun { try HeadlessChromium.visit("http://127.0.0.1:\(port)/sse-page", seconds: 10) }
        let log = origin.sseRequests
        XCTAssertTrue(
            Wait.until(timeout: 6) { (log.requests(path: "/sse-resume").first?.sentEventIDs.count ?? 0) >= 3 },
            "the page's EventSource did not start"
        )
        _ = first.send(SIGTERM)
        let exit = try XCTUnwrap(first.waitForExit(timeout: 4), "the first instance is still running")
        XCTAssertEqual(exit.result.exitCode, 0, exit.result.stderr)
        _ = try startWebSocketProxy(yaml(port: port))
        let result = try visit.wait(timeout: 20)

        let streams = log.requests(path: "/sse-resume")
        XCTAssertGreaterThanOrEqual(streams.count, 2, "no reconnect to the second instance; chromium: \(result.stderr)")
        guard streams.count >= 2 else { return }
        XCTAssertNil(streams[0].lastEventID)
        XCTAssertEqual(
            streams[1].lastEventID,
            streams[0].sentEventIDs.last.map(String.init),
            "first instance sent ids \(streams[0].sentEventIDs); the reconnect must resume after the last"
        )
        XCTAssertFalse(streams[1].sentEventIDs.isEmpty, "the second instance relayed nothing")
    }
}
