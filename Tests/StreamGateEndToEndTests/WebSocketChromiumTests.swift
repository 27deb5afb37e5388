import Foundation
import StreamGateTestSupport
import XCTest

/// A real browser on the TLS listener: one page opens a WebSocket (echoed by the Python upstream) and 10 EventSources
/// (served by `TestOrigin`) on its own origin. Over HTTP/2 with extended CONNECT (RFC 8441) all of it shares the one
/// connection that loaded the page; with `http2: { websocket: false }` the WebSocket falls back to HTTP/1.1.
final class WebSocketChromiumTests: WebSocketTestCase {
    /// Number of EventSources the page opens.
    private static let streams = 10

    /// Reports `/report?reason=done|timeout|websocket-error&echo=true|false&live=N&protocol=P` once the echo came
    /// back and every EventSource got an event, or after 6 s.
    private static let pageHTML = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>StreamGate WebSocket test</title><link rel="icon" href="data:,">
        </head><body><script>
        const streams = \(streams);
        const live = new Set();
        let echoed = false;
        let reported = false;
        function report(reason) {
            if (reported) return;
            reported = true;
            const protocol = performance.getEntriesByType('navigation')[0].nextHopProtocol;
            fetch('/report?reason=' + reason + '&echo=' + echoed + '&live=' + live.size
                + '&protocol=' + encodeURIComponent(protocol));
        }
        function check() { if (echoed && live.size === streams) report('done'); }
        for (let i = 0; i < streams; i++) {
            const source = new EventSource('/sse?stream=' + i);
            source.onmessage = () => { live.add(i); check(); };
        }
        const socket = new WebSocket('wss://' + location.host + '/ws');
        socket.onopen = () => socket.send('hello from chromium');
        socket.onmessage = (event) => { echoed = event.data === 'hello from chromium'; check(); };
        socket.onerror = () => report('websocket-error');
        setTimeout(() => report('timeout'), 6000);
        </script></body></html>

        """

    func testWebSocketAndEventSourcesShareOneHTTP2Connection() throws {
        let run = try visitPage(http2: nil)

        XCTAssertEqual(run.report["reason"], "done", "page report: \(run.report)")
        XCTAssertEqual(run.report["echo"], "true")
        XCTAssertEqual(run.report["live"], "\(Self.streams)")
        XCTAssertEqual(run.report["protocol"], "h2")
        XCTAssertEqual(run.log.connections(speaking: "HTTP/2").count, 1, "HTTP/2 connections: \(run.summary)")
        XCTAssertEqual(run.log.connections(speaking: "HTTP/1.1"), [], run.summary)
        XCTAssertEqual(run.log.tunnelConnections.count, 1, run.summary)
        XCTAssertEqual(run.log.tunnelConnections, run.log.connections(speaking: "HTTP/2"), run.summary)
    }

    func testWebSocketFallsBackToHTTP1WhenExtendedConnectIsOff() throws {
        let run = try visitPage(http2: "{ websocket: false }")

        XCTAssertEqual(run.report["reason"], "done", "page report: \(run.report)")
        XCTAssertEqual(run.report["echo"], "true")
        XCTAssertEqual(run.report["live"], "\(Self.streams)")
        XCTAssertEqual(run.report["protocol"], "h2")
        let http1 = run.log.connections(speaking: "HTTP/1.1")
        XCTAssertEqual(run.log.connections(speaking: "HTTP/2").count, 1, run.summary)
        XCTAssertEqual(http1.count, 1, run.summary)
        XCTAssertEqual(run.log.tunnelConnections, http1, "the tunnel is not on the HTTP/1.1 connection: \(run.summary)")
    }

    /// What one visit produced: the page's report (query fields) and the proxy's debug log.
    private struct Visit {
        let report: [String: String]
        let log: ConnectionLog

        var summary: String {
            "HTTP/2 \(log.connections(speaking: "HTTP/2")), HTTP/1.1 \(log.connections(speaking: "HTTP/1.1")), "
                + "tunnels on \(log.tunnelConnections)"
        }
    }

    /// Serves the page through a TLS listener (with `http2` as its `http2:` block), lets Chromium load it for 9 s.
    private func visitPage(http2: String?) throws -> Visit {
        guard HeadlessChromium.isAvailable else {
            throw TestSupportError(
                "headless Chromium is not installed (CI installs the `chromium` package; or set STREAMGATE_CHROMIUM)"
            )
        }
        let echo = try startEchoServer(pages: ["/ws-page": Self.pageHTML])
        let origin = try startOrigin()
        let listener = try tlsListener()
        guard let tls = listener.tls else { throw TestSupportError("the TLS listener has no certificate") }
        var yaml = "version: 1\nlisteners:\n  - name: \(listener.name)\n    address: 127.0.0.1:0\n"
        yaml += "    tls: { certificate: \(tls.certificate), private_key: \(tls.privateKey) }\n"
        if let http2 {
            yaml += "    http2: \(http2)\n"
        }
        yaml += """
            upstreams:
              - name: app
                servers: [127.0.0.1:\(echo.port)]
              - name: events
                servers: [127.0.0.1:\(origin.port)]
            routes:
              - match: { path_prefix: /sse }
                upstream: events
              - match: { path_prefix: / }
                upstream: app

            """
        let proxy = try startWebSocketProxy(yaml, listeners: [listener.name], debug: true)

        // Chromium's loading predictor preconnects two sockets to a page's origin on navigation, and one of them is
        // then never used. The `net.network_prediction_options: 2` ("never") preference stops that; it can only be
        // set in a profile, so the visit gets its own profile directory (the last --user-data-dir wins).
        let profile = try temporaryDirectory("streamgate-ws-chromium")
        let preferences = profile.file("Default")
        try FileManager.default.createDirectory(at: preferences, withIntermediateDirectories: true)
        try profile.write(#"{"net":{"network_prediction_options":2}}"#, to: "Default/Preferences")

        let url = "https://127.0.0.1:\(try proxy.port(of: listener.name))/ws-page"
        let chromium = try HeadlessChromium.visit(
            url,
            seconds: 9,
            extraArguments: ["--user-data-dir=\(profile.url.path)"]
        )

        let report = echo.peer.waitForEvent("report", timeout: 1)
        let fields = URLComponents(string: "/report?" + (report?["query"] ?? ""))?.queryItems ?? []
        if report == nil {
            XCTFail("the page never reported; chromium stderr:\n\(chromium.stderr)")
        }
        return Visit(
            report: Dictionary(fields.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first }),
            log: ConnectionLog(proxy.log)
        )
    }
}

/// The proxy's debug log seen per downstream connection: which protocol each `connection=N` spoke, and which
/// connections carried a WebSocket tunnel.
struct ConnectionLog {
    private let lines: [Substring]

    init(_ text: String) {
        lines = text.split(separator: "\n")
    }

    /// Distinct connection ids of lines `connection speaks PROTOCOL`, in order.
    func connections(speaking proto: String) -> [Int] {
        distinctConnections(in: lines.filter { $0.hasSuffix("connection speaks \(proto)") })
    }

    /// Distinct connection ids of `WebSocket tunnel open` lines, in order.
    var tunnelConnections: [Int] {
        distinctConnections(in: lines.filter { $0.hasSuffix("WebSocket tunnel open") })
    }

    private func distinctConnections(in matching: [Substring]) -> [Int] {
        var seen: [Int] = []
        for line in matching {
            guard let range = line.range(of: "connection=") else { continue }
            let digits = line[range.upperBound...].prefix { $0.isNumber }
            if let id = Int(digits), !seen.contains(id) {
                seen.append(id)
            }
        }
        return seen
    }
}
