import Foundation
import StreamGateTestSupport
import XCTest

/// `examples/systemd/streamgate.service`, pointed at the binary just built: `systemd-analyze verify` accepts it
/// without a single warning (an unknown or misspelt key is only a warning there, so the test insists on silence),
/// its commands run the CLI as the unit does, and `systemd-analyze security` keeps its exposure at 1.8 ("OK") or
/// lower. No systemd runs as PID 1 on the test machines, so the unit is not started here.
final class ExampleSystemdTests: XCTestCase {
    private static let unit = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/systemd/streamgate.service")

    private func unitForThisBuild(in directory: TemporaryDirectory) throws -> URL {
        let text = try String(contentsOf: Self.unit, encoding: .utf8)
        XCTAssertTrue(text.contains("ExecStart=/usr/local/bin/streamgate run --config /etc/streamgate/streamgate.yaml"))
        return try directory.write(
            text.replacingOccurrences(of: "/usr/local/bin/streamgate", with: try StreamGateBinary.url().path),
            to: "streamgate.service"
        )
    }

    func testUnitVerifiesWithoutWarnings() throws {
        let analyze = try ProcessRunner.findInPath("systemd-analyze")
        let directory = try TemporaryDirectory(prefix: "streamgate-systemd")
        let unit = try unitForThisBuild(in: directory)
        let verify = try ProcessRunner.run(analyze, ["verify", "--man=no", unit.path], timeout: 30)
        XCTAssertEqual(verify.exitCode, 0, verify.stderr)
        XCTAssertEqual(verify.stderr.trimmingCharacters(in: .whitespacesAndNewlines), "", "warnings about the unit")

        // The check fails on a misspelt key: proof that silence above means something.
        let misspelt = try directory.write(
            try String(contentsOf: unit, encoding: .utf8).replacingOccurrences(of: "NoNewPrivileges=", with: "NoNewPrivilege="),
            to: "misspelt.service"
        )
        let warned = try ProcessRunner.run(analyze, ["verify", "--man=no", misspelt.path], timeout: 30)
        XCTAssertTrue(warned.stderr.contains("Unknown key 'NoNewPrivilege'"), warned.stderr)
    }

    func testUnitExposureStaysLow() throws {
        let analyze = try ProcessRunner.findInPath("systemd-analyze")
        let directory = try TemporaryDirectory(prefix: "streamgate-systemd")
        let unit = try unitForThisBuild(in: directory)
        // --threshold is on the 0-100 scale: 18 is the 1.8 the README quotes.
        let security = try ProcessRunner.run(
            analyze, ["security", "--offline=true", "--threshold=18", unit.path], timeout: 30
        )
        XCTAssertEqual(security.exitCode, 0, security.stdout + security.stderr)
        XCTAssertTrue(security.stdout.contains("Overall exposure level for streamgate.service: 1.8 OK"), security.stdout)
    }

    func testUnitCommandsRunAsWritten() throws {
        // ExecStartPre is `streamgate check --config FILE`: with the bundled config it passes, as a start would.
        let directory = try TemporaryDirectory(prefix: "streamgate-systemd")
        let text = try String(contentsOf: Self.unit, encoding: .utf8)
        let pre = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("ExecStartPre=") })
        let arguments = pre.dropFirst("ExecStartPre=/usr/local/bin/streamgate ".count).split(separator: " ").map(String.init)
        XCTAssertEqual(arguments, ["check", "--config", "/etc/streamgate/streamgate.yaml"])
        let bundled = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("conf/streamgate.yaml")
        let config = try directory.write(try String(contentsOf: bundled, encoding: .utf8), to: "streamgate.yaml")
        let check = try StreamGateCLI.run(["check", "--config", config.path])
        XCTAssertEqual(check.exitCode, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("configuration is valid"), check.stdout)
    }
}
