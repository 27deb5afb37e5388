import Foundation
import StreamGateTestSupport
import XCTest

/// Base for the admin endpoint tests: a proxy with an `admin` block on 127.0.0.1:0 (found from its log), an
/// origin and the `websockets` echo server as upstreams, and helpers that read the admin JSON with curl.
class AdminTestCase: WebSocketTestCase {
    /// The admin endpoint of the proxy started by `startAdminProxy`.
    var adminBase = ""
    var proxy: ProxyProcess?
    /// Sent as the bearer token by `admin(_:_:)` when set.
    var token: String?

    /// A proxy routing `/sse*` to the origin and `/ws/` to the echo server, admin on, `extra` YAML appended.
    @discardableResult
    func startAdminProxy(
        originPort: Int,
        echoPort: Int? = nil,
        admin: String = "admin: { address: \"127.0.0.1:0\" }",
        sse: String = "{ heartbeat_interval: 1s }",
        extra: String = "",
        extraUpstreams: String = "",
        extraRoutes: String = "",
        arguments: [String] = []
    ) throws -> ProxyProcess {
        var upstreams = "  - { name: app, servers: [\"127.0.0.1:\(originPort)\"] }\n" + extraUpstreams
        var routes = "  - { name: events, match: { path_prefix: /sse }, upstream: app, sse: \(sse) }\n"
        if let echoPort {
            upstreams += "  - { name: ws, servers: [\"127.0.0.1:\(echoPort)\"] }\n"
            routes += "  - { match: { path_prefix: /ws/ }, upstream: ws }\n"
        }
        routes += extraRoutes + "  - { match: { path_prefix: / }, upstream: app }\n"
        let yaml = """
            version: 1
            listeners:
              - { name: plain, address: "127.0.0.1:0" }
            \(admin)
            upstreams:
            \(upstreams)routes:
            \(routes)\(extra)
            """
        let proxy = try startWebSocketProxy(yaml, listeners: ["plain", "admin"], arguments: arguments)
        adminBase = "http://127.0.0.1:\(try proxy.port(of: "admin"))"
        self.proxy = proxy
        return proxy
    }

    /// GET `path` on the admin endpoint.
    func admin(_ path: String, _ extra: [String] = []) throws -> CurlResponse {
        let authorization = token.map { ["-H", "Authorization: Bearer \($0)"] } ?? []
        return try Curl.fetch(adminBase + path, authorization + extra, timeout: 10)
    }

    /// `streamgate_limit_hits_total` of `limit` on the listener named `plain`, from `/metrics`.
    func limitHits(_ limit: String) throws -> Int {
        let metrics = try admin("/metrics").text
        let prefix = "streamgate_limit_hits_total{listener=\"plain\",limit=\"\(limit)\"} "
        let line = metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }
        return line.flatMap { Int($0.dropFirst(prefix.count).prefix { $0.isNumber }) } ?? 0
    }

    /// `/connections` (with `query`) as JSON: the connections and the total.
    func connections(_ query: String = "", _ extra: [String] = []) throws -> (list: [[String: Any]], total: Int) {
        let response = try admin("/connections" + query, extra)
        XCTAssertEqual(response.status, 200, response.text)
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        return (object?["connections"] as? [[String: Any]] ?? [], object?["total"] as? Int ?? -1)
    }

    /// Every stream of every connection in `/connections`, each with its connection's `protocol` and `id` added
    /// as `connection_protocol` and `connection_id`.
    func streams(_ query: String = "") throws -> [[String: Any]] {
        try connections(query).list.flatMap { connection -> [[String: Any]] in
            (connection["streams"] as? [[String: Any]] ?? []).map { stream in
                var stream = stream
                stream["connection_protocol"] = connection["protocol"]
                stream["connection_id"] = connection["id"]
                return stream
            }
        }
    }

    /// Polls `streams()` every 100 ms until `condition` holds, at most `timeout` seconds; the last list.
    func waitForStreams(
        _ query: String = "",
        timeout: TimeInterval = 10,
        file: StaticString = #filePath,
        line: UInt = #line,
        _ condition: ([[String: Any]]) -> Bool
    ) throws -> [[String: Any]] {
        var last: [[String: Any]] = []
        let held = Wait.until(timeout: timeout, interval: 0.1) {
            last = (try? self.streams(query)) ?? []
            return condition(last)
        }
        XCTAssertTrue(held, "condition never held; streams: \(last)", file: file, line: line)
        return last
    }
}
