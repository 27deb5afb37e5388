import Foundation
import StreamGateTestSupport
import XCTest

/// Who may use the admin endpoint and what it answers to bad input: the bearer token, loopback by default,
/// `/healthz` through a drain, `/config` with the token redacted, and clear answers to malformed requests.
final class AdminAccessTests: AdminTestCase {
    func testTokenIsRequiredWhenConfigured() throws {
        let origin = try startOrigin()
        let proxy = try startAdminProxy(originPort: origin.port, admin: "admin: { address: \"127.0.0.1:0\", token: hunter2-token }")
        for path in ["/connections", "/metrics", "/healthz", "/config", "/events"] {
            let missing = try admin(path, ["--max-time", "2"])
            XCTAssertEqual(missing.status, 401, path)
            XCTAssertEqual(missing.headerValues("www-authenticate").first, "Bearer realm=\"streamgate admin\"")
            XCTAssertEqual(try admin(path, ["-H", "Authorization: Bearer wrong", "--max-time", "2"]).status, 401, path)
            XCTAssertEqual(try admin(path, ["-H", "Authorization: Bearer hunter2-token-and-more", "--max-time", "2"]).status, 401, path)
        }
        XCTAssertEqual(try admin("/connections", ["-H", "Authorization: Bearer hunter2-token"]).status, 200)
        XCTAssertEqual(try admin("/connections", ["-H", "Authorization: bearer hunter2-token"]).status, 200, "the scheme is case-insensitive")
        XCTAssertEqual(try admin("/nope").status, 401, "unauthenticated requests learn nothing of the routes")
        let config = try admin("/config", ["-H", "Authorization: Bearer hunter2-token"])
        XCTAssertEqual(config.status, 200)
        XCTAssertTrue(config.text.contains("\"token\":\"<redacted>\""), config.text)
        XCTAssertFalse(config.text.contains("hunter2"))
        XCTAssertEqual(try admin("/").status, 200, "the dashboard page holds no data and loads without the token")
        XCTAssertFalse(proxy.log.contains("hunter2"), "the token is logged:\n\(proxy.log)")
    }

