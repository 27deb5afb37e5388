import XCTest

@testable import StreamGateConfig

/// `sse.resume` and its settings: off by default, defaults when on, every key, and every bad value located at its
/// line. `minimalYAML`'s only route ends on line 10; route keys are appended from line 11 on.
final class SSEResumeConfigTests: XCTestCase {
    private func yaml(route keys: String) -> String {
        minimalYAML + "\n" + keys
    }

    private func route(_ text: String) throws -> RouteConfig {
        let config = try ConfigLoader.load(yaml: text, sourcePath: "streamgate.yaml")
        return try XCTUnwrap(config.routes.first)
    }

    func testOffUnlessAsked() throws {
        XCTAssertNil(try route(minimalYAML).sse.resume)
        XCTAssertNil(try route(yaml(route: "    sse: { heartbeat_interval: 5s }")).sse.resume)
        XCTAssertNil(try route(yaml(route: "    sse: { resume: false }")).sse.resume)
    }

    func testDefaultsWhenOn() throws {
        let resume = try XCTUnwrap(try route(yaml(route: "    sse: { resume: true }")).sse.resume)
        XCTAssertEqual(resume, SSEResumeConfig(attempts: 3, backoff: .milliseconds(500), onEnd: false, maxEventBytes: 262_144))
    }

    func testEveryKey() throws {
        let sse = try route(yaml(route: """
                sse:
                  resume: true
                  resume_attempts: 7
                  resume_backoff: 1s500ms
                  resume_on_end: true
                  resume_max_event: 1MiB
            """)).sse
        XCTAssertEqual(sse.resume, SSEResumeConfig(attempts: 7, backoff: .milliseconds(1500), onEnd: true, maxEventBytes: 1_048_576))
        XCTAssertEqual(sse.heartbeatInterval, .seconds(15), "the other keys keep their defaults")
    }

    func testEveryValueWrongAtOnce() {
        assertErrors(yaml(route: """
                sse:
                  resume: true
                  resume_attempts: 0
                  resume_backoff: 0s
                  resume_on_end: sometimes
                  resume_max_event: 512
            """), [
            "streamgate.yaml:13: routes[0].sse.resume_attempts: must be in 1...100 (got 0)",
            "streamgate.yaml:14: routes[0].sse.resume_backoff: must be longer than 0s (the wait before a resume "
                + "attempt to the same server)",
            #"streamgate.yaml:15: routes[0].sse.resume_on_end: expected true or false, found "sometimes""#,
            "streamgate.yaml:16: routes[0].sse.resume_max_event: must be in 1KiB...16MiB (got 512)",
        ])
    }

    func testBoundsAndSpellings() {
        let table: [(String, String)] = [
            ("resume_attempts: 101", "resume_attempts: must be in 1...100 (got 101)"),
            ("resume_backoff: 31s", "resume_backoff: must be at most 30s (got 31s)"),
            ("resume_backoff: soon", #"resume_backoff: invalid duration "soon" (use e.g. 250ms, 15s, 5m, 1h)"#),
            ("resume_max_event: 17MiB", "resume_max_event: must be in 1KiB...16MiB (got 17MiB)"),
            ("resume_max_event: big", #"resume_max_event: invalid size "big" (use bytes, or e.g. 64KiB, 10MiB, 1GiB)"#),
        ]
        for (line, message) in table {
            assertErrors(yaml(route: "    sse:\n      resume: true\n      \(line)"), [
                "streamgate.yaml:13: routes[0].sse.\(message)",
            ])
        }
    }

    /// A resume setting without `resume: true` would silently do nothing: it is an error.
    func testSettingsWithoutResumeAreErrors() {
        assertErrors(yaml(route: "    sse:\n      resume_attempts: 5\n      resume_on_end: true"), [
            "streamgate.yaml:12: routes[0].sse.resume_attempts: has no effect without resume: true",
            "streamgate.yaml:13: routes[0].sse.resume_on_end: has no effect without resume: true",
        ])
        assertErrors(yaml(route: "    sse:\n      resume: false\n      resume_backoff: 1s"), [
            "streamgate.yaml:13: routes[0].sse.resume_backoff: has no effect without resume: true",
        ])
    }

    func testResumeMustBeABoolean() {
        assertErrors(yaml(route: "    sse: { resume: yes please }"), [
            #"streamgate.yaml:11: routes[0].sse.resume: expected true or false, found "yes please""#,
        ])
    }
}
