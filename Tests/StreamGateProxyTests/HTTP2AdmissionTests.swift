import NIOCore
import NIOEmbedded
import StreamGateHTTP2
import XCTest

@testable import StreamGateProxy

/// What the HTTP/2 downstream answers itself, through the real nghttp2 server session on an `EmbeddedChannel`
/// and an nghttp2 client session on the other side: the same admission as HTTP/1.1 (404, 400, 403, 501), as
/// responses on their own streams while the connection serves on.
final class HTTP2AdmissionTests: XCTestCase {
    /// What the client session heard, per stream.
    private final class Recorder: HTTP2ClientSessionDelegate {
        var status: [Int32: Int] = [:]
        var body: [Int32: String] = [:]
        var ended: Set<Int32> = []
        var resets: [Int32: UInt32] = [:]
        var goaway: UInt32?

        func streamReceivedStatus(_ streamID: Int32, status: Int) { self.status[streamID] = status }
        func streamReceivedData(_ streamID: Int32, bytes: UnsafeRawBufferPointer) {
            body[streamID, default: ""] += String(decoding: bytes, as: UTF8.self)
        }
        func streamEnded(_ streamID: Int32) { ended.insert(streamID) }
        func streamClosed(_ streamID: Int32, errorCode: UInt32) {
            if errorCode != 0 { resets[streamID] = errorCode }
        }
        func receivedGoaway(errorCode: UInt32, lastStreamID: Int32) { goaway = errorCode }
    }

    private var downstream: EmbeddedDownstream!
    private var client: HTTP2ClientSession!
    private let recorder = Recorder()

    override func setUpWithError() throws {
        downstream = try EmbeddedDownstream(.http2)
        client = try HTTP2ClientSession()
        client.delegate = recorder
        try pump()  // prefaces and SETTINGS both ways
    }

    /// Moves bytes both ways until neither side has more to say.
    private func pump() throws {
        for _ in 0..<20 {
            var toServer: [UInt8] = []
            try client.drainOutput(into: &toServer)
            if !toServer.isEmpty {
                try downstream.channel.writeInbound(downstream.channel.allocator.buffer(bytes: toServer))
            }
            downstream.channel.embeddedEventLoop.run()
            var heard = false
            while let buffer = try downstream.channel.readOutbound(as: ByteBuffer.self) {
                heard = true
                try buffer.withUnsafeReadableBytes { try client.receive($0) }
            }
            if toServer.isEmpty && !heard { return }
        }
    }

    private func request(_ method: String, _ path: String, extra: [(String, String)] = []) throws -> Int32 {
        // A plain CONNECT carries only :method and :authority (RFC 9113 section 8.5).
        let plainConnect = method == "CONNECT" && extra.isEmpty
        var fields = [(":method", method), (":authority", "api.example.com")]
        if !plainConnect {
            fields += [(":scheme", "http"), (":path", path)]
        }
        let id = client.submitRequest(fields + extra)
        XCTAssertGreaterThan(id, 0, "nghttp2 refused the request")
        try pump()
        return id
    }

    func testHostThatDisagreesWithAuthorityOrTwiceIs400() throws {
        let disagreeing = try request("GET", "/api/x", extra: [("host", "other.example")])
        XCTAssertEqual(recorder.status[disagreeing], 400)
        XCTAssertEqual(recorder.body[disagreeing], "400 Bad Request: more than one Host header\n")
        // nghttp2 itself refuses a second Host field: the stream is reset (PROTOCOL_ERROR), the connection lives.
        let twice = try request("GET", "/api/x", extra: [("host", "api.example.com"), ("host", "api.example.com")])
        XCTAssertEqual(recorder.status[twice] ?? 400, 400, "\(recorder.status)")
        if recorder.status[twice] == nil {
            XCTAssertEqual(recorder.resets[twice], 1, "neither a 400 nor a reset: \(recorder.resets)")
        }
        XCTAssertTrue(downstream.channel.isActive)
    }

    func testEachRefusalIsAnAnswerOnItsOwnStream() throws {
        let noRoute = try request("GET", "/elsewhere")
        let head = try request("HEAD", "/elsewhere")
        let dots = try request("GET", "/api/%2E%2E/secret")
        let connect = try request("CONNECT", "")
        let origin = try request(
            "CONNECT",
            "/api/ws",
            extra: [(":protocol", "websocket"), ("origin", "https://evil.example")]
        )

        XCTAssertEqual(recorder.status[noRoute], 404)
        XCTAssertEqual(recorder.body[noRoute], "404 Not Found: no route for api.example.com/elsewhere\n")
        XCTAssertEqual(recorder.status[head], 404)
        XCTAssertNil(recorder.body[head], "a HEAD answer carries no body")
        XCTAssertEqual(recorder.status[dots], 400)
        XCTAssertEqual(recorder.body[dots], "400 Bad Request: request path contains a dot segment\n")
        XCTAssertEqual(recorder.status[connect], 501)
        XCTAssertEqual(recorder.body[connect], "501 Not Implemented: CONNECT is not supported\n")
        XCTAssertEqual(recorder.status[origin], 403)
        XCTAssertEqual(recorder.body[origin], "403 Forbidden: WebSocket origin https://evil.example is not allowed\n")

        XCTAssertEqual(recorder.ended, [noRoute, head, dots, connect, origin])
        XCTAssertEqual(recorder.resets, [:])
        XCTAssertNil(recorder.goaway)
        XCTAssertTrue(downstream.channel.isActive, "the connection serves on")
        XCTAssertEqual(downstream.proxy.registry.loopTotals(downstream.channel)[.http, .local], 5)
        XCTAssertEqual(downstream.connection.protocolName, "h2")
    }
}
