import Foundation
import XCTest

@testable import StreamGateConfig

/// The operator-facing blocks around the proxy: `admin` (address, token, token_file), `log`, `access_log` and the
/// optional `name` of a route. `minimalYAML` ends on line 10; blocks appended start on line 11.
final class ObservabilityConfigTests: XCTestCase {
    private func load(_ text: String, sourcePath: String = "streamgate.yaml") throws -> StreamGateConfiguration {
        try ConfigLoader.load(yaml: text, sourcePath: sourcePath)
    }

    func testAdminTokenInline() throws {
        let config = try load(minimalYAML + "\nadmin: { address: \"0.0.0.0:9901\", token: s3cret }")
        XCTAssertEqual(config.admin?.token, "s3cret")
        XCTAssertEqual(config.admin?.address, HostPort(host: "0.0.0.0", port: 9901))
        XCTAssertTrue(ConfigSummary.render(config).contains("admin: 0.0.0.0:9901 (token required)"))
        XCTAssertFalse(ConfigSummary.render(config).contains("s3cret"), "the summary never shows the token")
    }

    func testAdminTokenFromAFileNextToTheConfig() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sg-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "  from-file\n".write(to: folder.appendingPathComponent("admin.token"), atomically: true, encoding: .utf8)
        try "\n".write(to: folder.appendingPathComponent("empty.token"), atomically: true, encoding: .utf8)
        let source = folder.appendingPathComponent("streamgate.yaml").path

        let config = try load(minimalYAML + "\nadmin: { address: \"[::]:9901\", token_file: admin.token }", sourcePath: source)
        XCTAssertEqual(config.admin?.token, "from-file")

        XCTAssertThrowsError(try load(minimalYAML + "\nadmin: { address: 127.0.0.1:9901, token_file: empty.token }", sourcePath: source)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(":11: admin.token_file:") && text.contains("holds no token"), text)
        }
        XCTAssertThrowsError(try load(minimalYAML + "\nadmin: { address: 127.0.0.1:9901, token_file: missing.token }", sourcePath: source)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(":11: admin.token_file: cannot read") && text.contains("no such file"), text)
        }
    }

    func testNonLoopbackAdminWithoutTokenIsRefused() {
        for address in ["0.0.0.0:9901", "\"[::]:9901\"", "192.0.2.10:9901"] {
            XCTAssertEqual(
                loadErrors(minimalYAML + "\nadmin:\n  address: \(address)"),
                ["streamgate.yaml:12: admin.address: admin on non-loopback address \(address.replacingOccurrences(of: "\"", with: "")) needs admin.token or admin.token_file"]
            )
        }
        for address in ["127.0.0.1:9901", "localhost:9901", "\"[::1]:9901\"", "127.0.0.2:0"] {
            XCTAssertNoThrow(try load(minimalYAML + "\nadmin:\n  address: \(address)"), address)
        }
    }

    func testTokenAndTokenFileTogetherOrAnEmptyTokenAreErrors() {
        XCTAssertEqual(
            loadErrors(minimalYAML + "\nadmin:\n  address: 127.0.0.1:9901\n  token: a\n  token_file: b"),
            ["streamgate.yaml:14: admin.token_file: give token or token_file, not both"]
        )
        XCTAssertEqual(
            loadErrors(minimalYAML + "\nadmin:\n  address: 127.0.0.1:9901\n  token: \"\""),
            ["streamgate.yaml:13: admin.token: must not be empty"]
        )
    }

    func testLogBlock() throws {
        XCTAssertEqual(try load(minimalYAML).log, LogConfig(format: .text, level: "info"))
        XCTAssertEqual(try load(minimalYAML + "\nlog: { format: json, level: debug }").log, LogConfig(format: .json, level: "debug"))
        XCTAssertEqual(
            loadErrors(minimalYAML + "\nlog:\n  format: yaml\n  level: loud"),
            [
                "streamgate.yaml:12: log.format: invalid value \"yaml\" (expected one of: text, json)",
                "streamgate.yaml:13: log.level: unknown level \"loud\" (expected one of: trace, debug, info, notice, warning, error, critical)",
            ]
        )
    }

    func testAccessLogBlock() throws {
        XCTAssertNil(try load(minimalYAML).accessLog)
        XCTAssertEqual(try load(minimalYAML + "\naccess_log: {}").accessLog, AccessLogConfig(destination: .standardOutput, format: .text))
        XCTAssertEqual(try load(minimalYAML + "\naccess_log: { path: stderr, format: json }").accessLog, AccessLogConfig(destination: .standardError, format: .json))
    }

    func testAccessLogFileNeedsAnExistingFolder() throws {
        XCTAssertEqual(
            loadErrors(minimalYAML + "\naccess_log:\n  path: /nonexistent-folder/access.log"),
            ["streamgate.yaml:12: access_log.path: folder \"/nonexistent-folder\" does not exist"]
        )
        let config = try load(minimalYAML + "\naccess_log: { path: access.log }", sourcePath: "/tmp/streamgate.yaml")
        XCTAssertEqual(config.accessLog?.destination, .file("/tmp/access.log"))
    }

    func testRouteNames() throws {
        let named = minimalYAML.replacingOccurrences(of: "  - match: { path_prefix: / }", with: "  - name: everything\n    match: { path_prefix: / }")
        XCTAssertEqual(try load(named).routes.first?.name, "everything")
        let twice = named + "\n  - name: everything\n    match: { path_prefix: /x/ }\n    upstream: app"
        XCTAssertEqual(
            loadErrors(twice),
            ["streamgate.yaml:12: routes[1].name: duplicate route name \"everything\" (already used by routes[0])"]
        )
    }
}

