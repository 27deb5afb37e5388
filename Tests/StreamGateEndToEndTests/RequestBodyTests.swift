import Foundation
import StreamGateTestSupport
import XCTest

/// Request bodies stream up to the origin intact, with Content-Length or chunked, and come back from `/echo`.
final class RequestBodyTests: EndToEndTestCase {
    private func randomBody(size: Int) -> Data {
        var words = [UInt64](repeating: 0, count: size / 8)
        for index in words.indices {
            words[index] = .random(in: .min ... .max)
        }
        return words.withUnsafeBytes { Data($0) }
    }

    private func postEcho(_ body: Data, extra: [String]) throws -> CurlResponse {
        let (_, _, base) = try startOriginAndProxy()
        let directory = try TemporaryDirectory()
        let file = try directory.write(body, to: "body.bin")
        return try Curl.fetch(
            "\(base)/echo",
            ["-H", "Content-Type: application/octet-stream", "--data-binary", "@\(file.path)"] + extra,
            timeout: 10
        )
    }

    func testSmallBodyIsEchoedIntact() throws {
        let body = randomBody(size: 64 << 10)

        let response = try postEcho(body, extra: [])

        XCTAssertEqual(response.status, 200, response.stderr)
        XCTAssertTrue(response.body == body, "echoed body differs (\(response.body.count) bytes back)")
    }

    func testContentLengthBodyIsEchoedIntact() throws {
        let body = randomBody(size: 1 << 20)

        let response = try postEcho(body, extra: [])

        XCTAssertFalse(response.timedOut, "upload + echo not done in 10 s; got \(response.body.count) bytes back")
        XCTAssertEqual(response.exitCode, 0, response.stderr)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body.count, body.count)
        XCTAssertTrue(response.body == body, "echoed body differs")
    }

    func testChunkedBodyIsEchoedIntact() throws {
        let body = randomBody(size: 1 << 20)

        let response = try postEcho(body, extra: ["-H", "Transfer-Encoding: chunked"])

        XCTAssertFalse(response.timedOut, "upload + echo not done in 10 s; got \(response.body.count) bytes back")
        XCTAssertEqual(response.exitCode, 0, response.stderr)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body.count, body.count)
        XCTAssertTrue(response.body == body, "echoed body differs")
    }
}
