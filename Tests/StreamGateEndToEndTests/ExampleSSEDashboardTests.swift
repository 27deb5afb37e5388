import Foundation
import StreamGateTestSupport
import XCTest

/// `examples/sse-dashboard` as its README runs it: the FastAPI + sse-starlette app under uvicorn and StreamGate with
/// the example's own `streamgate.yaml` (only its ports and certificate paths swapped for the test's), then headless
/// Chromium on the page: through StreamGate all 40 EventSources go live over h2; straight from uvicorn, over
/// HTTP/1.1, the browser holds them to six.
final class ExampleSSEDashboardTests: WebSocketTestCase {
    private static let example = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/sse-dashboard")

    private func startApp() throws -> (app: PythonPeer, port: Int) {
        try PythonPeer.requireModules(["fastapi", "sse_starlette", "uvicorn"], install: "fastapi sse-starlette uvicorn")
        _ = try HeadlessChromium.executable()
        let port = try RawConnection.unusedPort()
        let app = try PythonPeer.startModule(
            "uvicorn",
            arguments: ["app:app", "--app-dir", Self.example.path, "--host", "127.0.0.1", "--port", String(port)]
        )
        track(app)
        XCTAssertTrue(Wait.until(timeout: 20) { app.stderr.contains("Uvicorn running on") }, app.transcript)
        return (app, port)
    }

    private func startProxy(appPort: Int) throws -> ProxyProcess {
        let certificates = try TemporaryDirectory(prefix: "streamgate-dashboard")
        let pair = try TestCertificates.make(in: certificates)
        let yaml = try String(contentsOf: Self.example.appendingPathComponent("streamgate.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "127.0.0.1:8443", with: "127.0.0.1:0")
            .replacingOccurrences(of: "127.0.0.1:9901", with: "127.0.0.1:0")
            .replacingOccurrences(of: "127.0.0.1:8000", with: "127.0.0.1:\(appPort)")
            .replacingOccurrences(of: "certificate: cert.pem", with: "certificate: \(pair.certificate.path)")
            .replacingOccurrences(of: "private_key: key.pem", with: "private_key: \(pair.privateKey.path)")
        XCTAssertTrue(yaml.contains(pair.certificate.path) && yaml.contains("127.0.0.1:\(appPort)"), "the example's config changed shape")
        return try startWebSocketProxy(yaml, listeners: ["https", "admin"])
    }

    func testAllFortyStreamsGoLiveThroughStreamGateOverHTTP2() throws {
        let (app, appPort) = try startApp()
        let proxy = try startProxy(appPort: appPort)
        let url = "https://127.0.0.1:\(try proxy.port(of: "https"))/"

        let visit = try HeadlessChromium.visit(url, timeout: 45) { !app.events.named("report").isEmpty }

        let report = app.events.named("report").first
        XCTAssertEqual(report?["live"], "40", "chromium: \(visit.stderr.suffix(2000))\n\(app.transcript)")
        XCTAssertEqual(report?["protocol"], "h2")
        XCTAssertGreaterThanOrEqual(app.events.named("stream_open").count, 40)
    }

    func testStraightFromUvicornTheBrowserStopsAtSix() throws {
        let (app, appPort) = try startApp()
        // Six streams open, then three more seconds for a seventh that HTTP/1.1 never lets through.
        let watch = SixConnectionWatch()
        _ = try HeadlessChromium.visit("http://127.0.0.1:\(appPort)/", timeout: 45) {
            watch.isSettled(opened: app.events.named("stream_open").count)
        }
        XCTAssertEqual(app.events.named("stream_open").count, 6, app.transcript)
        XCTAssertTrue(app.events.named("report").isEmpty, "all 40 went live over HTTP/1.1?\n\(app.transcript)")
    }
}
