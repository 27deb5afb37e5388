import StreamGateTestSupport
import XCTest

/// `streamgate check`, `streamgate run` with a bad config, `--version`, and where a config is looked for without
/// `--config`.
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

    /// `streamgate ARGUMENTS` run from `directory` (a shell `cd`, then `exec`).
    private func runStreamGate(_ arguments: [String], from directory: TemporaryDirectory) throws -> ProcessResult {
        let binary = try StreamGateBinary.url().path
        let command = "cd '\(directory.url.path)' && exec '\(binary)' " + arguments.map { "'\($0)'" }.joined(separator: " ")
        return try ProcessRunner.run(URL(fileURLWithPath: "/bin/sh"), ["-c", command], timeout: 10)
    }

    func testWithoutConfigTheWorkingDirectoryIsSearchedAndNamed() throws {
        let empty = try TemporaryDirectory()
        let none = try runStreamGate(["check"], from: empty)
        XCTAssertEqual(none.exitCode, 1, none.stdout)
        XCTAssertTrue(
            none.stderr.contains(
                "no configuration file: looked for streamgate.yaml, conf/streamgate.yaml, /etc/streamgate/streamgate.yaml"
            ) && none.stderr.contains("pass --config FILE"),
            none.stderr
        )

        let nested = try TemporaryDirectory()
        try FileManager.default.createDirectory(at: nested.file("conf"), withIntermediateDirectories: true)
        _ = try nested.write(ProxyConfigText.yaml(upstreamPorts: [9]), to: "conf/streamgate.yaml")
        let fromConf = try runStreamGate(["check"], from: nested)
        XCTAssertEqual(fromConf.exitCode, 0, fromConf.stderr)
        XCTAssertTrue(fromConf.stderr.contains("using configuration conf/streamgate.yaml"), fromConf.stderr)

        // ./streamgate.yaml comes first; a broken one is reported as the file it is.
        _ = try nested.write(Self.badConfig, to: "streamgate.yaml")
        let first = try runStreamGate(["check"], from: nested)
        XCTAssertEqual(first.exitCode, 1)
        XCTAssertTrue(first.stderr.contains("using configuration streamgate.yaml"), first.stderr)
        XCTAssertTrue(first.stderr.contains("streamgate.yaml:5: listeners[0]"), first.stderr)
        XCTAssertTrue(first.stderr.contains("error(s) in streamgate.yaml"), first.stderr)
    }

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
