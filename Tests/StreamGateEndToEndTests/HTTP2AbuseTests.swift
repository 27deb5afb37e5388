import Foundation
import StreamGateTestSupport
import XCTest

/// HTTP/2 clients that break the protocol or flood it, each against the real binary over a real socket: what the
/// client gets (GOAWAY or RST_STREAM and its code, the connection closed) and how fast, and that a well-behaved
/// event stream on another connection keeps its events (and, for stream errors, a stream on the same connection).
final class HTTP2AbuseTests: AbuseTestCase {
    private static let protocolError: UInt32 = 0x1
    private static let flowControlError: UInt32 = 0x3
    private static let enhanceYourCalm: UInt32 = 0xB
    private static let compressionError: UInt32 = 0x9

    /// Waits for GOAWAY with `code` and the close after it; returns how long it took.
    @discardableResult
    private func expectGoAway(
        _ client: RawHTTP2Client,
        code: UInt32,
        since start: Date,
        reason: String? = nil,
        file: StaticString = #filePath,
        line: UInt = #line
    ) -> TimeInterval {
        XCTAssertTrue(
            Wait.until(timeout: 5) { client.goAwayCode != nil && client.isClosed },
            "no GOAWAY and close (GOAWAY \(client.goAwayCode.map(String.init) ?? "none"), closed \(client.isClosed))",
            file: file,
            line: line
        )
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(client.goAwayCode, code, "GOAWAY reason: \(client.goAwayReason ?? "")", file: file, line: line)
        if let reason {
            XCTAssertTrue(
                client.goAwayReason?.contains(reason) == true,
                "GOAWAY reason: \(client.goAwayReason ?? "none")",
                file: file,
                line: line
            )
        }
        return elapsed
    }

    // MARK: Stream ids

    func testHeadersOnASkippedLowerStreamIDIsAConnectionError() throws {
        let port = try startProxyWithBystander().port
        let client = try RawHTTP2Client(port: port)
        defer { client.close() }
        let open = client.get("/sse-resume?gap=100", streamID: 5)
        XCTAssertTrue(Self.waitForEvents(client, open, atLeast: 1))
        // Opening 5 closed 1 and 3 (RFC 9113 section 5.1.1): HEADERS on 3 now is a PROTOCOL_ERROR, not silence.
        let start = Date()
        client.get("/hello", streamID: 3)
        let elapsed = expectGoAway(client, code: Self.protocolError, since: start, reason: "HEADERS on stream 3")
        XCTAssertEqual(client.stream(3).headerBlocks, 0, "the skipped stream was answered")
        assertBystanderFlows()
        print("abuse: HEADERS on skipped stream id: GOAWAY PROTOCOL_ERROR in \(Self.milliseconds(elapsed))")
    }

    func testEvenAndZeroStreamIDsAreConnectionErrors() throws {
        let port = try startProxyWithBystander().port
        for id: UInt32 in [2, 0] {
            let client = try RawHTTP2Client(port: port)
            defer { client.close() }
            let start = Date()
            client.sendFrame(type: RawHTTP2Frame.headers, flags: 0x5, stream: id, payload: client.requestBlock(path: "/hello"))
            let elapsed = expectGoAway(client, code: Self.protocolError, since: start)
            print("abuse: HEADERS on stream \(id): GOAWAY PROTOCOL_ERROR in \(Self.milliseconds(elapsed))")
        }
        // DATA on a stream never opened.
        let client = try RawHTTP2Client(port: port)
        defer { client.close() }
        let start = Date()
        client.sendFrame(type: RawHTTP2Frame.data, flags: 0x1, stream: 7, payload: Array("body".utf8))
        let elapsed = expectGoAway(client, code: Self.protocolError, since: start)
        print("abuse: DATA on an idle stream: GOAWAY PROTOCOL_ERROR in \(Self.milliseconds(elapsed))")
        assertBystanderFlows()
    }

    // MARK: Floods

    func testRapidResetEndsWithEnhanceYourCalm() throws {
        let port = try startProxyWithBystander().port
        let client = try RawHTTP2Client(port: port)
        defer { client.close() }
        // 1,200 streams opened and cancelled at once (CVE-2023-44487), in one write.
        var bytes: [UInt8] = []
        for index in 0..<1_200 {
            let id = UInt32(1 + 2 * index)
            bytes += RawHTTP2Frame.bytes(type: RawHTTP2Frame.headers, flags: 0x5, stream: id, payload: client.requestBlock(path: "/hello"))
            bytes += RawHTTP2Frame.bytes(type: RawHTTP2Frame.rstStream, flags: 0, stream: id, payload: RawHTTP2Frame.uint32(8))
        }
        let start = Date()
        client.sendRaw(bytes)
        let elapsed = expectGoAway(client, code: Self.enhanceYourCalm, since: start, reason: "RST_STREAM")
        XCTAssertEqual(try limitHits("http2_flood"), 1)
        assertBystanderFlows()
        print("abuse: rapid reset x1200: GOAWAY ENHANCE_YOUR_CALM in \(Self.milliseconds(elapsed))")
    }

