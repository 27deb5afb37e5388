import Foundation
import StreamGateTestSupport
import XCTest

/// Origins, the proxy, clients, the admin endpoint and the checks the resume tests share.
extension EventStreamResumeTests {
    /// The feed of one test: an event every 50 ms, more than any test waits for.
    static func feed() -> FailoverFeedOrigin.Feed {
        FailoverFeedOrigin.Feed(count: 1_200, interval: 0.05)
    }

    /// An origin of `feed` on `port` (0: a free one) with `arguments`, stopped in tear-down.
    func startFeedOrigin(
        _ feed: FailoverFeedOrigin.Feed,
        port: Int = 0,
        _ arguments: [String] = ["--from-start"]
    ) throws -> FailoverFeedOrigin {
        let origin = try FailoverFeedOrigin(feed: feed, port: port, arguments: arguments)
        track(origin.peer)
        return origin
    }

    /// `origin` killed (if still running) and a new one of its feed started on its port with `arguments`.
    func restart(_ origin: FailoverFeedOrigin, _ arguments: [String] = ["--from-start"]) throws -> FailoverFeedOrigin {
        let restarted = try origin.restart(arguments: arguments)
        track(restarted.peer)
        return restarted
    }

    /// A proxy with listener `plain`, an admin endpoint, upstream `app` with `servers` on 127.0.0.1 (and the
    /// `upstream` lines, e.g. `max_fails: 0`), and route `feed` (`/feed`) with `sse` as its `sse:` block.
    func startFeedProxy(servers: [Int], sse: String, upstream: [String] = []) throws -> ProxyProcess {
        let yaml = FeedProxyConfig.yaml(servers: servers, routes: [.init("feed", sse: sse)], upstream: upstream)
        let proxy = try ProxyProcess(yaml: yaml, listeners: ["plain", "admin"])
        feedProxies.append(proxy)
        adminBase = "http://127.0.0.1:\(try proxy.port(of: "admin"))"
        return proxy
    }

    /// curl reading `/feed` through `proxy` over `client` as it arrives; killed in tear-down.
    func startClient(_ proxy: ProxyProcess, over client: EventStreamClientProtocol) throws -> CurlStream {
        let curl = try CurlStream(["-N"] + client.curlArguments + ["\(try proxy.baseURL())/feed"])
        clients.append(curl)
        return curl
    }

    /// Waits up to `timeout` seconds until `client` has read event `seq` or a later one.
    func waitForEvent(_ seq: Int, on client: CurlStream, timeout: TimeInterval = 10) -> Bool {
        client.waitForLines(timeout: timeout) { lines in
            (FeedTranscript(lines).events.last?.seq ?? 0) >= seq
        }
    }

    /// Waits up to `timeout` seconds until `origin` got a request for the feed; the Last-Event-ID of the first
    /// (nil without one or when none came).
    func waitForResume(on origin: FailoverFeedOrigin, timeout: TimeInterval = 10) -> Int? {
        Wait.until(timeout: timeout) { !origin.feedRequests.isEmpty }
        return origin.lastEventIDs.first.flatMap { Int($0) }
    }

    /// The origin the only stream went to, and the other one; fails unless exactly one got the request.
    func serving(_ origins: [FailoverFeedOrigin]) throws -> (serving: FailoverFeedOrigin, other: FailoverFeedOrigin) {
        let serving = origins.filter { !$0.feedRequests.isEmpty }
        guard serving.count == 1, let first = serving.first, let other = origins.first(where: { $0 !== first }) else {
            throw TestSupportError("not one origin with the feed request: \(origins.map(\.feedRequests))")
        }
        return (first, other)
    }

