import StreamGateTestSupport
import XCTest

/// HTTP/2 to clients: many event streams multiplexed on one TLS connection (nghttp), sustained load (h2load), and
/// h2c with prior knowledge on a cleartext listener.
final class HTTP2StreamTests: TLSTestCase {
    func testTwoHundredEventStreamsOnOneConnection() throws {
        let (origin, _, base) = try startOriginAndTLSProxy(http2: "{ max_concurrent_streams: 300 }")
        let streams = 200

        // One nghttp process is one connection; -m sends the same request on that many streams at once.
        let result = try Nghttp.nghttp(
            ["--stat", "--no-verify-peer", "--timeout=30s", "--multiply=\(streams)", "\(base)/sse?count=3"],
            timeout: 60
        )

        XCTAssertFalse(result.timedOut, "nghttp did not finish: \(result.stderr)")
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        let statistics = Nghttp.statistics(in: result.stdout)
        XCTAssertEqual(statistics.count, streams, result.stdout.suffix(2000) + result.stderr)
        XCTAssertEqual(Set(statistics.map(\.streamID)).count, streams, "stream ids repeat")
        XCTAssertEqual(statistics.filter { $0.status == 200 }.count, streams, "not every stream got a 200")
        XCTAssertEqual(statistics.filter { $0.size == 0 }.map(\.streamID), [], "streams with an empty body")
        // Every stream got all three events: each sequence number appears once per stream.
        for seq in 1...3 {
            let occurrences = result.stdout.components(separatedBy: "\"seq\":\(seq),").count - 1
            XCTAssertEqual(occurrences, streams, "event \(seq) reached \(occurrences) of \(streams) streams")
        }
        XCTAssertEqual(origin.connections.requestTargets.filter { $0 == "/sse?count=3" }.count, streams)
    }

    func testLoadOfTwentyThousandRequestsAllSucceed() throws {
        let (origin, _, base) = try startOriginAndTLSProxy()
        let requests = 20_000

        let result = try Nghttp.h2load(["-c", "4", "-m", "100", "-n", "\(requests)", "\(base)/hello"], timeout: 300)

        XCTAssertFalse(result.timedOut, "h2load did not finish within 300s: \(result.stdout.suffix(2000))")
        XCTAssertEqual(result.exitCode, 0, result.stdout.suffix(2000) + result.stderr)
        let summary = try XCTUnwrap(Nghttp.loadSummary(in: result.stdout), result.stdout + result.stderr)
        XCTAssertEqual(summary.applicationProtocol, "h2", result.stdout)
        // The origin's connection count tells a pooling problem (one upstream connection per stream) apart.
        let accepted = origin.connections.acceptedCount
        let report = "origin accepted \(accepted) connections; h2load: \(result.stdout.suffix(600))"
        XCTAssertEqual(summary.status2xx, requests, report)
        XCTAssertEqual(summary.succeeded, requests, report)
        XCTAssertEqual(summary.failed + summary.errored + summary.timedOut, 0, report)
        XCTAssertEqual(origin.connections.requestTargets.filter { $0 == "/hello" }.count, requests)
    }

    func testSequentialStreamsReuseOneUpstreamConnection() throws {
        let (origin, _, base) = try startOriginAndTLSProxy()

        // Three requests one after another on one HTTP/2 connection: each response ends cleanly, so the upstream
        // connection goes back to the pool and is leased again.
        let result = try Curl.run([
            "--insecure", "--http2", "--write-out", "%{http_version} %{http_code} %{num_connects}\n",
            "--output", "/dev/null", "\(base)/hello",
            "--output", "/dev/null", "\(base)/hello",
            "--output", "/dev/null", "\(base)/hello",
        ])

        XCTAssertEqual(result.exitCode, 0, result.stderr)
        XCTAssertEqual(result.stdout, "2 200 1\n2 200 0\n2 200 0\n", "three h2 responses on one client connection")
        XCTAssertEqual(origin.connections.requestTargets, ["/hello", "/hello", "/hello"])
        XCTAssertEqual(origin.connections.acceptedCount, 1, "each HTTP/2 stream opened its own upstream connection")
    }

    func testCleartextListenerSpeaksHTTP2WithPriorKnowledge() throws {
        let (_, _, base) = try startOriginAndProxy()

        let writeOut = ["--write-out", "\n%{http_version} %{http_code}"]
        let http2 = try Curl.run(["--http2-prior-knowledge"] + writeOut + ["\(base)/hello"])
        let stream = try Curl.run(["--http2-prior-knowledge", "\(base)/sse?count=2"])

        XCTAssertEqual(http2.exitCode, 0, http2.stderr)
        XCTAssertEqual(http2.stdout, "hello\n2 200")
        XCTAssertEqual(stream.exitCode, 0, stream.stderr)
        let events = stream.stdout.split(separator: "\n").compactMap { OriginEvent.parse(dataLine: String($0)) }
        XCTAssertEqual(events.map(\.seq), [1, 2])
    }
}
