import Foundation
import StreamGateTestSupport
import XCTest

/// A real browser (headless Chromium) opening many EventSources through the proxy: over TLS they share one HTTP/2
/// connection and all go live; over cleartext HTTP/1.1 the browser's six-connections-per-origin limit holds them
/// back, which shows the test can tell the two apart.
final class BrowserStreamTests: TLSTestCase {
    private static let streams = 30

    func testChromiumOpensThirtyEventSourcesOverHTTP2() throws {
        try requireChromium()
        let (origin, proxy, _) = try startOriginAndTLSProxy()
        let url = "https://127.0.0.1:\(try proxy.port(of: "tls"))/page?streams=\(Self.streams)"

        let visit = try HeadlessChromium.visit(url, timeout: 45) { Self.reports(origin).count > 0 }

        let reports = Self.reports(origin)
        XCTAssertEqual(
            reports,
            ["/report?live=\(Self.streams)&protocol=h2"],
            "event streams at the origin: \(Self.eventStreamRequests(origin)); chromium: \(visit.stderr.suffix(3000))"
        )
        XCTAssertGreaterThanOrEqual(Self.eventStreamRequests(origin), Self.streams)
    }

    func testChromiumOverHTTP11IsHeldToSixEventSources() throws {
        try requireChromium()
        let origin = try startOrigin()
        let proxy = try startProxy(listeners: [.plain], origin: origin)
        let url = "http://127.0.0.1:\(try proxy.port(of: "plain"))/page?streams=\(Self.streams)"

        // Watch until six streams are open, then a further three seconds for any seventh (each stream's first event
        // is sent at once, so a seventh connection would show up well within that).
        let watch = SixConnectionWatch()
        let visit = try HeadlessChromium.visit(url, timeout: 45) {
            watch.isSettled(opened: Self.eventStreamRequests(origin))
        }

        let count = Self.eventStreamRequests(origin)
        XCTAssertLessThanOrEqual(count, 6, "HTTP/1.1 should hold the page to 6 connections")
        XCTAssertGreaterThan(count, 0, "the page opened no event stream; chromium: \(visit.stderr.suffix(3000))")
        XCTAssertEqual(Self.reports(origin), [], "all streams went live over HTTP/1.1")
        XCTAssertTrue(origin.connections.requestTargets.contains("/page?streams=\(Self.streams)"))
    }

    /// Fails the test with how to install Chromium when it is missing (CI installs it; it is never skipped).
    private func requireChromium() throws {
        _ = try HeadlessChromium.executable()
    }

    private static func reports(_ origin: TestOrigin) -> [String] {
        origin.connections.requestTargets.filter { $0.hasPrefix("/report?") }
    }

    private static func eventStreamRequests(_ origin: TestOrigin) -> Int {
        origin.connections.requestTargets.filter { $0.hasPrefix("/sse?stream=") }.count
    }
}
