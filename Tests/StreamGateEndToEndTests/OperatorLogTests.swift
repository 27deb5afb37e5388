import Foundation
import StreamGateTestSupport
import XCTest

/// What an operator reads: one access-log line per finished stream (text or JSON, to a file that SIGHUP reopens),
/// the operational log as JSON lines, and error lines that name what to fix.
final class OperatorLogTests: AdminTestCase {
    private func accessLogConfig(_ path: String, format: String) -> String {
        "access_log: { path: \"\(path)\", format: \(format) }\n"
    }

    func testJSONAccessLogHasOneLinePerFinishedStream() throws {
        let origin = try startOrigin()
        let directory = try TemporaryDirectory(prefix: "streamgate-access")
        let file = directory.file("access.log")
        let proxy = try startAdminProxy(originPort: origin.port, extra: accessLogConfig(file.path, format: "json"))
        let base = try proxy.baseURL()
        XCTAssertEqual(try Curl.fetch(base + "/hello").status, 200)
        XCTAssertEqual(try Curl.fetch(base + "/no/such/route/../x", ["--path-as-is"]).status, 400)
        let events = try CurlStream(["-N", "--http2-prior-knowledge", "\(base)/sse-resume?gap=100"])
        XCTAssertTrue(events.waitForLines(timeout: 10) { $0.filter { $0.text.hasPrefix("data:") }.count >= 3 })
        events.kill()

        var lines: [[String: Any]] = []
        _ = Wait.until(timeout: 5, interval: 0.1) {
            lines = ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            return lines.count >= 3
        }
        XCTAssertEqual(lines.count, 3, "lines: \(lines)")
        let hello = try XCTUnwrap(lines.first { $0["path"] as? String == "/hello" }, "\(lines)")
        XCTAssertEqual(hello["status"] as? Int, 200)
        XCTAssertEqual(hello["outcome"] as? String, "ok")
        XCTAssertEqual(hello["protocol"] as? String, "http/1.1")
        XCTAssertEqual(hello["upstream"] as? String, "127.0.0.1:\(origin.port)")
        XCTAssertEqual(hello["listener"] as? String, "plain")
        XCTAssertGreaterThan(hello["bytes_out"] as? Int ?? 0, 0)
        XCTAssertTrue((hello["time"] as? String)?.hasSuffix("Z") ?? false)
        let refused = try XCTUnwrap(lines.first { $0["status"] as? Int == 400 }, "\(lines)")
        XCTAssertEqual(refused["outcome"] as? String, "local")
        let stream = try XCTUnwrap(lines.first { $0["kind"] as? String == "sse" }, "\(lines)")
        XCTAssertEqual(stream["outcome"] as? String, "client_gone")
        XCTAssertEqual(stream["protocol"] as? String, "h2")
        XCTAssertEqual(stream["route"] as? String, "events")
        XCTAssertGreaterThanOrEqual(stream["events"] as? Int ?? 0, 3)
        XCTAssertEqual(stream["last_event_id"] as? String, "\(stream["events"] as? Int ?? 0)")
    }

    func testTextAccessLogIsReopenedOnSIGHUP() throws {
        let origin = try startOrigin()
        let directory = try TemporaryDirectory(prefix: "streamgate-access")
        let file = directory.file("access.log")
        let rotated = directory.file("access.log.1")
        let proxy = try startAdminProxy(originPort: origin.port, extra: accessLogConfig(file.path, format: "text"))
        let base = try proxy.baseURL()
        XCTAssertEqual(try Curl.fetch(base + "/hello").status, 200)
        XCTAssertTrue(Wait.until(timeout: 5) { ((try? String(contentsOf: file, encoding: .utf8)) ?? "").contains("/hello") })
        let first = try String(contentsOf: file, encoding: .utf8)
        XCTAssertTrue(first.contains("\"GET 127.0.0.1:"), first)
        XCTAssertTrue(first.contains(" /hello\" 200 route=*/ upstream=127.0.0.1:\(origin.port) "), first)
        XCTAssertTrue(first.contains("outcome=ok"), first)

        try FileManager.default.moveItem(at: file, to: rotated)
        ProcessSignal.hangUp(proxy.processIdentifier)
        XCTAssertTrue(Wait.until(timeout: 5) { proxy.log.contains("SIGHUP: access log reopened") }, proxy.log)
        XCTAssertTrue(proxy.isRunning, "SIGHUP stopped the proxy")
        XCTAssertEqual(try Curl.fetch(base + "/status/404").status, 404)
        XCTAssertTrue(Wait.until(timeout: 5) { ((try? String(contentsOf: file, encoding: .utf8)) ?? "").contains("/status/404") })
        XCTAssertFalse(try String(contentsOf: rotated, encoding: .utf8).contains("/status/404"))
    }

    func testJSONOperationalLog() throws {
        let origin = try startOrigin()
        let proxy = try startAdminProxy(originPort: origin.port, arguments: ["--log-format", "json"])
        XCTAssertEqual(try Curl.fetch(try proxy.baseURL() + "/hello").status, 200)
        let lines = proxy.log.split(separator: "\n")
        XCTAssertFalse(lines.isEmpty)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertNotNil(object?["message"], "not a JSON log line: \(line)")
            XCTAssertTrue((object?["time"] as? String)?.contains(".") ?? false, "no milliseconds: \(line)")
        }
        XCTAssertTrue(lines.contains { $0.contains("\"message\":\"listener plain listening on 127.0.0.1:") }, proxy.log)
    }

    func testErrorLinesNameWhatToFix() throws {
        let unused = try RawConnection.unusedPort()
        let origin = try startOrigin()
        let proxy = try startAdminProxy(
            originPort: origin.port,
            extraUpstreams: "  - { name: nowhere, servers: [\"127.0.0.1:\(unused)\"] }\n",
            extraRoutes: "  - { match: { path_prefix: /refused/ }, upstream: nowhere }\n"
        )
        let response = try Curl.fetch(try proxy.baseURL() + "/refused/x")
        XCTAssertEqual(response.status, 502)
        XCTAssertTrue(response.text.contains("connect to 127.0.0.1:\(unused) failed: connection refused"), response.text)
        XCTAssertTrue(Wait.until(timeout: 3) { proxy.log.contains("connection refused") }, proxy.log)

        // A second proxy on the same port: the bind failure names the listener and the address.
        let port = try proxy.port(of: "plain")
        let yaml = """
            version: 1
            listeners:
              - { name: public, address: "127.0.0.1:\(port)" }
            upstreams:
              - { name: app, servers: ["127.0.0.1:\(origin.port)"] }
            routes:
              - { match: { path_prefix: / }, upstream: app }
            """
        let directory = try TemporaryDirectory(prefix: "streamgate-bind")
        let file = try directory.write(yaml, to: "streamgate.yaml")
        let result = try StreamGateCLI.run(["run", "--config", file.path], timeout: 10)
        XCTAssertEqual(result.exitCode, 1)
        XCTAssertTrue(
            result.stderr.contains("listener public: cannot bind 127.0.0.1:\(port): address already in use"),
            result.stderr
        )
    }
}
