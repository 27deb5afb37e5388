import Foundation
import StreamGateTestSupport
import XCTest

/// `GET /connections` and the closing endpoints, against the real binary with real clients: curl over HTTP/1.1
/// and HTTP/2 (prior knowledge), a Python `websockets` client, the test origin and the echo server.
final class AdminConnectionsTests: AdminTestCase {
    private func int(_ value: Any?) -> Int { (value as? Int) ?? -1 }

    func testListsEachStreamWithItsKindRouteUpstreamAndGrowingCounters() throws {
        let origin = try startOrigin()
        let echo = try startEchoServer()
        let proxy = try startAdminProxy(originPort: origin.port, echoPort: echo.port)
        let base = try proxy.baseURL()
        let h1 = try CurlStream(["-N", "--http1.1", "\(base)/sse-resume?gap=200"])
        defer { h1.kill() }
        let h2 = try CurlStream(["-N", "--http2-prior-knowledge", "\(base)/sse-resume?gap=200"])
        defer { h2.kill() }
        let chat = try WebSocketPeers.start(.client, ["chatty", "\(try proxy.webSocketBase())/ws/chat", "--seconds", "20"])
        defer { chat.stop() }

        let first = try waitForStreams { streams in
            streams.count == 3 && streams.allSatisfy { self.int($0["bytes_out"]) > 0 }
        }
        let sse = first.filter { $0["kind"] as? String == "sse" }
        XCTAssertEqual(Set(sse.compactMap { $0["connection_protocol"] as? String }), ["http/1.1", "h2"])
        for stream in sse {
            XCTAssertEqual(stream["route"] as? String, "*/sse")
            XCTAssertEqual(stream["route_name"] as? String, "events")
            XCTAssertEqual(stream["path"] as? String, "/sse-resume?gap=200")
            XCTAssertEqual(stream["method"] as? String, "GET")
            XCTAssertEqual(stream["state"] as? String, "streaming")
            XCTAssertEqual(stream["status"] as? Int, 200)
            let upstream = stream["upstream"] as? [String: Any]
            XCTAssertEqual(upstream?["name"] as? String, "app")
            XCTAssertEqual(upstream?["address"] as? String, "127.0.0.1:\(origin.port)")
            XCTAssertNotNil(stream["started_at"] as? String)
        }
        let tunnel = try XCTUnwrap(first.first { $0["kind"] as? String == "websocket" }, "\(first)")
        XCTAssertEqual((tunnel["upstream"] as? [String: Any])?["name"] as? String, "ws")
        XCTAssertEqual(tunnel["path"] as? String, "/ws/chat")

        let list = try connections().list
        XCTAssertEqual(list.count, 3)
        for connection in list {
            XCTAssertEqual(connection["listener"] as? String, "plain")
            XCTAssertEqual(connection["tls"] as? Bool, false)
            XCTAssertTrue((connection["client"] as? String)?.hasPrefix("127.0.0.1:") ?? false)
            XCTAssertGreaterThan(int(connection["bytes_in"]), 0)
        }

        // Counters grow while the origin sends and the client chats.
        func counters(_ streams: [[String: Any]]) -> [String: (events: Int, bytesOut: Int, bytesIn: Int)] {
            Dictionary(uniqueKeysWithValues: streams.map { stream in
                ("\(stream["connection_id"] ?? "")/\(stream["id"] ?? "")",
                 (int(stream["events"]), int(stream["bytes_out"]), int(stream["bytes_in"])))
            })
        }
        let before = counters(first)
        _ = try waitForStreams { streams in
            let now = counters(streams)
            return now.count == 3 && before.allSatisfy { key, old in
                guard let new = now[key] else { return false }
                return new.bytesOut > old.bytesOut && (new.events > old.events || new.bytesIn > old.bytesIn)
            }
        }
        let later = try streams("?kind=sse")
        for stream in later {
            XCTAssertEqual(stream["last_event_id"] as? String, "\(int(stream["events"]))", "ids count from 1")
        }
    }

