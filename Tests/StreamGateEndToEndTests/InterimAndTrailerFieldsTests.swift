import StreamGateTestSupport
import XCTest

/// What an upstream sends around its final response head reaches the client: 103 Early Hints before it, and
/// trailer fields after the body. Trailer fields reach the client: over HTTP/2 as a trailing HEADERS frame that ends the stream, over
/// HTTP/1.1 after the last chunk. End-to-end fields pass; hop-by-hop ones (`keep-alive`) and those no trailer may
/// carry (`set-cookie`) do not.
final class InterimAndTrailerFieldsTests: EndToEndTestCase {
    func testEarlyHintsReachTheClientOverBothProtocols() throws {
        let (_, _, base) = try startOriginAndProxy()
        for version in ["--http1.1", "--http2-prior-knowledge"] {
            // curl -i prints every response head it gets, the 103 included.
            let result = try ProcessRunner.run(
                try ProcessRunner.findInPath("curl"),
                ["-sS", "-i", version, "--max-time", "5", "\(base)/early-hints"],
                timeout: 10
            )
            XCTAssertEqual(result.exitCode, 0, result.stderr)
            let text = result.stdout.lowercased()
            let hint = try XCTUnwrap(text.range(of: " 103"), "\(version): no 103 in\n\(result.stdout)")
            let final = try XCTUnwrap(text.range(of: " 200"), "\(version): no 200 in\n\(result.stdout)")
            XCTAssertLessThan(hint.lowerBound, final.lowerBound, result.stdout)
            XCTAssertTrue(text.contains("link: </style.css>; rel=preload; as=style"), result.stdout)
            XCTAssertTrue(text.hasSuffix("hinted"), result.stdout)
        }
    }

    func testTrailersReachAnHTTP2Client() throws {
        let (_, _, base) = try startOriginAndProxy()
        let nghttp = try ProcessRunner.findInPath("nghttp")

        let result = try ProcessRunner.run(nghttp, ["-v", "\(base)/trailers"], timeout: 10)

        XCTAssertFalse(result.timedOut)
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        let output = result.stdout
        // nghttp prints each received field as "recv (stream_id=N) name: value", then the HEADERS frame that carried
        // them; the trailers' fields and frame come after the DATA.
        let data = try XCTUnwrap(output.range(of: "recv DATA frame"), output)
        let trailerText = String(output[data.upperBound...])
        XCTAssertTrue(trailerText.contains("x-checksum: abc123"), trailerText)
        XCTAssertTrue(trailerText.contains("recv HEADERS frame"), trailerText)
        XCTAssertTrue(trailerText.contains("END_STREAM"), trailerText)
        XCTAssertFalse(trailerText.contains("keep-alive"), trailerText)
        XCTAssertFalse(trailerText.contains("set-cookie"), trailerText)
        XCTAssertTrue(output.contains("body"), output)
    }

    func testTrailersReachAnHTTP1ClientAfterTheLastChunk() throws {
        let (_, proxy, _) = try startOriginAndProxy()
        let reply = try RawConnection.exchange(
            port: try proxy.port(of: "plain"),
            request: "GET /trailers HTTP/1.1\r\nHost: app.test\r\nTE: trailers\r\nConnection: close\r\n\r\n"
        )
        XCTAssertTrue(reply.text.hasPrefix("HTTP/1.1 200"), reply.text)
        XCTAssertTrue(reply.text.lowercased().contains("transfer-encoding: chunked"), reply.text)
        XCTAssertTrue(reply.text.lowercased().hasSuffix("0\r\nx-checksum: abc123\r\n\r\n"), reply.text)
    }
}
