import XCTest

@testable import StreamGateConfig

/// The `sse` block of routes: defaults, explicit values, `sseConfigured`, and located errors.
///
/// Most documents are `minimalYAML` (its only route ends on line 10) with route keys appended from line 11 on.
final class SSEConfigTests: XCTestCase {
    /// `minimalYAML` with `keys` added to its route (indent them by 4 spaces).
    private func yaml(route keys: String) -> String {
        minimalYAML + "\n" + keys
    }

    private func route(_ text: String) throws -> RouteConfig {
        let config = try ConfigLoader.load(yaml: text, sourcePath: "streamgate.yaml")
        return try XCTUnwrap(config.routes.first)
    }

    func testDefaultsWhenTheBlockIsAbsent() throws {
        let route = try route(minimalYAML)
        XCTAssertFalse(route.sseConfigured)
        XCTAssertEqual(route.sse, SSEConfig())
        XCTAssertEqual(route.sse.heartbeatInterval, .seconds(15))
        XCTAssertEqual(route.sse.heartbeatComment, "")
        XCTAssertNil(route.sse.retry)
        XCTAssertEqual(route.sse.firstByte, .immediate)
        XCTAssertEqual(route.sse.upstreamAcceptEncoding, .strip)
    }

    func testEveryKey() throws {
        let route = try route(yaml(route: """
                sse:
                  heartbeat_interval: 5s
                  heartbeat_comment: " keep-alive"
                  retry: 2500ms
                  first_byte: upstream
                  upstream_accept_encoding: keep
            """))
        XCTAssertTrue(route.sseConfigured)
        XCTAssertEqual(
            route.sse,
            SSEConfig(
                heartbeatInterval: .seconds(5),
                heartbeatComment: " keep-alive",
                retry: .milliseconds(2500),
                firstByte: .upstream,
                upstreamAcceptEncoding: .keep
            )
        )
        XCTAssertEqual(route.websocket, WebSocketConfig())
        XCTAssertEqual(route.timeouts, RouteTimeouts())
    }

    func testPartialBlockKeepsOtherDefaults() throws {
        let route = try route(yaml(route: "    sse: { heartbeat_interval: 0s, retry: 1m }"))
        XCTAssertTrue(route.sseConfigured)
        XCTAssertEqual(route.sse, SSEConfig(heartbeatInterval: .zero, retry: .seconds(60)))
    }

    /// `sse:` with every key commented out, or `{}`, is still an explicit block: the route serves event streams.
    func testEmptyBlockMarksTheRoute() throws {
        for block in ["    sse:", "    sse: {}", "    sse:\n      # heartbeat_interval: 15s"] {
            let route = try route(yaml(route: block))
            XCTAssertTrue(route.sseConfigured, block)
            XCTAssertEqual(route.sse, SSEConfig(), block)
        }
    }

    func testRetryBounds() throws {
        let table: [(String, Duration)] = [
            ("1ms", .milliseconds(1)), ("1s", .seconds(1)), ("1s500ms", .milliseconds(1500)),
            ("1000000ns", .milliseconds(1)), ("1h", .seconds(3600)),
        ]
        for (text, expected) in table {
            XCTAssertEqual(try route(yaml(route: "    sse: { retry: \(text) }")).sse.retry, expected, text)
        }
    }

