import Foundation
import StreamGateTestSupport
import XCTest

/// `GET /metrics` read by a real Prometheus text parser (`prometheus_client` from PyPI), its values checked
/// against what the test made happen: streams open, events the clients received, a client that left, a refused
/// upstream, the histograms.
final class AdminMetricsTests: AdminTestCase {
    private struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// The samples of `text` as `prometheus_client.parser` reads them; the test fails if it cannot parse them.
    private func parse(_ text: String) throws -> [Sample] {
        let directory = try TemporaryDirectory(prefix: "streamgate-metrics")
        let input = try directory.write(text, to: "metrics.txt")
        let script = try directory.write("""
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = []
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for sample in family.samples:
                    out.append([sample.name, sample.labels, sample.value])
            print(json.dumps(out))
            """, to: "parse.py")
        let python = try PythonPeer.interpreter()
        let result = try ProcessRunner.run(python, [script.path, input.path], timeout: 20)
        XCTAssertEqual(result.exitCode, 0, "prometheus_client could not parse /metrics: \(result.stderr)\n\(text)")
        let rows = (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[Any]]) ?? []
        return rows.map { row in
            Sample(
                name: row[0] as? String ?? "",
                labels: row[1] as? [String: String] ?? [:],
                value: (row[2] as? NSNumber)?.doubleValue ?? .nan
            )
        }
    }

    private func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matching.isEmpty ? nil : matching.map(\.value).reduce(0, +)
    }

    func testMetricsParseAndAgreeWithWhatHappened() throws {
        let origin = try startOrigin()
        let unused = try RawConnection.unusedPort()
        let proxy = try startAdminProxy(
            originPort: origin.port,
            extraUpstreams: "  - { name: nowhere, servers: [\"127.0.0.1:\(unused)\"] }\n",
            extraRoutes: "  - { match: { path_prefix: /refused/ }, upstream: nowhere }\n"
        )
        let base = try proxy.baseURL()
        func dataLines(_ client: CurlStream) -> Int { client.lines.filter { $0.text.hasPrefix("data:") }.count }
        let leaving = try CurlStream(["-N", "\(base)/sse-resume?gap=100"])
        defer { leaving.kill() }
        let staying = try CurlStream(["-N", "\(base)/sse-resume?gap=100"])
        defer { staying.kill() }
        XCTAssertTrue(leaving.waitForLines(timeout: 10) { lines in lines.filter { $0.text.hasPrefix("data:") }.count >= 3 })
        XCTAssertEqual(try Curl.fetch(base + "/refused/x").status, 502)
        leaving.kill()
        let received = dataLines(leaving)
        _ = try waitForStreams { $0.count == 1 }
        // Its connection leaves the registry once its close completes, a moment after its stream.
        XCTAssertTrue(Wait.until(timeout: 5, interval: 0.05) { ((try? self.connections().list.count) ?? 0) == 1 })
        XCTAssertTrue(staying.waitForLines(timeout: 10) { lines in lines.filter { $0.text.hasPrefix("data:") }.count >= 3 })

        let response = try admin("/metrics")
        XCTAssertEqual(response.status, 200)
        XCTAssertTrue(response.headerValues("content-type").first?.hasPrefix("text/plain; version=0.0.4") ?? false)
        let samples = try parse(response.text)
        let context = response.text

        XCTAssertEqual(value(samples, "streamgate_streams_active", ["kind": "sse", "route": "events"]), 1, context)
        XCTAssertEqual(value(samples, "streamgate_connections_active", ["listener": "plain", "protocol": "http/1.1"]), 1, context)
        XCTAssertEqual(value(samples, "streamgate_streams_total", ["kind": "sse", "route": "events", "outcome": "client_gone"]), 1, context)
        XCTAssertEqual(value(samples, "streamgate_streams_total", ["kind": "http", "route": "*/refused/", "outcome": "upstream_error"]), 1, context)
        XCTAssertEqual(value(samples, "streamgate_upstream_connect_errors_total", ["upstream": "nowhere", "server": "127.0.0.1:\(unused)"]), 1, context)
        let events = value(samples, "streamgate_sse_events_total", ["route": "events"]) ?? 0
        XCTAssertGreaterThanOrEqual(events, Double(received + 3), "events relayed vs seen by the clients\n\(context)")
        XCTAssertGreaterThan(value(samples, "streamgate_bytes_total", ["direction": "out"]) ?? 0, 0)
        XCTAssertGreaterThan(value(samples, "streamgate_bytes_total", ["direction": "in"]) ?? 0, 0)
        XCTAssertGreaterThanOrEqual(value(samples, "streamgate_upstream_response_header_seconds_count", ["route": "events"]) ?? 0, 2, context)
        XCTAssertEqual(value(samples, "streamgate_stream_lifetime_seconds_count", ["kind": "sse", "route": "events"]), 1, context)
        XCTAssertGreaterThanOrEqual(value(samples, "streamgate_heartbeats_total", ["kind": "sse"]) ?? 0, 0)

        // Counters only grow between scrapes; a gauge whose streams left reads 0.
        staying.kill()
        _ = try waitForStreams { $0.isEmpty }
        let again = try parse(try admin("/metrics").text)
        XCTAssertGreaterThanOrEqual(value(again, "streamgate_sse_events_total", ["route": "events"]) ?? 0, events)
        XCTAssertEqual(value(again, "streamgate_streams_active", ["kind": "sse", "route": "events"]), 0)
        XCTAssertEqual(value(again, "streamgate_streams_total", ["kind": "sse", "route": "events", "outcome": "client_gone"]), 2)
    }
}
