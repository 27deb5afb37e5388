import Foundation
import StreamGateTestSupport
import XCTest

/// Base for the shared-subscription tests: origins of `shared_feed_origin.py`, a proxy on one event loop
/// (`--threads 1`, so every client of a feed shares one upstream) with an admin endpoint, curl clients, and the
/// checks on what they read, on `/metrics` and on `/connections`.
class SharedSubscriptionTestCase: EndToEndTestCase {
    /// One route of the proxy: `name`, matching the path prefix `/name`, with `sse` as its `sse:` block.
    typealias FeedRoute = FeedProxyConfig.Route

    /// Proxies with an admin endpoint, stopped in tear-down (their log printed when the test failed).
    private var sharedProxies: [ProxyProcess] = []
    /// Clients killed in tear-down.
    private var clients: [CurlStream] = []
    /// The admin endpoint of the last proxy started.
    var adminBase = ""

    override func tearDown() {
        clients.forEach { $0.kill() }
        clients.removeAll()
        for proxy in sharedProxies {
            let result = proxy.stop(timeout: 3)
            if (testRun?.totalFailureCount ?? 0) > 0 {
                print("--- streamgate log (exit \(result.exitCode)) ---\n\(result.stderr)")
            }
        }
        sharedProxies.removeAll()
        super.tearDown()
    }

    // MARK: - Peers

    /// An origin of the feed published from `epoch` (an event every 50 ms unless `arguments` say otherwise),
    /// stopped in tear-down.
    func startFeedOrigin(
        _ arguments: [String] = [],
        epoch: Double = Date().timeIntervalSince1970
    ) throws -> SharedFeedOrigin {
        let origin = try SharedFeedOrigin(epoch: epoch, arguments: ["--interval", "0.05"] + arguments, deadline: 60)
        track(origin.peer)
        return origin
    }

    /// A proxy on one event loop with listener `plain`, an admin endpoint, upstream `app` with `servers` on
    /// 127.0.0.1 (and the `upstream` lines, e.g. `max_fails: 0`), and `routes`.
    func startSharedProxy(
        servers: [Int],
        routes: [FeedRoute],
        upstream: [String] = [],
        arguments: [String] = []
    ) throws -> ProxyProcess {
        let yaml = FeedProxyConfig.yaml(servers: servers, routes: routes, upstream: upstream)
        let proxy = try ProxyProcess(yaml: yaml, listeners: ["plain", "admin"], extraArguments: ["--threads", "1"] + arguments)
        sharedProxies.append(proxy)
        adminBase = "http://127.0.0.1:\(try proxy.port(of: "admin"))"
        return proxy
    }

    /// curl reading `path` through `proxy` over `client` as it arrives, with `headers` (`Name: value`) and the
    /// `extra` arguments; killed in tear-down.
    func startClient(
        _ proxy: ProxyProcess,
        _ path: String,
        over client: EventStreamClientProtocol,
        headers: [String] = [],
        extra: [String] = []
    ) throws -> CurlStream {
        let headerArguments = headers.flatMap { ["-H", $0] }
        let curl = try CurlStream(
            ["-N"] + client.curlArguments + headerArguments + extra + ["\(try proxy.baseURL())\(path)"]
        )
        clients.append(curl)
        return curl
    }

    /// HTTP/1.1 for even `index`, HTTP/2 for odd: clients of both kinds on one feed.
    func mixed(_ index: Int) -> EventStreamClientProtocol {
        index.isMultiple(of: 2) ? .http1 : .http2
    }

    // MARK: - What the clients read

    /// The id of the last event `client` began to read, or nil before the first.
    func lastID(_ client: CurlStream) -> Int? {
        for line in client.lines.reversed() where line.text.hasPrefix("id: ") {
            return Int(line.text.dropFirst(4))
        }
        return nil
    }

    /// Waits up to `timeout` seconds until every one of `clients` has read event `seq` or a later one.
    func waitForEvent(_ seq: Int, on clients: [CurlStream], timeout: TimeInterval = 10) -> Bool {
        Wait.until(timeout: timeout) { clients.allSatisfy { (lastID($0) ?? 0) >= seq } }
    }