/// The `drain` block: defaults, every value, and each bad one at its line.
final class DrainConfigTests: XCTestCase {
    private func load(_ drain: String) throws(ConfigErrors) -> StreamGateConfiguration {
        try ConfigLoader.load(yaml: exampleYAML + "\ndrain: \(drain)\n", sourcePath: "conf/drain.yaml")
    }

    func testDefaultsAndEveryValue() throws {
        XCTAssertEqual(try ConfigLoader.load(yaml: exampleYAML, sourcePath: "x.yaml").drain, DrainConfig())
        XCTAssertEqual(
            try load("{ timeout: 1m, spread: 20s, sse_retry: 500ms, websocket_close_code: 4001 }").drain,
            DrainConfig(timeout: .seconds(60), spread: .seconds(20), sseRetry: .milliseconds(500), webSocketCloseCode: 4001)
        )
        XCTAssertEqual(try load("{ timeout: 6s }").drain.spread, .seconds(3), "spread defaults to half a short timeout")
        XCTAssertNil(try load("{ sse_retry: 0s }").drain.sseRetry, "0s sends no retry")
        XCTAssertEqual(try load("{ grace: 2s, timeout: 10s, spread: 8s }").drain.grace, .seconds(2))
        XCTAssertEqual(
            try load("{ grace: 2s, timeout: 10s }").drain.spread, .seconds(4),
            "spread defaults to half of what a short timeout leaves after the grace"
        )
    }

    func testBadValuesAreErrorsAtTheirKeys() {
        for (drain, key, message) in [
            ("{ timeout: 5s, spread: 10s }", "drain.spread", "must not be longer than drain.timeout (5s)"),
            ("{ grace: 5s, timeout: 5s }", "drain.grace", "must be shorter than drain.timeout (5s)"),
            ("{ grace: 3s, timeout: 10s, spread: 8s }", "drain.spread", "drain.timeout (10s) less drain.grace (3s)"),
            ("{ grace: later }", "drain.grace", "invalid duration"),
            ("{ websocket_close_code: 1006 }", "drain.websocket_close_code", "1006 is not a Close code"),
            ("{ websocket_close_code: 999 }", "drain.websocket_close_code", "999 is not a Close code"),
            ("{ sse_retry: 1500us }", "drain.sse_retry", "must be a whole number of milliseconds"),
            ("{ timeout: soon }", "drain.timeout", "invalid duration"),
            ("{ jitter: 1s }", "drain.jitter", "unknown key"),
        ] {
            XCTAssertThrowsError(try load(drain), drain) { error in
                let errors = (error as? ConfigErrors)?.errors ?? []
                XCTAssertEqual(errors.map(\.keyPath), [key], "\(drain): \(errors)")
                XCTAssertTrue(errors.first?.message.contains(message) ?? false, "\(drain): \(errors)")
                XCTAssertNotNil(errors.first?.line, "\(drain): no line")
            }
        }
    }
}
