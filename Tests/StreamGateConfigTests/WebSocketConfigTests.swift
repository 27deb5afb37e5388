import XCTest

@testable import StreamGateConfig

/// The `websocket` block of routes and the origins it accepts.
///
/// Most documents are `minimalYAML` (its only route ends on line 10) with route keys appended from line 11 on.
final class WebSocketConfigTests: XCTestCase {
    /// `minimalYAML` with `keys` added to its route (indent them by 4 spaces).
    private func yaml(route keys: String) -> String {
        minimalYAML + "\n" + keys
    }

    private func route(_ text: String) throws -> RouteConfig {
        let config = try ConfigLoader.load(yaml: text, sourcePath: "streamgate.yaml")
        return try XCTUnwrap(config.routes.first)
    }

    func testDefaultsWhenTheBlockIsAbsentOrEmpty() throws {
        for text in [minimalYAML, yaml(route: "    websocket:"), yaml(route: "    websocket: {}")] {
            let route = try route(text)
            XCTAssertEqual(route.websocket, WebSocketConfig())
            XCTAssertFalse(route.sseConfigured)
        }
        let defaults = WebSocketConfig()
        XCTAssertEqual(defaults.idleTimeout, .seconds(600))
        XCTAssertEqual(defaults.pingInterval, .seconds(30))
        XCTAssertEqual(defaults.upstreamPingInterval, .zero)
        XCTAssertEqual(defaults.maxLifetime, .zero)
        XCTAssertEqual(defaults.allowedOrigins, [])
    }

    func testEveryKey() throws {
        let route = try route(yaml(route: """
                websocket:
                  idle_timeout: 0s
                  ping_interval: 20s
                  upstream_ping_interval: 45s
                  max_lifetime: 24h
                  allowed_origins:
                    - HTTPS://App.Example
                    - https://admin.example:443
                    - http://localhost:8080
                    - "http://[::1]:3000"
            """))
        XCTAssertEqual(
            route.websocket,
            WebSocketConfig(
                idleTimeout: .zero,
                pingInterval: .seconds(20),
                upstreamPingInterval: .seconds(45),
                maxLifetime: .seconds(86_400),
                allowedOrigins: ["https://app.example", "https://admin.example", "http://localhost:8080",
                                 "http://[::1]:3000"]
            )
        )
        XCTAssertEqual(route.sse, SSEConfig())
        XCTAssertFalse(route.sseConfigured)
    }

    func testBothBlocksOnOneRoute() throws {
        let route = try route(yaml(route: "    sse: { retry: 1s }\n    websocket: { allowed_origins: [] }"))
        XCTAssertTrue(route.sseConfigured)
        XCTAssertEqual(route.sse.retry, .seconds(1))
        XCTAssertEqual(route.websocket, WebSocketConfig())
    }

    func testEveryValueWrongAtOnce() {
        let text = yaml(route: """
                websocket:
                  idle_timeout: 10
                  ping_interval: 30 s
                  upstream_ping_interval: -1s
                  max_lifetime: forever
                  allowed_origins: [https://app.example/, "*"]
                  allowed_origin: https://app.example
            """)
        let hint = "(use e.g. 250ms, 15s, 5m, 1h)"
        assertErrors(text, [
            #"streamgate.yaml:12: routes[0].websocket.idle_timeout: invalid duration "10" "# + hint,
            #"streamgate.yaml:13: routes[0].websocket.ping_interval: invalid duration "30 s" "# + hint,
            #"streamgate.yaml:14: routes[0].websocket.upstream_ping_interval: invalid duration "-1s" "# + hint,
            #"streamgate.yaml:15: routes[0].websocket.max_lifetime: invalid duration "forever" "# + hint,
            #"streamgate.yaml:16: routes[0].websocket.allowed_origins[0]: invalid origin "https://app.example/": "#
                + "must not include a path, query or fragment (expected http(s)://host[:port], e.g. "
                + "https://app.example)",
            #"streamgate.yaml:16: routes[0].websocket.allowed_origins[1]: invalid origin "*": leave "#
                + "allowed_origins empty to accept any origin",
            "streamgate.yaml:17: routes[0].websocket.allowed_origin: unknown key (expected one of: idle_timeout, "
                + "ping_interval, upstream_ping_interval, max_lifetime, allowed_origins)",
        ])
    }