    /// Fails unless the client read only whole events (and comments), each of 1, 2, 3, ... once and in order, with
    /// `id` equal to `seq` (`withIDs`) or no id at all.
    func assertWholeAndGapless(
        _ transcript: FeedTranscript,
        withIDs: Bool = true,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        let seqs = transcript.seqs
        XCTAssertEqual(transcript.malformed, [], "blocks that are not whole events", file: file, line: line)
        XCTAssertFalse(seqs.isEmpty, "no event", file: file, line: line)
        var counts: [Int: Int] = [:]
        for seq in seqs {
            counts[seq, default: 0] += 1
        }
        let twice = counts.filter { $0.value > 1 }.keys.sorted()
        XCTAssertEqual(twice, [], "events relayed twice; read \(consecutiveRuns(seqs))", file: file, line: line)
        let missing = Set(1..<((seqs.max() ?? 0) + 1)).subtracting(seqs).sorted()
        XCTAssertEqual(missing, [], "events lost; read \(consecutiveRuns(seqs))", file: file, line: line)
        XCTAssertEqual(seqs, seqs.sorted(), "events out of order: \(consecutiveRuns(seqs))", file: file, line: line)
        let expectedIDs: [Int?] = withIDs ? seqs.map { Optional($0) } : Array(repeating: nil, count: seqs.count)
        XCTAssertEqual(transcript.events.map(\.id), expectedIDs, "id lines", file: file, line: line)
    }

    /// Fails unless the events came from `first` up to some event and from `then` after it (one switch at most);
    /// the last seq from `first`.
    @discardableResult
    func assertOneSwitch(
        _ transcript: FeedTranscript,
        from first: FailoverFeedOrigin,
        to then: FailoverFeedOrigin,
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> Int? {
        let vias = transcript.events.map(\.via)
        let switchIndex = vias.firstIndex(of: then.port) ?? vias.count
        let ordered = vias[..<switchIndex].allSatisfy { $0 == first.port }
            && vias[switchIndex...].allSatisfy { $0 == then.port }
        let runs = vias.reduce(into: [(port: Int, count: Int)]()) { runs, via in
            if runs.last?.port == via {
                runs[runs.count - 1].count += 1
            } else {
                runs.append((via, 1))
            }
        }
        let read = runs.map { "\($0.port) x\($0.count)" }.joined(separator: ", ")
        let message = "events by origin, in order: \(read); expected \(first.port) then \(then.port)"
        XCTAssertTrue(ordered, message, file: file, line: line)
        return transcript.events.last { $0.via == first.port }?.seq
    }

    /// `streamgate_sse_resumes_total{route="feed",result=RESULT}` from the admin `/metrics` (0 when absent).
    func resumes(_ result: String) throws -> Int {
        let metrics = try Curl.fetch(adminBase + "/metrics").text
        let samples = metrics.split(separator: "\n").filter { line in
            line.hasPrefix("streamgate_sse_resumes_total{") && line.contains("route=\"feed\"")
                && line.contains("result=\"\(result)\"")
        }
        return Int(samples.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +))
    }

    /// Waits up to 5 s for the resume counters to read `expected` (result -> value), then asserts each.
    func assertResumes(_ expected: [String: Int], file: StaticString = #filePath, line: UInt = #line) throws {
        Wait.until(timeout: 5, interval: 0.1) {
            expected.allSatisfy { (try? self.resumes($0.key)) == $0.value }
        }
        for (result, value) in expected.sorted(by: { $0.key < $1.key }) {
            let message = "streamgate_sse_resumes_total{route=\"feed\",result=\"\(result)\"}"
            XCTAssertEqual(try resumes(result), value, message, file: file, line: line)
        }
    }

    /// The streams of `/feed` in the admin `GET /connections`.
    func feedStreams() throws -> [[String: Any]] {
        let response = try Curl.fetch(adminBase + "/connections")
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let connections = object?["connections"] as? [[String: Any]] ?? []
        return connections.flatMap { $0["streams"] as? [[String: Any]] ?? [] }.filter { stream in
            (stream["path"] as? String)?.hasPrefix("/feed") ?? false
        }
    }

    /// The proxy's log lines that contain `text`.
    func logLines(_ proxy: ProxyProcess, containing text: String) -> [String] {
        proxy.log.split(separator: "\n").map(String.init).filter { $0.contains(text) }
    }
}
