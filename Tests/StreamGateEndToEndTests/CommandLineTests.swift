import StreamGateTestSupport
import XCTest

/// `streamgate check`, `streamgate run` with a bad config, and `--version`.
final class CommandLineTests: EndToEndTestCase {
    private static let badConfig = """
        version: 1
        listeners:
          - name: plain
            address: 127.0.0.1:0
            colour: blue
        upstreams:
          - name: app
            servers: [127.0.0.1:9]
        routes:
          - match: { path_prefix: / }
            upstream: ap

        """

    func testCheckValidConfig() throws {
        let directory = try TemporaryDirectory()

        let result = try StreamGateCLI.check(yaml: ProxyConfigText.yaml(upstreamPorts: [9]), in: directory)

        XCTAssertEqual(result.exitCode, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("plain"), "summary does not name the listener: \(result.stdout)")
    }

    func testCheckReportsEveryErrorWithFileAndLine() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("streamgate.yaml").path

        let result = try StreamGateCLI.check(yaml: Self.badConfig, in: directory)

        XCTAssertEqual(result.exitCode, 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let unknownKey = lines.first { $0.hasPrefix("\(path):5: listeners[0]") && $0.contains("colour") }
        let badUpstream = lines.first { $0.hasPrefix("\(path):11: routes[0].upstream: ") && $0.contains("ap") }
        XCTAssertNotNil(unknownKey, "no error for the unknown key on line 5:\n\(result.stderr)")
        XCTAssertNotNil(badUpstream, "no error for the unknown upstream on line 11:\n\(result.stderr)")
    }

    func testRunWithBadConfigFails() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write(Self.badConfig, to: "streamgate.yaml")

        let result = try StreamGateCLI.run(["run", "--config", file.path], timeout: 10)

        XCTAssertFalse(result.timedOut, "streamgate run kept running with a bad config")
        XCTAssertNotEqual(result.exitCode, 0)
        XCTAssertTrue(result.stderr.contains("\(file.path):11:"), result.stderr)
    }

    func testVersion() throws {
        let result = try StreamGateCLI.run(["--version"])

        XCTAssertEqual(result.exitCode, 0, result.stderr)
        XCTAssertFalse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }
}