    func testPublicHealthzNeedsNoTokenAndOpensNothingElse() throws {
        let origin = try startOrigin()
        let proxy = try startAdminProxy(
            originPort: origin.port,
            admin: "admin: { address: \"127.0.0.1:0\", token: hunter2-token, public_healthz: true }"
        )
        let health = try admin("/healthz", ["--max-time", "2"])
        XCTAssertEqual(health.status, 200, health.text)
        XCTAssertEqual(health.text.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
        for path in ["/connections", "/metrics", "/config", "/events", "/healthz/../connections", "/healthzz"] {
            XCTAssertEqual(try admin(path, ["--max-time", "2", "--path-as-is"]).status, 401, path)
        }
        XCTAssertEqual(try admin("/reload", ["-X", "POST", "--max-time", "2"]).status, 401)
        let config = try admin("/config", ["-H", "Authorization: Bearer hunter2-token"])
        XCTAssertTrue(config.text.contains("\"public_healthz\":true"), config.text)
        _ = proxy
    }

    func testWithoutATokenOnlyLoopbackHostsAreServed() throws {
        let origin = try startOrigin()
        try startAdminProxy(originPort: origin.port)
        XCTAssertEqual(try admin("/healthz").status, 200, "curl sends Host: 127.0.0.1:PORT")
        XCTAssertEqual(try admin("/healthz", ["-H", "Host: localhost:9901"]).status, 200)
        XCTAssertEqual(try admin("/healthz", ["-H", "Host: [::1]:9901"]).status, 200)
        // A page whose name was rebound to 127.0.0.1 sends its own name as Host.
        let rebound = try admin("/connections", ["-H", "Host: attacker.example:9901"])
        XCTAssertEqual(rebound.status, 403)
        XCTAssertEqual(rebound.text, "without a token the admin endpoint answers only to a loopback Host\n")
        XCTAssertEqual(try admin("/connections", ["-H", "Host: 127.attacker.example"]).status, 403)

        let head = try admin("/events", ["--head", "--max-time", "3"])
        XCTAssertEqual(head.status, 200, "HEAD /events answers with the head alone")
        XCTAssertEqual(head.headerValues("content-type").first, "text/event-stream")
    }

    func testNonLoopbackWithoutTokenIsRefusedByCheckAndRun() throws {
        let yaml = """
            version: 1
            listeners:
              - { name: plain, address: "127.0.0.1:0" }
            admin:
              address: 0.0.0.0:0
            upstreams:
              - { name: app, servers: ["127.0.0.1:9"] }
            routes:
              - { match: { path_prefix: / }, upstream: app }
            """
        let directory = try TemporaryDirectory(prefix: "streamgate-admin-config")
        let file = try directory.write(yaml, to: "streamgate.yaml")
        let expected = "\(file.path):5: admin.address: admin on non-loopback address 0.0.0.0:0 needs admin.token or admin.token_file"
        for command in ["check", "run"] {
            let result = try StreamGateCLI.run([command, "--config", file.path])
            XCTAssertEqual(result.exitCode, 1, command)
            XCTAssertTrue(result.stderr.contains(expected), "\(command):\n\(result.stderr)")
        }
    }

    func testBadRequestsGetClearAnswers() throws {
        let origin = try startOrigin()
        try startAdminProxy(originPort: origin.port)
        let unknown = try admin("/nope")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.text, "no admin endpoint /nope\n")
        let filter = try admin("/connections?kind=carrier-pigeon")
        XCTAssertEqual(filter.status, 400)
        XCTAssertEqual(filter.text, "kind=carrier-pigeon: expected one of http, sse, websocket\n")
        XCTAssertEqual(try admin("/connections?older_than=soon").status, 400)
        XCTAssertEqual(try admin("/connections?limit=-1").status, 400)
        XCTAssertEqual(try admin("/connections?colour=blue").status, 400)
        XCTAssertEqual(try admin("/connections/abc").status, 400)
        XCTAssertEqual(try admin("/connections", ["-X", "POST", "--data", "x"]).status, 405)
        XCTAssertEqual(try admin("/streams/1/2").status, 405)

        let port = adminBase.split(separator: ":").last.flatMap { Int($0) } ?? 0
        let malformed = try RawConnection.exchange(port: port, request: "GARBAGE\r\n\r\n")
        XCTAssertTrue(malformed.text.hasPrefix("HTTP/1.1 400"), "malformed request: \(malformed.text.debugDescription)")
        XCTAssertTrue(malformed.closedByPeer, "the connection stays open after a malformed request")

        let filler = String(repeating: "a", count: 200_000)
        let huge = try RawConnection.exchange(port: port, request: "GET /connections HTTP/1.1\r\nHost: x\r\nX-Filler: \(filler)\r\n\r\n")
        XCTAssertFalse(huge.text.hasPrefix("HTTP/1.1 200"), "a 200 KB head was served: \(huge.text.prefix(200))")
        XCTAssertTrue(huge.closedByPeer, "a 200 KB head left the connection open")
        XCTAssertEqual(try admin("/healthz").status, 200, "the endpoint still serves")
    }

    func testHealthzTurns503WhileDraining() throws {
        let origin = try startOrigin()
        let proxy = try startAdminProxy(originPort: origin.port, arguments: ["--drain-seconds", "4"])
        let client = try CurlStream(["-N", "--http1.1", "\(try proxy.baseURL())/sse-resume?gap=200"])
        defer { client.kill() }
        _ = try waitForStreams { $0.count == 1 }
        let health = try admin("/healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(health.text, "ok\n")

        ProcessSignal.terminate(proxy.processIdentifier)
        var draining: CurlResponse?
        _ = Wait.until(timeout: 3, interval: 0.05) {
            draining = try? self.admin("/healthz", ["--max-time", "1"])
            return draining?.status == 503
        }
        XCTAssertEqual(draining?.status, 503, "healthz during the drain: \(draining?.text ?? "no answer")")
        XCTAssertEqual(draining?.text, "draining\n")
        XCTAssertTrue(proxy.isRunning, "the proxy is still draining its stream")
    }
}
