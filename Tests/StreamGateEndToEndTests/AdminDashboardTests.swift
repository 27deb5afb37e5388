import Foundation
import StreamGateTestSupport
import XCTest

/// The dashboard in a real browser, and `streamgate connections` in a terminal: both show the streams the test
/// opened. The dashboard's screenshot is kept in .build/test-artifacts.
final class AdminDashboardTests: AdminTestCase {
    /// The page's counters and the kinds of its stream rows; `done` once it shows two SSE streams and a WebSocket
    /// and its chart has five points (rates need two summaries a second apart).
    private static let pageState = """
        (() => {
          const text = (id) => { const e = document.getElementById(id); return e ? e.textContent : ''; };
          const kinds = [...document.querySelectorAll('#stream-rows tr.stream')].map((r) => r.dataset.kind);
          const points = Number(document.getElementById('chart').dataset.points || 0);
          return { sse: text('streams-sse'), websocket: text('streams-websocket'), status: text('status'),
                   rows: kinds.join(','), routes: document.querySelectorAll('#route-rows tr').length,
                   chart: points >= 5,
                   done: text('streams-sse') === '2' && text('streams-websocket') === '1' && points >= 5
                         && kinds.filter((k) => k === 'sse').length === 2 && kinds.includes('websocket') };
        })()
        """

    func testDashboardShowsTheLiveStreams() throws {
        guard HeadlessChromium.isAvailable else {
            return XCTFail("headless Chromium is not installed (CI installs the `chromium` package)")
        }
        let origin = try startOrigin()
        let echo = try startEchoServer()
        let proxy = try startAdminProxy(originPort: origin.port, echoPort: echo.port)
        let base = try proxy.baseURL()
        let clients = try (0..<2).map { _ in try CurlStream(["-N", "\(base)/sse-resume?gap=250"]) }
        defer { clients.forEach { $0.kill() } }
        let chat = try WebSocketPeers.start(.client, ["chatty", "\(try proxy.webSocketBase())/ws/dash", "--seconds", "40"])
        defer { chat.stop() }
        _ = try waitForStreams { $0.count == 3 }

        let chromium = try ChromiumDevTools(url: adminBase + "/")
        defer { chromium.stop() }
        // Kept as a test artefact: .build/test-artifacts/dashboard.png under the package.
        let artifacts = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let screenshot = artifacts.appendingPathComponent("dashboard.png")
        try? FileManager.default.removeItem(at: screenshot)
        let client = try chromium.poll(Self.pageState, timeout: 30, screenshot: screenshot)
        chromium.stop()

        let state = client.events.named("state").last
        let context = "\(client.transcript)\n--- chromium stderr ---\n\(chromium.stderr.suffix(3000))"
        XCTAssertEqual(state?["sse"], "2", context)
        XCTAssertEqual(state?["websocket"], "1", context)
        XCTAssertTrue(state?["status"]?.hasPrefix("live") ?? false, context)
        XCTAssertTrue(["1", "true"].contains(client.events.named("end").first?["done"] ?? ""), "the page never showed them all; \(context)")
        let saved = (try? Data(contentsOf: screenshot)) ?? Data()
        XCTAssertTrue(saved.starts(with: [0x89, 0x50, 0x4E, 0x47]), "no PNG screenshot at \(screenshot.path)")
        print("dashboard screenshot: \(screenshot.path)")
    }

    func testConnectionsCommandPrintsATableAndJSON() throws {
        let origin = try startOrigin()
        let proxy = try startAdminProxy(originPort: origin.port, admin: "admin: { address: \"127.0.0.1:0\", token: t0ken }")
        token = "t0ken"
        let client = try CurlStream(["-N", "--http2-prior-knowledge", "\(try proxy.baseURL())/sse-resume?gap=200"])
        defer { client.kill() }
        _ = try waitForStreams("", timeout: 10) { _ in true }

        var table = try StreamGateCLI.run(["connections", "--admin", adminBase, "--token", "t0ken"])
        _ = Wait.until(timeout: 10, interval: 0.2) {
            table = (try? StreamGateCLI.run(["connections", "--admin", self.adminBase, "--token", "t0ken"])) ?? table
            return table.stdout.contains(" sse ")
        }
        XCTAssertEqual(table.exitCode, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, "1 connections, 1 streams (sse 1)", table.stdout)
        XCTAssertTrue(lines.dropFirst().first?.hasPrefix("CONN  STREAM KIND") ?? false, table.stdout)
        XCTAssertTrue(lines.contains { $0.contains(" sse ") && $0.contains("/sse-resume") && $0.contains("events") }, table.stdout)
        XCTAssertTrue(lines.allSatisfy { $0.count <= 120 }, "a line is wider than 120 columns:\n\(table.stdout)")

        let json = try StreamGateCLI.run(["connections", "--admin", adminBase, "--token", "t0ken", "--json", "--kind", "websocket"])
        XCTAssertEqual(json.exitCode, 0, json.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["total"] as? Int, 0, "no WebSocket is open: \(json.stdout)")

        let refused = try StreamGateCLI.run(["connections", "--admin", adminBase])
        XCTAssertEqual(refused.exitCode, 1)
        XCTAssertTrue(refused.stderr.contains("admin endpoint answered 401"), refused.stderr)
    }
}