    func testContinuationFloodEndsWithEnhanceYourCalm() throws {
        let port = try startProxyWithBystander().port
        let client = try RawHTTP2Client(port: port)
        defer { client.close() }
        // One header block split over a HEADERS and 50 CONTINUATION frames, each carrying one small field.
        var bytes = RawHTTP2Frame.bytes(type: RawHTTP2Frame.headers, flags: 0x1, stream: 1, payload: client.requestBlock(path: "/hello"))
        for index in 0..<50 {
            let field = RawHPACK.literalBlock([("x-part-\(index)", "y")])
            bytes += RawHTTP2Frame.bytes(type: RawHTTP2Frame.continuation, flags: 0, stream: 1, payload: field)
        }
        let start = Date()
        client.sendRaw(bytes)
        let elapsed = expectGoAway(client, code: Self.enhanceYourCalm, since: start, reason: "CONTINUATION")
        XCTAssertEqual(client.stream(1).headerBlocks, 0)
        assertBystanderFlows()
        print("abuse: CONTINUATION flood: GOAWAY ENHANCE_YOUR_CALM in \(Self.milliseconds(elapsed))")
    }

    func testPingAndSettingsFloodsFromAClientThatNeverReadsAreCut() throws {
        let port = try startProxyWithBystander().port
        let pid = try XCTUnwrap(proxy?.processIdentifier)
        let residentBefore = try ProcessStatus.residentBytes(of: pid)
        for (name, frame) in [
            ("PING", RawHTTP2Frame.bytes(type: RawHTTP2Frame.ping, flags: 0, stream: 0, payload: Array(repeating: 7, count: 8))),
            ("SETTINGS", RawHTTP2Frame.bytes(type: RawHTTP2Frame.settings, flags: 0, stream: 0, payload: [])),
        ] {
            let client = try RawHTTP2Client(port: port, readsSocket: false)
            defer { client.close() }
            let hitsBefore = try limitHits("http2_flood")
            let start = Date()
            // Every frame asks for an ACK the client never reads: 20,000 per round, up to 40 rounds (about 14 MB),
            // until the server gives up on the connection.
            let batch = Array([[UInt8]](repeating: frame, count: 20_000).joined())
            for _ in 0..<40 where !client.isClosed {
                client.sendRaw(batch)
                if Wait.until(timeout: 0.1, { (try? self.limitHits("http2_flood")) ?? 0 > hitsBefore }) { break }
            }
            XCTAssertTrue(
                Wait.until(timeout: 5) { (try? self.limitHits("http2_flood")) ?? 0 > hitsBefore },
                "the \(name) flood was never cut"
            )
            let elapsed = Date().timeIntervalSince(start)
            client.startReadingSocket()
            XCTAssertTrue(client.waitForClose(timeout: 5), "the \(name) flooder is still connected")
            print("abuse: \(name) flood, never reading: cut (http2_flood) in \(Self.milliseconds(elapsed)), GOAWAY \(client.goAwayCode.map { String($0) } ?? "not read")")
        }
        let residentAfter = try ProcessStatus.residentBytes(of: pid)
        if !Sanitizers.active {  // A sanitizer's shadow memory and quarantine count in RSS.
            XCTAssertLessThan(residentAfter - residentBefore, 64 << 20, "RSS \(residentBefore) -> \(residentAfter)")
        }
        assertBystanderFlows()
    }

    func testTooManySettingsInOneFrameIsCut() throws {
        let port = try startProxyWithBystander().port
        let client = try RawHTTP2Client(port: port)
        defer { client.close() }
        // 40 entries in one SETTINGS frame (the limit is 32).
        let payload = (0..<40).flatMap { _ in [0x00, 0x03] + RawHTTP2Frame.uint32(100) }
        let start = Date()
        client.sendFrame(type: RawHTTP2Frame.settings, flags: 0, stream: 0, payload: payload)
        XCTAssertTrue(Wait.until(timeout: 5) { client.goAwayCode != nil && client.isClosed })
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(client.goAwayCode, Self.enhanceYourCalm, client.goAwayReason ?? "")
        assertBystanderFlows()
        print("abuse: SETTINGS with 40 entries: GOAWAY \(client.goAwayCode.map { String($0) } ?? "none") in \(Self.milliseconds(elapsed))")
    }

    // MARK: Header blocks and windows

