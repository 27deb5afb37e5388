import XCTest

@testable import StreamGateConfig

/// `sse.shared`: off by default, its defaults, every key, and every bad value located at its line.
/// `minimalYAML`'s only route ends on line 10; route keys are appended from line 11 on.
final class SSESharedConfigTests: XCTestCase {
    private func yaml(route keys: String) -> String {
        minimalYAML + "\n" + keys
    }

    private func route(_ text: String) throws -> RouteConfig {
        let config = try ConfigLoader.load(yaml: text, sourcePath: "streamgate.yaml")
        return try XCTUnwrap(config.routes.first)
    }

    func testOffUnlessGivenAndDefaultsWhenEmpty() throws {
        XCTAssertNil(try route(minimalYAML).sse.shared)
        XCTAssertNil(try route(minimalYAML).sse.wholeEventLimit)
        let shared = try route(yaml(route: "    sse: { shared: {} }")).sse
        XCTAssertEqual(shared.shared, SSESharedConfig())
        XCTAssertEqual(shared.shared?.key, [.path, .query])
        XCTAssertEqual(shared.wholeEventLimit, 262_144)
    }

    func testEveryKey() throws {
        let sse = try route(yaml(route: """
                sse:
                  shared:
                    key: [path, cookie, authorization, "header:X-Tenant"]
                    replay: 50
                    replay_bytes: 64KiB
                    idle_close: 0s
                    missed: join
                    max_event: 1MiB
            """)).sse
        XCTAssertEqual(
            sse.shared,
            SSESharedConfig(
                key: [.path, .cookie, .authorization, .header("x-tenant")],
                replayEvents: 50,
                replayBytes: 65_536,
                idleClose: .zero,
                missed: .join,
                maxEventBytes: 1_048_576
            )
        )
    }

    func testEveryValueWrongAtOnce() {
        assertErrors(yaml(route: """
                sse:
                  shared:
                    key: [path, host, "header:", path]
                    replay: 0
                    replay_bytes: 2GiB
                    idle_close: soon
                    missed: drop
                    max_event: 100
                    size: 5
            """), [
            #"streamgate.yaml:13: routes[0].sse.shared.key[1]: invalid key part "host" (expected path, query, cookie, "#
                + "authorization or header:<name>)",
            #"streamgate.yaml:13: routes[0].sse.shared.key[2]: invalid key part "header:" (expected path, query, "#
                + "cookie, authorization or header:<name>)",
            #"streamgate.yaml:13: routes[0].sse.shared.key[3]: "path" is in the key twice"#,
            "streamgate.yaml:14: routes[0].sse.shared.replay: must be in 1...1000000 (got 0)",
            "streamgate.yaml:15: routes[0].sse.shared.replay_bytes: must be in 1KiB...1GiB (got 2GiB)",
            #"streamgate.yaml:16: routes[0].sse.shared.idle_close: invalid duration "soon" (use e.g. 250ms, 15s, 5m, 1h)"#,
            #"streamgate.yaml:17: routes[0].sse.shared.missed: invalid value "drop" (expected one of: upstream, join)"#,
            "streamgate.yaml:18: routes[0].sse.shared.max_event: must be in 1KiB...16MiB (got 100)",
            "streamgate.yaml:19: routes[0].sse.shared.size: unknown key (expected one of: key, replay, replay_bytes, "
                + "idle_close, missed, max_event)",
        ])
    }

    func testTypeMismatches() {
        assertErrors(yaml(route: "    sse: { shared: true }"), [
            #"streamgate.yaml:11: routes[0].sse.shared: expected a mapping, found "true""#,
        ])
        assertErrors(yaml(route: "    sse:\n      shared: { key: path }"), [
            #"streamgate.yaml:12: routes[0].sse.shared.key: expected a list, found "path""#,
        ])
    }
}
