import StreamGateTestSupport
import XCTest

/// Keep-alive downstream, and upstream connections pooled: two requests, one connection on each side.
final class ConnectionReuseTests: EndToEndTestCase {
    func testTwoRequestsShareOneClientAndOneUpstreamConnection() throws {
        let (origin, _, base) = try startOriginAndProxy()

        let result = try Curl.run([
            "--write-out", "%{http_code} %{num_connects}\\n",
            "--output", "/dev/null", "\(base)/hello",
            "--output", "/dev/null", "\(base)/hello",
        ])

        XCTAssertEqual(result.exitCode, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ") }
        XCTAssertEqual(lines.map { $0.first.map(String.init) }, ["200", "200"])
        let connects = lines.compactMap { $0.last.flatMap { Int($0) } }.reduce(0, +)
        XCTAssertEqual(connects, 1, "curl opened \(connects) connections: \(result.stdout)")
        XCTAssertEqual(origin.connections.requestTargets, ["/hello", "/hello"])
        XCTAssertEqual(origin.connections.acceptedCount, 1, "the origin saw more than one upstream connection")
    }
}