    func testHPACKBombIsAnswered431AndSparesTheConnection() throws {
        let port = try startProxyWithBystander().port
        let client = try RawHTTP2Client(port: port)
        defer { client.close() }
        let neighbour = client.get("/sse-resume?gap=100")
        XCTAssertTrue(Self.waitForEvents(client, neighbour, atLeast: 1))
        // A 4,000-byte field put in the dynamic table once, then referenced 500 times by a one-byte index: 2 MB of
        // header list from a 4 KB block.
        var block = client.requestBlock(path: "/hello")
        block += RawHPACK.indexedLiteral(name: "x-bomb", value: String(repeating: "b", count: 4_000))
        block += [UInt8](repeating: 0x80 | 62, count: 500)
        let start = Date()
        client.sendFrame(type: RawHTTP2Frame.headers, flags: 0x5, stream: 3, payload: block)
        XCTAssertTrue(client.waitForStream(3, timeout: 5) { $0.ended || $0.resetCode != nil }, "the bomb was not answered")
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(client.stream(3).status, 431)
        XCTAssertNil(client.goAwayCode)
        // The stream beside it on the same connection goes on.
        XCTAssertTrue(Self.waitForEvents(client, neighbour, atLeast: Self.events(client, neighbour) + 3), "the neighbour stalled")
        assertBystanderFlows()
        print("abuse: HPACK bomb (2 MB list from 4 KB): 431 on its stream in \(Self.milliseconds(elapsed)), connection kept")
    }

    /// One field larger than the HPACK decoder takes (64 KiB, libnghttp2's fixed limit, above the default
    /// `max_header_bytes`): the decoder cannot skip it and keep its table in step with the client's, so this is a
    /// connection error (RFC 9113 4.3), GOAWAY COMPRESSION_ERROR, as from every nghttp2-based server; other
    /// connections are untouched.
    func testASingleFieldOverTheDecoderLimitIsACompressionError() throws {
        let port = try startProxyWithBystander().port
        let client = try RawHTTP2Client(port: port)
        defer { client.close() }
        let block = client.requestBlock(path: "/hello") + RawHPACK.literalBlock([("x-huge", String(repeating: "h", count: 70_000))])
        var bytes: [UInt8] = []
        for (index, start) in stride(from: 0, to: block.count, by: 16_384).enumerated() {
            let piece = Array(block[start..<min(start + 16_384, block.count)])
            let last = start + 16_384 >= block.count
            let type = index == 0 ? RawHTTP2Frame.headers : RawHTTP2Frame.continuation
            bytes += RawHTTP2Frame.bytes(type: type, flags: (index == 0 ? 0x1 : 0) | (last ? 0x4 : 0), stream: 1, payload: piece)
        }
        let start = Date()
        client.sendRaw(bytes)
        let elapsed = expectGoAway(client, code: Self.compressionError, since: start)
        XCTAssertTrue(
            Wait.until(timeout: 2) { self.proxy?.log.contains("cannot be decoded (HPACK)") == true },
            "no log line says why the connection ended"
        )
        assertBystanderFlows()
        print("abuse: one 70,000-byte field: GOAWAY COMPRESSION_ERROR in \(Self.milliseconds(elapsed)) (\(client.goAwayReason ?? ""))")
    }

    func testWindowOverflowIsAFlowControlError() throws {
        let port = try startProxyWithBystander().port
        // On a stream: RST_STREAM FLOW_CONTROL_ERROR, the connection stays.
        let client = try RawHTTP2Client(port: port)
        defer { client.close() }
        let stream = client.get("/sse-resume?gap=100")
        XCTAssertTrue(Self.waitForEvents(client, stream, atLeast: 1))
        let neighbour = client.get("/sse-resume?gap=100")
        var start = Date()
        client.sendFrame(type: RawHTTP2Frame.windowUpdate, flags: 0, stream: stream, payload: RawHTTP2Frame.uint32(0x7FFF_FFFF))
        XCTAssertTrue(client.waitForStream(stream, timeout: 5) { $0.resetCode != nil })
        let streamElapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(client.stream(stream).resetCode, Self.flowControlError)
        XCTAssertTrue(Self.waitForEvents(client, neighbour, atLeast: Self.events(client, neighbour) + 3), "the neighbour stalled")
        XCTAssertNil(client.goAwayCode)

        // On the connection: GOAWAY FLOW_CONTROL_ERROR.
        start = Date()
        client.sendFrame(type: RawHTTP2Frame.windowUpdate, flags: 0, stream: 0, payload: RawHTTP2Frame.uint32(0x7FFF_FFFF))
        let connectionElapsed = expectGoAway(client, code: Self.flowControlError, since: start)
        assertBystanderFlows()
        print("abuse: stream window overflow: RST_STREAM FLOW_CONTROL_ERROR in \(Self.milliseconds(streamElapsed)); connection window overflow: GOAWAY FLOW_CONTROL_ERROR in \(Self.milliseconds(connectionElapsed))")
    }

    // MARK: Preface

    func testWrongPrefaceIsClosed() throws {
        let port = try startProxyWithBystander().port
        let client = try RawHTTP2Client(port: port, preface: false)
        defer { client.close() }
        let start = Date()
        client.sendRaw(Array("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".utf8) + [UInt8](repeating: 0, count: 32))
        XCTAssertTrue(client.waitForClose(timeout: 5), "a wrong preface was held open")
        let elapsed = Date().timeIntervalSince(start)
        assertBystanderFlows()
        print("abuse: wrong HTTP/2 preface: closed in \(Self.milliseconds(elapsed)), GOAWAY \(client.goAwayCode.map { String($0) } ?? "none")")
    }
}
