import Foundation
import StreamGateTestSupport
import XCTest

/// Balancing and health against origins in processes of their own, one killed mid-test: `least_streams` spreads
/// long-lived streams evenly, a server that refuses connections is ejected after its failure and gets no new
/// stream while ejected (the stream that found it dead is retried on another server and never sees the failure),
/// weights share round robin out, and an active health check takes a server out and brings it back.
final class UpstreamBalancingTests: AdminTestCase {
    private func startOrigins(_ names: [String]) throws -> [EventOriginPeer] {
        let started = try names.map { try EventOriginPeer(name: $0) }
        started.forEach { track($0.peer) }
        return started
    }

    private func startBalancingProxy(upstream: String) throws -> ProxyProcess {
        let yaml = """
            version: 1
            listeners:
              - { name: plain, address: "127.0.0.1:0", http2: { max_concurrent_streams: 1000 } }
            admin: { address: "127.0.0.1:0" }
            upstreams:
              - \(upstream)
            routes:
              - { match: { path_prefix: /events }, upstream: app, sse: { heartbeat_interval: 0s } }
              - { match: { path_prefix: / }, upstream: app }

            """
        let proxy = try startWebSocketProxy(yaml, listeners: ["plain", "admin"])
        adminBase = "http://127.0.0.1:\(try proxy.port(of: "admin"))"
        self.proxy = proxy
        return proxy
    }