    func testFiltersAndPaging() throws {
        let origin = try startOrigin()
        let echo = try startEchoServer()
        let proxy = try startAdminProxy(originPort: origin.port, echoPort: echo.port)
        let base = try proxy.baseURL()
        let clients = try (0..<3).map { _ in try CurlStream(["-N", "\(base)/sse-resume?gap=300"]) }
        defer { clients.forEach { $0.kill() } }
        let chat = try WebSocketPeers.start(.client, ["chatty", "\(try proxy.webSocketBase())/ws/x", "--seconds", "20"])
        defer { chat.stop() }
        _ = try waitForStreams { $0.count == 4 }

        XCTAssertEqual(try streams("?kind=sse").count, 3)
        XCTAssertEqual(try streams("?kind=websocket").count, 1)
        XCTAssertEqual(try streams("?upstream=ws").count, 1)
        XCTAssertEqual(try streams("?route=events").count, 3, "by name")
        XCTAssertEqual(try streams("?route=*/sse").count, 3, "by host and prefix")
        XCTAssertEqual(try streams("?older_than=1h").count, 0)
        XCTAssertEqual(try streams("?older_than=1ms&kind=sse").count, 3)
        XCTAssertEqual(try streams("?idle_over=1h").count, 0)
        let page = try connections("?limit=2&offset=0&sort=age")
        XCTAssertEqual(page.list.count, 2)
        XCTAssertEqual(page.total, 4)
        XCTAssertEqual(try connections("?limit=2&offset=2").list.count, 2)
        XCTAssertEqual(try connections("?limit=2&offset=4").list.count, 0)
        let ages = page.list.map { int($0["age_ms"]) }
        XCTAssertEqual(ages, ages.sorted(by: >), "sort=age: oldest first")

        let id = int(try connections().list.first?["id"])
        let one = try admin("/connections/\(id)")
        XCTAssertEqual(one.status, 200, one.text)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: one.body) as? [String: Any])?["id"] as? Int, id)
        XCTAssertEqual(try admin("/connections/999999").status, 404)
    }

    func testIdleGrowsOnAQuietStreamAndDropsAfterAHeartbeat() throws {
        let origin = try startOrigin()
        let proxy = try startAdminProxy(
            originPort: origin.port,
            extraRoutes: "  - { match: { path_prefix: /silent }, upstream: app, sse: { heartbeat_interval: 1500ms } }\n"
        )
        let client = try CurlStream(["-N", "\(try proxy.baseURL())/silent-after-first"])
        defer { client.kill() }
        _ = try waitForStreams { $0.count == 1 }
        var samples: [(idle: Int, heartbeats: Int)] = []
        _ = Wait.until(timeout: 8, interval: 0.1) {
            if let stream = try? self.streams().first {
                samples.append((self.int(stream["idle_ms"]), self.int(stream["heartbeats"])))
            }
            // Grown past half a second, then back below it, with a heartbeat more.
            guard let peak = samples.firstIndex(where: { $0.idle >= 500 }) else { return false }
            return samples[peak...].contains { $0.idle < samples[peak].idle && $0.heartbeats > samples[peak].heartbeats }
        }
        let peak = samples.firstIndex { $0.idle >= 500 }
        XCTAssertNotNil(peak, "idle_ms never grew: \(samples)")
        if let peak {
            XCTAssertTrue(
                samples[peak...].contains { $0.idle < samples[peak].idle && $0.heartbeats > samples[peak].heartbeats },
                "idle_ms did not drop after a heartbeat: \(samples)"
            )
        }
    }

    func testDeleteConnectionEndsAnEventStreamCleanlyAtABoundary() throws {
        let origin = try startOrigin()
        let proxy = try startAdminProxy(originPort: origin.port, sse: "{ heartbeat_interval: 0s }")
        // Each event is written in two halves 400 ms apart: the close most likely falls inside one.
        let client = try CurlStream(["-N", "\(try proxy.baseURL())/sse-split?count=50&pause=400&gap=100"])
        defer { client.kill() }
        let streams = try waitForStreams { streams in streams.first.map { self.int($0["events"]) >= 1 } ?? false }
        let id = try XCTUnwrap(streams.first?["connection_id"] as? Int)

        let response = try Curl.fetch(adminBase + "/connections/\(id)", ["-X", "DELETE"])
        XCTAssertEqual(response.status, 202, response.text)
        XCTAssertEqual(client.waitForExit(timeout: 5), 0, "curl did not see a clean end: \(client.stderr)")
        let text = client.lines.map(\.text).joined(separator: "\n")
        XCTAssertTrue(text.hasSuffix("part two\n") || text.hasSuffix("part two"), "ends mid-event:\n\(text)")
        XCTAssertTrue(try waitForStreams { $0.isEmpty }.isEmpty)

        let metrics = try admin("/metrics").text
        XCTAssertTrue(metrics.contains("outcome=\"closed_by_admin\""), metrics)
        XCTAssertEqual(try Curl.fetch(adminBase + "/connections/424242", ["-X", "DELETE"]).status, 404)
        XCTAssertEqual(try Curl.fetch(adminBase + "/streams/424242/1", ["-X", "DELETE"]).status, 404)
    }

    func testDeleteStreamEndsOnlyThatStreamOfAnHTTP2Connection() throws {
        let origin = try startOrigin()
        let proxy = try startAdminProxy(originPort: origin.port)
        let base = try proxy.baseURL()
        // nghttp opens both streams on one connection; it is killed by PID after 12 s.
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            _ = try? Nghttp.nghttp(["-n", "\(base)/sse-resume?gap=200&tag=a", "\(base)/sse-resume?gap=200&tag=b"], timeout: 12)
            done.signal()
        }
        defer { done.wait() }
        let both = try waitForStreams { $0.count == 2 && Set($0.compactMap { $0["connection_id"] as? Int }).count == 1 }
        let connection = try XCTUnwrap(both.first?["connection_id"] as? Int)
        let ended = try XCTUnwrap(both.first { ($0["path"] as? String)?.hasSuffix("tag=a") ?? false })
        let kept = try XCTUnwrap(both.first { ($0["path"] as? String)?.hasSuffix("tag=b") ?? false })

        let response = try Curl.fetch(adminBase + "/streams/\(connection)/\(int(ended["id"]))", ["-X", "DELETE"])
        XCTAssertEqual(response.status, 202, response.text)
        let after = try waitForStreams { $0.count == 1 }
        XCTAssertEqual(after.first?["id"] as? Int, int(kept["id"]))
        let events = int(after.first?["events"])
        _ = try waitForStreams { ($0.first.map { self.int($0["events"]) } ?? 0) > events }
    }
}