    func testHeartbeatCommentMayHoldAnythingButLineBreaks() throws {
        let route = try route(yaml(route: #"    sse: { heartbeat_comment: "ping: \"x\" \t é" }"#))
        XCTAssertEqual(route.sse.heartbeatComment, "ping: \"x\" \t é")
    }

    func testEveryValueWrongAtOnce() {
        let text = yaml(route: """
                sse:
                  heartbeat_interval: 15
                  heartbeat_comment: "a\\nb"
                  retry: 0s
                  first_byte: later
                  upstream_accept_encoding: gzip
                  heartbeat: 5s
            """)
        assertErrors(text, [
            #"streamgate.yaml:12: routes[0].sse.heartbeat_interval: invalid duration "15" "#
                + "(use e.g. 250ms, 15s, 5m, 1h)",
            "streamgate.yaml:13: routes[0].sse.heartbeat_comment: must not contain CR or LF (the heartbeat is sent "
                + "as one comment line)",
            "streamgate.yaml:14: routes[0].sse.retry: must be at least 1ms (got 0s)",
            #"streamgate.yaml:15: routes[0].sse.first_byte: invalid value "later" (expected one of: immediate, "#
                + "upstream)",
            #"streamgate.yaml:16: routes[0].sse.upstream_accept_encoding: invalid value "gzip" (expected one of: "#
                + "strip, keep)",
            "streamgate.yaml:17: routes[0].sse.heartbeat: unknown key (expected one of: heartbeat_interval, "
                + "heartbeat_comment, retry, first_byte, upstream_accept_encoding, resume, resume_attempts, "
                + "resume_backoff, resume_on_end, resume_max_event, shared)",
        ])
    }

    func testLineBreaksInTheComment() {
        let message = "must not contain CR or LF (the heartbeat is sent as one comment line)"
        for comment in [#""a\rb""#, #""a\r\nb""#, #""\n""#, "|\n        two\n        lines"] {
            assertErrors(yaml(route: "    sse:\n      heartbeat_comment: \(comment)"), [
                "streamgate.yaml:12: routes[0].sse.heartbeat_comment: \(message)",
            ])
        }
    }

    func testRetryMustBeWholeMillisecondsOfAtLeastOne() {
        let table: [(String, String)] = [
            ("500us", "must be at least 1ms (got 500us)"),
            ("0", "must be at least 1ms (got 0)"),
            ("1500us", #"must be a whole number of milliseconds, as it is sent as "retry: <ms>" (got 1500us)"#),
            ("1s1ns", #"must be a whole number of milliseconds, as it is sent as "retry: <ms>" (got 1s1ns)"#),
            ("3 s", #"invalid duration "3 s" (use e.g. 250ms, 15s, 5m, 1h)"#),
        ]
        for (text, message) in table {
            assertErrors(yaml(route: "    sse:\n      retry: \(text)"), [
                "streamgate.yaml:12: routes[0].sse.retry: \(message)",
            ])
        }
    }

    func testEnumValuesAreExactSpellings() {
        assertErrors(yaml(route: "    sse:\n      first_byte: Immediate\n      upstream_accept_encoding: \"\""), [
            #"streamgate.yaml:12: routes[0].sse.first_byte: invalid value "Immediate" (expected one of: immediate, "#
                + "upstream)",
            #"streamgate.yaml:13: routes[0].sse.upstream_accept_encoding: invalid value "" (expected one of: strip, "#
                + "keep)",
        ])
    }

    func testTypeMismatches() {
        assertErrors(yaml(route: "    sse: true"), [
            #"streamgate.yaml:11: routes[0].sse: expected a mapping, found "true""#,
        ])
        assertErrors(yaml(route: "    sse:\n      heartbeat_comment: [a]\n      retry: { ms: 5 }"), [
            "streamgate.yaml:12: routes[0].sse.heartbeat_comment: expected a string, found a list",
            "streamgate.yaml:13: routes[0].sse.retry: expected a string, found a mapping",
        ])
    }

    func testUnknownRouteKeyListsTheBlocks() {
        assertErrors(yaml(route: "    server_sent_events: {}"), [
            "streamgate.yaml:11: routes[0].server_sent_events: unknown key (expected one of: name, match, upstream, "
                + "timeouts, sse, websocket, max_request_body)",
        ])
    }

    /// A route with a bad `sse` block is left out, and its errors sort in with the others by line.
    func testErrorsInSeveralRoutesInFileOrder() {
        let text = minimalYAML + """

              - match: { path_prefix: /events/ }
                upstream: ap
                sse: { first_byte: soon }
              - match: { path_prefix: /more/ }
                upstream: app
                sse:
                  retry: 10us
            """
        assertErrors(text, [
            #"streamgate.yaml:12: routes[1].upstream: no upstream named "ap""#,
            #"streamgate.yaml:13: routes[1].sse.first_byte: invalid value "soon" (expected one of: immediate, "#
                + "upstream)",
            "streamgate.yaml:17: routes[2].sse.retry: must be at least 1ms (got 10us)",
        ])
    }
}
