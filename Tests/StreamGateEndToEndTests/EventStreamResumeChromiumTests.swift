import Foundation
import StreamGateTestSupport
import XCTest

/// A real browser's EventSources on a route with `sse.resume`: headless Chromium opens five of them over TLS (one
/// HTTP/2 connection) and records every event id and every `error` event; the origin is killed and restarted on its
/// port mid-stream. The browser must never notice: each source's ids gapless, none twice, no `error`, no reopen.
final class EventStreamResumeChromiumTests: TLSTestCase {
    private static let sources = 5
    private var proxy: ProxyProcess?

    override func tearDown() {
        if let proxy {
            let result = proxy.stop(timeout: 3)
            if (testRun?.totalFailureCount ?? 0) > 0 {
                print("--- streamgate log (exit \(result.exitCode)) ---\n\(result.stderr)")
            }
        }
        proxy = nil
        super.tearDown()
    }

    /// Opens `sources` EventSources on `/feed?source=N`; `feedState(target)` reports the ids each one got (JSON),
    /// the `open` and `error` events, the protocol of the page, and `done` once every source got `target`.
    private static func page(sources: Int) -> String {
        """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>StreamGate resume test</title><link rel="icon" href="data:,">
        </head><body><script>
        const ids = [];
        let opens = 0;
        let errors = 0;
        for (let i = 0; i < \(sources); i++) {
            const received = [];
            ids.push(received);
            const source = new EventSource('/feed?source=' + i);
            source.onopen = () => { opens += 1; };
            source.onerror = () => { errors += 1; };
            source.onmessage = (event) => { received.push(Number(event.lastEventId)); };
        }
        window.feedState = (target) => ({
            ids: JSON.stringify(ids),
            opens: opens,
            errors: errors,
            protocol: performance.getEntriesByType('navigation')[0].nextHopProtocol,
            done: ids.every((received) => received.length > 0 && received[received.length - 1] >= target),
        });
        </script></body></html>

        """
    }

    func testEventSourcesNeverNoticeTheirOriginRestarting() throws {
        guard HeadlessChromium.isAvailable else {
            return XCTFail("headless Chromium is not installed (CI installs the `chromium` package)")
        }
        let files = try TemporaryDirectory(prefix: "streamgate-resume-chromium")
        let page = try files.write(Self.page(sources: Self.sources), to: "page.html")
        let feed = FailoverFeedOrigin.Feed(count: 1_200, interval: 0.1)
        let arguments = ["--from-start", "--page", page.path]
        let origin = try FailoverFeedOrigin(feed: feed, arguments: arguments, deadline: 150)
        track(origin.peer)
        let certificate = try makeCertificate()
        let yaml = """
            version: 1
            listeners:
              - name: tls
                address: 127.0.0.1:0
                tls: { certificate: "\(certificate.certificate.path)", private_key: "\(certificate.privateKey.path)" }
            upstreams:
              - { name: app, servers: ["\(origin.address)"], connect_timeout: 1s }
            routes:
              - name: feed
                match: { path_prefix: /feed }
                upstream: app
                sse: { heartbeat_interval: 500ms, resume: true, resume_attempts: 10, resume_backoff: 200ms }
              - match: { path_prefix: / }
                upstream: app

            """
        let proxy = try ProxyProcess(yaml: yaml, listeners: ["tls"])
        self.proxy = proxy
        let chromium = try ChromiumDevTools(url: "https://127.0.0.1:\(try proxy.port(of: "tls"))/page")
        defer { chromium.stop() }

        // Every source streaming for a second, then the origin dies and comes back on its port a second later.
        let opened = Wait.until(timeout: 30) { origin.feedRequests.count == Self.sources }
        XCTAssertTrue(opened, "feed requests \(origin.feedRequests.count); chromium: \(chromium.stderr.suffix(2000))")
        Thread.sleep(forTimeInterval: 1)
        origin.kill()
        Thread.sleep(forTimeInterval: 1)
        let restarted = try origin.restart(arguments: arguments, deadline: 150)
        track(restarted.peer)
        let target = feed.published + 20
        let expression = "window.feedState ? window.feedState(\(target)) : ({ done: false })"
        let client = try chromium.poll(expression, timeout: 30, screenshot: files.file("page.png"))
        chromium.stop()

        let context = "\(client.transcript.suffix(3000))\n--- chromium stderr ---\n\(chromium.stderr.suffix(3000))"
        let done = client.events.named("end").first?["done"] ?? ""
        XCTAssertTrue(["1", "true"].contains(done), "not every source reached event \(target); \(context)")
        let state = try XCTUnwrap(client.events.named("state").last, context)
        XCTAssertEqual(state["protocol"], "h2", context)
        XCTAssertEqual(state.int("errors"), 0, "error events on the page")
        XCTAssertEqual(state.int("opens"), Self.sources, "the sources opened again")
        let lists = try JSONDecoder().decode([[Int]].self, from: Data((state["ids"] ?? "").utf8))
        XCTAssertEqual(lists.count, Self.sources)
        for (index, ids) in lists.enumerated() {
            XCTAssertEqual(ids, Array(1..<(ids.count + 1)), "source \(index) got \(consecutiveRuns(ids))")
            XCTAssertGreaterThanOrEqual(ids.last ?? 0, target, "source \(index)")
        }
        // Each stream went on from the restarted origin with its own last id.
        XCTAssertEqual(restarted.feedRequests.count, Self.sources, "\(restarted.feedRequests)")
        XCTAssertEqual(restarted.lastEventIDs.filter { Int($0) == nil }, [], "resumed without Last-Event-ID")
    }
}