    /// The origin that answered stream `id` (its `data:` line), nil before the first event or after a local error.
    private func server(of id: UInt32, on client: RawHTTP2Client) -> String? {
        let text = String(decoding: client.stream(id).data, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }) else { return nil }
        return String(line.dropFirst(6))
    }

    /// `/upstreams`: the servers of upstream `app` by address.
    private func upstreamServers() throws -> [String: [String: Any]] {
        let response = try admin("/upstreams")
        XCTAssertEqual(response.status, 200, response.text)
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let upstream = (object?["upstreams"] as? [[String: Any]])?.first { $0["name"] as? String == "app" }
        let servers = upstream?["servers"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: servers.map { ($0["address"] as? String ?? "?", $0) })
    }

    private func metric(_ line: String) throws -> Int? {
        let metrics = try admin("/metrics").text
        let found = metrics.split(separator: "\n").first { $0.hasPrefix(line + " ") }
        // Counters print as integers, gauges as decimals ("0.0").
        return found.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) }
    }

    func testLeastStreamsSpreadsLongLivedStreamsAndAKilledServerGetsNoNewOneWhileEjected() throws {
        let origins = try startOrigins(["a", "b", "c"])
        let (a, b, c) = (origins[0], origins[1], origins[2])
        let proxy = try startBalancingProxy(
            upstream: """
                { name: app, balance: least_streams, servers: ["\(a.address)", "\(b.address)", "\(c.address)"],
                    max_fails: 1, fail_window: 10s, eject_for: 60s }
                """
        )
        let client = try RawHTTP2Client(port: try proxy.port(of: "plain"))
        defer { client.close() }

        // 30 streams: 10 on each server.
        let first = (0..<30).map { client.get("/events/\($0)") }
        XCTAssertTrue(Wait.until(timeout: 10) { first.allSatisfy { server(of: $0, on: client) != nil } }, "not every stream got an event")
        let firstSpread = Dictionary(grouping: first) { server(of: $0, on: client) ?? "?" }.mapValues(\.count)
        XCTAssertEqual(firstSpread, ["a": 10, "b": 10, "c": 10])

        // c dies: its streams are cut; with 0 in flight it is least_streams' first pick for the next stream.
        c.kill()
        let onC = first.filter { server(of: $0, on: client) == "c" }
        XCTAssertTrue(
            Wait.until(timeout: 10) { onC.allSatisfy { client.stream($0).ended || client.stream($0).resetCode != nil } },
            "the streams of the killed server did not end"
        )

        // The next stream goes to c, the least loaded: its connect is refused, c is ejected, and the stream is
        // retried on another server; the client never sees the failure.
        let probe = client.get("/events/probe")
        XCTAssertTrue(Wait.until(timeout: 10) { server(of: probe, on: client) != nil }, String(decoding: client.stream(probe).data, as: UTF8.self))
        XCTAssertNotEqual(server(of: probe, on: client), "c")

        // 300 more long-lived streams: none tries c while it is ejected; a and b end up within 10% of each other.
        let more = (0..<300).map { client.get("/events/more-\($0)") }
        XCTAssertTrue(
            Wait.until(timeout: 20) { more.allSatisfy { server(of: $0, on: client) != nil } },
            "streams without an event: \(more.filter { server(of: $0, on: client) == nil }.prefix(3).map { String(decoding: client.stream($0).data, as: UTF8.self) })"
        )
        let moreSpread = Dictionary(grouping: more) { server(of: $0, on: client) ?? "?" }.mapValues(\.count)
        XCTAssertNil(moreSpread["c"])
        XCTAssertEqual(moreSpread.values.reduce(0, +), 300)
        let servers = try upstreamServers()
        let streamsA = servers[a.address]?["streams"] as? Int ?? -1
        let streamsB = servers[b.address]?["streams"] as? Int ?? -1
        print("least_streams: first 30 \(firstSpread); 300 more \(moreSpread); in flight a \(streamsA), b \(streamsB)")
        XCTAssertEqual(streamsA + streamsB, 321, "\(servers)")
        XCTAssertLessThanOrEqual(abs(streamsA - streamsB), max(streamsA, streamsB) / 10, "a \(streamsA), b \(streamsB)")
        XCTAssertTrue(Wait.until(timeout: 5) { a.openStreams == streamsA && b.openStreams == streamsB }, "origins: a \(a.openStreams), b \(b.openStreams)")
        XCTAssertEqual(servers[c.address]?["state"] as? String, "ejected", "\(servers)")
        XCTAssertEqual(servers[c.address]?["streams"] as? Int, 0)
        XCTAssertEqual(servers[c.address]?["ejections"] as? Int, 1)
        XCTAssertTrue((servers[c.address]?["last_failure"] as? String ?? "").contains("connection refused"), "\(servers)")
        XCTAssertEqual(servers[a.address]?["state"] as? String, "up")

        // Exactly one connect went to c while it was ejected: the one that ejected it.
        let errors = try metric("streamgate_upstream_connect_errors_total{upstream=\"app\",server=\"\(c.address)\"}")
        XCTAssertEqual(errors, 1)
        XCTAssertEqual(try metric("streamgate_upstream_server_up{upstream=\"app\",server=\"\(c.address)\"}"), 0)
        XCTAssertEqual(try metric("streamgate_upstream_server_streams{upstream=\"app\",server=\"\(a.address)\"}"), streamsA)
        XCTAssertEqual(try metric("streamgate_upstream_server_ejections_total{upstream=\"app\",server=\"\(c.address)\"}"), 1)
        XCTAssertTrue(proxy.log.contains("upstream app server \(c.address) ejected for 1m after a failure within 10s"), proxy.log)
        XCTAssertTrue(proxy.log.contains("connect to \(c.address) failed: connection refused; trying another server"), proxy.log)

        // Streams that end leave the counts: close the client and every server drops to 0.
        client.close()
        XCTAssertTrue(
            Wait.until(timeout: 10) { (try? upstreamServers().values.allSatisfy { $0["streams"] as? Int == 0 }) ?? false },
            "\((try? upstreamServers()) ?? [:])"
        )
    }

    func testWeightsShareRoundRobinAndAFailingHealthCheckTakesAServerOutAndBack() throws {
        let origins = try startOrigins(["a", "b"])
        let (a, b) = (origins[0], origins[1])
        let proxy = try startBalancingProxy(
            upstream: """
                { name: app, servers: [{ address: "\(a.address)", weight: 3 }, "\(b.address)"], max_fails: 0,
                    health_check: { path: /healthz, interval: 300ms, timeout: 200ms, fall: 2, rise: 2 } }
                """
        )
        let base = try proxy.baseURL()

        /// 40 requests on one HTTP/2 connection (one event loop), by the server that answered.
        func spread() throws -> [String: Int] {
            let client = try RawHTTP2Client(port: try proxy.port(of: "plain"))
            defer { client.close() }
            let ids = (0..<40).map { _ in client.get("/hello") }
            XCTAssertTrue(Wait.until(timeout: 10) { ids.allSatisfy { client.stream($0).ended } })
            return Dictionary(grouping: ids) { String(decoding: client.stream($0).data, as: UTF8.self) }.mapValues(\.count)
        }

        XCTAssertEqual(try spread(), ["a": 30, "b": 10], "weight 3 to 1")
        XCTAssertTrue(Wait.until(timeout: 5) { a.healthChecks >= 2 && b.healthChecks >= 2 }, "no health checks reached the origins")

        // b's health check fails: after two failed checks it is out, and a takes every request.
        XCTAssertEqual(try Curl.fetch("http://\(b.address)/set-health?status=503").status, 200)
        XCTAssertTrue(
            Wait.until(timeout: 5) { (try? upstreamServers()[b.address]?["state"] as? String) == "down" },
            "\((try? upstreamServers()) ?? [:])"
        )
        XCTAssertEqual(try spread(), ["a": 40])
        XCTAssertEqual(try Curl.fetch("\(base)/hello").text, "a")
        XCTAssertTrue(
            proxy.log.contains("upstream app server \(b.address) failed 2 health checks in a row (status 503): out of service"),
            proxy.log
        )
        XCTAssertEqual(try metric("streamgate_upstream_server_up{upstream=\"app\",server=\"\(b.address)\"}"), 0)
        XCTAssertEqual(try upstreamServers()[b.address]?["last_failure"] as? String, "health check: status 503")

        // Healthy again: two passed checks bring it back.
        XCTAssertEqual(try Curl.fetch("http://\(b.address)/set-health?status=200").status, 200)
        XCTAssertTrue(
            Wait.until(timeout: 5) { (try? upstreamServers()[b.address]?["state"] as? String) == "up" },
            "\((try? upstreamServers()) ?? [:])"
        )
        XCTAssertTrue(proxy.log.contains("upstream app server \(b.address) passed 2 health checks in a row: back in service"))
        XCTAssertEqual(try spread().values.sorted(), [10, 30])

        // A killed server fails its checks too (connection refused) and goes down.
        b.kill()
        XCTAssertTrue(
            Wait.until(timeout: 5) { (try? upstreamServers()[b.address]?["state"] as? String) == "down" },
            "\((try? upstreamServers()) ?? [:])"
        )
        XCTAssertTrue((try upstreamServers()[b.address]?["last_failure"] as? String ?? "").contains("connection refused"))
        XCTAssertEqual(try spread(), ["a": 40])
    }
}
