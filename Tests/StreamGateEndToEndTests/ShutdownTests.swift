import StreamGateTestSupport
import XCTest

/// SIGTERM stops an idle proxy cleanly.
final class ShutdownTests: EndToEndTestCase {
    func testSigtermWithNoStreamsExitsZero() throws {
        let (_, proxy, base) = try startOriginAndProxy()
        XCTAssertEqual(try Curl.fetch("\(base)/hello").status, 200)

        let result = proxy.stop(timeout: 3)

        XCTAssertFalse(result.timedOut, "still running 3 s after SIGTERM; log:\n\(result.stderr)")
        XCTAssertEqual(result.exitCode, 0, result.stderr)
    }
}