    func testOriginErrorsOnePerLine() {
        let text = yaml(route: """
                websocket:
                  allowed_origins:
                    - app.example
                    - wss://app.example
                    - https://app.example:8443/path
                    - https://
                    - https://app.example:0
                    - https://user@app.example
                    - http://::1:8080
                    - https://app..example
                    - https://APP.example
                    - https://app.example:443
            """)
        let shape = "expected http(s)://host[:port], e.g. https://app.example"
        let path = "routes[0].websocket.allowed_origins"
        assertErrors(text, [
            #"streamgate.yaml:13: \#(path)[0]: invalid origin "app.example": \#(shape)"#,
            #"streamgate.yaml:14: \#(path)[1]: invalid origin "wss://app.example": scheme must be http or https"#,
            #"streamgate.yaml:15: \#(path)[2]: invalid origin "https://app.example:8443/path": must not include "#
                + #"a path, query or fragment (\#(shape))"#,
            #"streamgate.yaml:16: \#(path)[3]: invalid origin "https://": missing host (\#(shape))"#,
            #"streamgate.yaml:17: \#(path)[4]: invalid origin "https://app.example:0": port must be a number in "#
                + "1...65535",
            #"streamgate.yaml:18: \#(path)[5]: invalid origin "https://user@app.example": invalid character "@" "#
                + "in host",
            #"streamgate.yaml:19: \#(path)[6]: invalid origin "http://::1:8080": IPv6 addresses must be in "#
                + "brackets, e.g. http://[::1]:8080",
            #"streamgate.yaml:20: \#(path)[7]: invalid origin "https://app..example": empty label in host"#,
            #"streamgate.yaml:22: \#(path)[9]: duplicate origin "https://app.example" (already used by "#
                + #"\#(path)[8])"#,
        ])
    }

    func testTypeMismatches() {
        let text = yaml(route: """
                websocket:
                  allowed_origins: https://app.example
                  ping_interval: [30s]
              - match: { path_prefix: /b/ }
                upstream: app
                websocket:
                  allowed_origins: [[https://app.example], http://ok.example]
            """)
        assertErrors(text, [
            #"streamgate.yaml:12: routes[0].websocket.allowed_origins: expected a list, found "https://app.example""#,
            "streamgate.yaml:13: routes[0].websocket.ping_interval: expected a string, found a list",
            "streamgate.yaml:17: routes[1].websocket.allowed_origins[0]: expected a string, found a list",
        ])
    }

    func testOrigins() {
        let table: [(String, String?)] = [
            ("https://app.example", "https://app.example"),
            ("HTTPS://App.Example", "https://app.example"),
            ("https://app.example:443", "https://app.example"),
            ("http://app.example:80", "http://app.example"),
            ("http://app.example:443", "http://app.example:443"),
            ("https://app.example:80", "https://app.example:80"),
            ("http://localhost:8080", "http://localhost:8080"),
            ("http://127.0.0.1", "http://127.0.0.1"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("https://[2001:DB8::1]", "https://[2001:db8::1]"),
            ("", nil),
            ("*", nil),
            ("null", nil),
            ("app.example", nil),
            ("//app.example", nil),
            ("ws://app.example", nil),
            ("https:/app.example", nil),
            ("https://", nil),
            ("https://:443", nil),
            ("https://app.example/", nil),
            ("https://app.example?a=1", nil),
            ("https://app.example#top", nil),
            ("https://app.example:", nil),
            ("https://app.example:65536", nil),
            ("https://app.example:+1", nil),
            ("https://*.app.example", nil),
            ("https://app example", nil),
            ("https://app.example.", nil),
            ("http://[::1", nil),
            ("http://[::1]x", nil),
            ("http://[host]:80", nil),
        ]
        for (text, expected) in table {
            switch OriginParser.parse(text) {
            case .success(let origin):
                XCTAssertEqual(origin, expected, "\"\(text)\"")
            case .failure(let problem):
                XCTAssertNil(expected, "\"\(text)\": \(problem.message)")
            }
        }
    }
}
