import Foundation
import StreamGateTestSupport
import XCTest

/// `examples/sse-dashboard` as its README runs it: the FastAPI + sse-starlette app under uvicorn and StreamGate with
/// the example's own `streamgate.yaml` (only its ports and certificate paths swapped for the test's), then headless
/// Chromium on the page: through StreamGate all 40 EventSources go live over h2; straight from uvicorn, over
/// HTTP/1.1, the browser holds them to six.
final class ExampleSSEDashboardTests: ExampleTestCase {
    private func startApp() throws -> (app: PythonPeer, port: Int) {
        _ = try HeadlessChromium.executable()
        return try startApp(example: "sse-dashboard")
    }

    func testAllFortyStreamsGoLiveThroughStreamGateOverHTTP2() throws {
        let (app, appPort) = try startApp()
        let proxy = try startProxy(example: "sse-dashboard", appPort: appPort, listeners: ["https", "admin"])
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