    /// Waits up to `timeout` seconds until every one of `clients` has read `count` events; the id of the first
    /// event of each (nil for a client that read none).
    func waitForEvents(_ count: Int, on clients: [CurlStream], timeout: TimeInterval = 10) -> [Int?] {
        var firsts: [Int?] = clients.map { _ in nil }
        Wait.until(timeout: timeout) {
            firsts = clients.map { client in
                client.lines.first { $0.text.hasPrefix("id: ") }.flatMap { Int($0.text.dropFirst(4)) }
            }
            return zip(clients, firsts).allSatisfy { client, first in
                guard let first, let last = lastID(client) else { return false }
                return last - first + 1 >= count
            }
        }
        return firsts
    }

    /// Fails unless `transcript` holds only whole events (and comments), consecutive from its first (no event lost,
    /// none twice, in order), starting at `first` when given.
    func assertConsecutive(
        _ transcript: SharedFeedTranscript,
        _ who: String,
        first: Int? = nil,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        let seqs = transcript.seqs
        XCTAssertEqual(transcript.malformed, [], "\(who): blocks that are not whole events", file: file, line: line)
        guard let start = seqs.first, let end = seqs.last else {
            return XCTFail("\(who): no event", file: file, line: line)
        }
        let read = consecutiveRuns(seqs)
        let expected = start <= end ? Array(start...end) : []
        XCTAssertEqual(seqs, expected, "\(who): not consecutive, read \(read)", file: file, line: line)
        if let first {
            XCTAssertEqual(start, first, "\(who): the first event; read \(read)", file: file, line: line)
        }
    }

    // MARK: - Admin

    /// The sum of the samples of `name` whose labels include `labels`, from `/metrics` (0 when there is none: a
    /// gauge of nothing, a counter of nothing yet).
    func metric(_ name: String, _ labels: [String: String]) throws -> Double {
        let response = try Curl.fetch(adminBase + "/metrics")
        guard response.status == 200 else {
            throw TestSupportError("/metrics answered \(response.status): \(response.text)")
        }
        var sum = 0.0
        let lines = response.text.split(separator: "\n")
        for line in lines where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let labelText = line.split(separator: "}").first ?? ""
            guard labels.allSatisfy({ labelText.contains("\($0.key)=\"\($0.value)\"") }),
                  let value = line.split(separator: " ").last.flatMap({ Double($0) })
            else { continue }
            sum += value
        }
        return sum
    }

    /// Waits up to `timeout` seconds for `name{labels}` to read `expected`, then asserts it.
    func assertMetric(
        _ name: String,
        _ labels: [String: String],
        _ expected: Double,
        timeout: TimeInterval = 5,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        var value: Double?
        Wait.until(timeout: timeout, interval: 0.1) {
            value = try? metric(name, labels)
            return value == expected
        }
        let labelText = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",")
        XCTAssertEqual(value, expected, "\(name){\(labelText)}", file: file, line: line)
    }

    /// The shared gauges of `route`: subscribers and upstream streams, each waited for up to 5 s.
    func assertShared(
        route: String,
        subscribers: Int,
        upstreams: Int,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        let labels = ["route": route]
        assertMetric("streamgate_sse_shared_subscribers", labels, Double(subscribers), file: file, line: line)
        assertMetric("streamgate_sse_shared_upstreams", labels, Double(upstreams), file: file, line: line)
    }

    /// Every stream of every connection in `GET /connections`, each with its connection's `protocol` and `id`
    /// added as `connection_protocol` and `connection_id`.
    func adminStreams() throws -> [[String: Any]] {
        let response = try Curl.fetch(adminBase + "/connections")
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let connections = object?["connections"] as? [[String: Any]] ?? []
        return connections.flatMap { connection -> [[String: Any]] in
            (connection["streams"] as? [[String: Any]] ?? []).map { stream in
                var stream = stream
                stream["connection_protocol"] = connection["protocol"]
                stream["connection_id"] = connection["id"]
                return stream
            }
        }
    }
}
