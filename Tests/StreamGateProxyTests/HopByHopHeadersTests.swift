import NIOCore
import NIOHTTP1
import XCTest

@testable import StreamGateProxy

final class HopByHopHeadersTests: XCTestCase {
    func testStripsFixedSetAndConnectionListedNames() {
        var headers = HTTPHeaders([
            ("Connection", "keep-alive, X-Hop"),
            ("X-Hop", "1"),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Connection", "keep-alive"),
            ("TE", "trailers"),
            ("Trailer", "X-T"),
            ("Transfer-Encoding", "chunked"),
            ("Upgrade", "h2c"),
            ("X-End-To-End", "kept"),
        ])
        HopByHopHeaders.strip(&headers)
        XCTAssertEqual(headers.map(\.name), ["X-End-To-End"])
    }

    func testRequestRewriterForwardsAndReframes() throws {
        let head = HTTPRequestHead(
            version: .http1_0,
            method: .POST,
            uri: "/up",
            headers: ["Host": "a.test", "X-Forwarded-For": "10.0.0.1", "Transfer-Encoding": "chunked"]
        )
        let client = try SocketAddress(ipAddress: "127.0.0.1", port: 5555)
        let rewritten = RequestHeaderRewriter(scheme: "https")
            .upstreamHead(for: head, clientAddress: client, bodyIsChunked: true)
        XCTAssertEqual(rewritten.version, .http1_1)
        XCTAssertEqual(rewritten.headers["x-forwarded-for"], ["10.0.0.1, 127.0.0.1"])
        XCTAssertEqual(rewritten.headers["x-forwarded-proto"], ["https"])
        XCTAssertEqual(rewritten.headers["x-forwarded-host"], ["a.test"])
        XCTAssertEqual(rewritten.headers["host"], ["a.test"])
        XCTAssertEqual(rewritten.headers["transfer-encoding"], ["chunked"])
    }
}
