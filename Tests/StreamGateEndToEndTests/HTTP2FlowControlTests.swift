import StreamGateTestSupport
import XCTest

/// HTTP/2 flow control per stream (RFC 9113 section 5.2): a client that stops reading one stream holds back that
/// stream only; the other streams of the connection keep flowing, and the stalled one resumes when read again.
final class HTTP2FlowControlTests: EndToEndTestCase {
    func testStalledStreamDoesNotHoldBackAnotherStreamOnTheSameConnection() throws {
        let (_, proxy, _) = try startOriginAndProxy()
        let client = try RawHTTP2Client(port: try proxy.port(of: "plain"), initialWindowSize: 65_535)
        defer { client.close() }
        let bulkBytes = 4 << 20
        let window = 65_535

        // The slow reader: never reopens this stream's window, so after 64 KiB the proxy must stop sending it.
        let slow = client.get("/bulk?bytes=\(bulkBytes)", readsAutomatically: false)
        let filled = client.waitForStream(slow, timeout: 10) { $0.data.count >= window || $0.ended }
        XCTAssertTrue(filled, "the slow stream's window never filled: \(client.stream(slow).data.count) bytes")

        // The fast reader on the same connection: all its events and its end arrive while the other stream waits.
        let fast = client.get("/sse?count=5")
        let finished = client.waitForStream(fast, timeout: 15) { $0.ended || $0.resetCode != nil }
        let fastState = client.stream(fast)
        let events = String(decoding: fastState.data, as: UTF8.self).split(separator: "\n")
            .compactMap { OriginEvent.parse(dataLine: String($0)) }
        XCTAssertTrue(finished, "the fast stream did not finish while the slow one waited; \(events.count) events")
        XCTAssertNil(fastState.resetCode)
        XCTAssertEqual(events.map(\.seq), [1, 2, 3, 4, 5])

        let stalled = client.stream(slow)
        XCTAssertFalse(stalled.ended, "the slow stream ended without being read")
        XCTAssertNil(stalled.resetCode, "the slow stream was reset")
        XCTAssertEqual(stalled.data.count, window, "the proxy sent beyond the stream's window or stopped short")

        // Reading again: the rest of the body arrives, intact.
        client.resumeReading(slow, bytes: bulkBytes)
        let completed = client.waitForStream(slow, timeout: 30) { $0.ended || $0.resetCode != nil }
        let done = client.stream(slow)
        XCTAssertTrue(completed, "the slow stream did not complete after reading resumed: \(done.data.count) bytes")
        XCTAssertNil(done.resetCode)
        XCTAssertEqual(done.data.count, bulkBytes)
        XCTAssertFalse(done.data.contains { $0 != UInt8(ascii: "x") }, "the body was corrupted")
        XCTAssertNil(client.goAwayCode)
    }
}
