import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest

@_spi(Fuzzing) @testable import StreamGateProxy

/// `UpstreamResponseFramer` and `HTTP1ResponseBody` against NIO's response decoder (llhttp) on the same bytes: a
/// table of framing and smuggling cases, then thousands of generated and mutated responses cut at random points.
final class UpstreamResponseFramingTests: XCTestCase {
    private typealias Part = UpstreamResponseFuzzing.Transcript.Part

    // MARK: Cases with a known answer

    func testChunkedBodyWithExtensionsAndTrailersMatchesTheReference() {
        let response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Checksum: 42 \r\nGrpc-Status: 0\r\n\r\n"
        let outcome = agreed(response)
        XCTAssertNil(outcome.streamGate.failure)
        XCTAssertEqual(outcome.streamGate.parts.dropFirst().first, .body(Array("hello, world!!!".utf8)))
        XCTAssertEqual(outcome.streamGate.parts.last, .end(["x-checksum: 42", "grpc-status: 0"]))
    }

    func testContentLengthBodyEndsAtItsLength() {
        let outcome = agreed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        XCTAssertEqual(outcome.streamGate.parts.count, 3)
        XCTAssertEqual(outcome.streamGate.parts.last, .end([]))
    }

    func testABodyWithoutLengthEndsWhenTheConnectionCloses() {
        let outcome = agreed("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\ndata: 2\n\n")
        XCTAssertNil(outcome.streamGate.failure)
        XCTAssertEqual(outcome.streamGate.parts.last, .end([]))
    }

    func testInterimHeadsAndBodilessAnswersStayWithTheDecoder() {
        let interim = agreed("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        XCTAssertEqual(interim.streamGate.parts.count, 4)
        let noContent = agreed("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n")
        XCTAssertEqual(noContent.streamGate.parts.last, .end([]))
        let head = UpstreamResponseFuzzing.compare(
            method: .HEAD, response: Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".utf8), pieces: []
        )
        XCTAssertNil(head.violation)
        XCTAssertEqual(head.streamGate.parts.last, .end([]))
    }

    func testAnIncompleteBodyIsAFailureNotAnEnd() {
        for response in [
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        ] {
            let outcome = agreed(response)
            XCTAssertNotNil(outcome.streamGate.failure, response)
            XCTAssertFalse(outcome.streamGate.parts.contains { if case .end = $0 { true } else { false } }, response)
        }
    }

    /// Framing tricks a desynchronised parser would read differently: StreamGate refuses each (or agrees with the
    /// reference), and never passes on a byte the reference would not.
    func testSmugglingShapedBodiesAreRefused() {
        let refused = [
            "3 \r\nabc\r\n0\r\n\r\n",  // space after the size
            " 3\r\nabc\r\n0\r\n\r\n",  // space before it
            "0x3\r\nabc\r\n0\r\n\r\n",  // a prefix
            "3\nabc\r\n0\r\n\r\n",  // bare LF after the size
            "3\r\nabc\n0\r\n\r\n",  // bare LF after the data
            "3\r\nabcd\r\n0\r\n\r\n",  // data longer than its size
            "-3\r\nabc\r\n0\r\n\r\n",
            "ffffffffffffffffff\r\n",  // overflows
            "3;a\nb\r\nabc\r\n0\r\n\r\n",  // LF inside an extension
            "3\r\nabc\r\n0\r\nX: a\r\n folded\r\n\r\n",  // obs-fold in a trailer
            "3\r\nabc\r\n0\r\nBad Name: a\r\n\r\n",
        ]
        for body in refused {
            let outcome = compared("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
            XCTAssertNil(outcome.violation, body.debugDescription)
            XCTAssertNotNil(outcome.streamGate.failure, "accepted \(body.debugDescription)")
        }
        let lengths = [
            "Content-Length: 4\r\nContent-Length: 5",
            "Content-Length: +4",
            "Content-Length: 4 4",
            "Content-Length: 0x4",
        ]
        for fields in lengths {
            let outcome = compared("HTTP/1.1 200 OK\r\n\(fields)\r\n\r\nabcdef")
            XCTAssertNil(outcome.violation, fields)
            XCTAssertNotNil(outcome.streamGate.failure, "accepted \(fields)")
        }
    }

    func testTransferEncodingWinsOverContentLengthOrIsRefused() {
        let outcome = compared("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n")
        XCTAssertNil(outcome.violation)
        if outcome.streamGate.failure == nil {
            XCTAssertEqual(outcome.streamGate.parts.dropFirst().first, .body(Array("abcd".utf8)))
        }
    }

    func testALongTrailerSectionIsRefused() {
        let trailer = "X-Long: " + String(repeating: "a", count: HTTP1ResponseBody.maxTrailerBytes) + "\r\n"
        let outcome = compared("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\(trailer)\r\n")
        XCTAssertNil(outcome.violation)
        XCTAssertEqual(outcome.streamGate.failure?.contains("trailer section over"), true)
    }

    /// The point of the framer: an event stream's connection holds an HTTP decoder only while a head is arriving. It
    /// goes in at the head's first byte, leaves (and is freed) once the body begins, and is not back after the body:
    /// the next head gets a new one, told the method of its request.
    func testTheHeadDecoderLivesOnlyWhileAHeadArrives() throws {
        let (channel, stream) = try framedConnection()
        let decoders = { (try? channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<UpstreamHeadDecoder>.self)) != nil }
        let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["host": "origin"])
        try channel.writeOutbound(HTTPClientRequestPart.head(get))
        XCTAssertFalse(decoders(), "a decoder waits for a head that has not begun")
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nTransfer-"))
        XCTAssertTrue(decoders(), "no decoder while the head arrives")
        weak var firstDecoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<UpstreamHeadDecoder>.self)
        try channel.writeInbound(ByteBuffer(string: "Encoding: chunked\r\n\r\n8\r\ndata: 1\n"))
        channel.embeddedEventLoop.run()  // a ByteToMessageHandler leaves on the next tick
        XCTAssertFalse(decoders(), "the decoder is still there during the body")
        XCTAssertNil(firstDecoder, "the decoder left the pipeline but lives on")
        try channel.writeInbound(ByteBuffer(string: "\r\n0\r\n\r\n"))
        XCTAssertFalse(decoders(), "a decoder came back before a next head began")
        // The next response on the same connection answers a HEAD: its Content-Length announces no body, which only
        // a decoder told the method knows; the GET after it reads its body as usual.
        var head = get
        head.method = .HEAD
        try channel.writeOutbound(HTTPClientRequestPart.head(head))
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"))
        XCTAssertEqual(stream.ends, 2, "the response to HEAD did not end at its head")
        try channel.writeOutbound(HTTPClientRequestPart.head(get))
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        XCTAssertTrue(channel.isActive)
        XCTAssertEqual(stream.bodyBytes, 10)
        XCTAssertEqual(stream.ends, 3)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    /// The request side's counterpart: NIO's request encoder and header validator are in the pipeline only while a
    /// request goes out, from its head to its end, and frame the body as before (chunked when no length is given);
    /// the next request on the same connection brings new ones.
    func testTheRequestEncoderLivesOnlyWhileARequestGoesOut() throws {
        let (channel, stream) = try framedConnection()
        let sync = channel.pipeline.syncOperations
        let codecs = {
            ((try? sync.handler(type: HTTPRequestEncoder.self)) != nil,
             (try? sync.handler(type: NIOHTTPRequestHeadersValidator.self)) != nil)
        }
        XCTAssertTrue(codecs() == (false, false), "an idle connection holds a request encoder")
        let post = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/feed?x=1", headers: ["host": "origin"])
        try channel.writeOutbound(HTTPClientRequestPart.head(post))
        XCTAssertTrue(codecs() == (true, true), "no encoder and validator while the request goes out")
        weak let encoder = try sync.handler(type: HTTPRequestEncoder.self)
        weak let validator = try sync.handler(type: NIOHTTPRequestHeadersValidator.self)
        try channel.writeOutbound(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: "hello"))))
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        XCTAssertTrue(codecs() == (false, false), "the encoder stayed after the request ended")
        XCTAssertNil(encoder, "the encoder left the pipeline but lives on")
        XCTAssertNil(validator, "the validator left the pipeline but lives on")
        XCTAssertEqual(
            try outboundText(channel),
            "POST /feed?x=1 HTTP/1.1\r\nhost: origin\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        )
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        XCTAssertEqual(stream.ends, 1)
        let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["host": "origin"])
        try channel.writeOutbound(HTTPClientRequestPart.head(get))
        XCTAssertTrue(codecs() == (true, true), "the next request has no encoder")
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        XCTAssertTrue(codecs() == (false, false))
        XCTAssertEqual(try outboundText(channel), "GET / HTTP/1.1\r\nhost: origin\r\n\r\n")
        // A response to HEAD ends with its head and leaves its decoder in: the request after it passes that decoder
        // (which watches request heads) before the encoder turns it into bytes.
        channel.embeddedEventLoop.run()  // each response comes in a later loop tick
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        channel.embeddedEventLoop.run()
        var head = get
        head.method = .HEAD
        try channel.writeOutbound(HTTPClientRequestPart.head(head))
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"))
        XCTAssertEqual(stream.ends, 3, "the response to HEAD did not end at its head")
        try channel.writeOutbound(HTTPClientRequestPart.head(get))
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        channel.embeddedEventLoop.run()
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        XCTAssertEqual(stream.ends, 4)
        XCTAssertEqual(stream.bodyBytes, 6)
        XCTAssertEqual(
            try outboundText(channel), "HEAD / HTTP/1.1\r\nhost: origin\r\n\r\nGET / HTTP/1.1\r\nhost: origin\r\n\r\n"
        )
        XCTAssertTrue(channel.isActive)
        XCTAssertTrue(stream.failures.isEmpty, "\(stream.failures)")
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    /// The validator still stands between a request and the wire: a header value with a line break in it (a
    /// request-splitting attempt) is refused before a byte is written, and the connection closes.
    func testARequestWithALineBreakInAHeaderIsRefused() throws {
        let (channel, stream) = try framedConnection()
        let head = HTTPRequestHead(
            version: .http1_1, method: .GET, uri: "/", headers: ["host": "origin", "x-note": "a\r\nx-injected: 1"]
        )
        XCTAssertThrowsError(try channel.writeOutbound(HTTPClientRequestPart.head(head)))
        _ = try? channel.writeOutbound(HTTPClientRequestPart.end(nil))
        channel.embeddedEventLoop.run()
        XCTAssertEqual(try outboundText(channel), "", "bytes of a refused request were written")
        XCTAssertFalse(channel.isActive, "the connection stayed open")
        XCTAssertEqual(stream.failures.count, 1, "\(stream.failures)")
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    /// A request encoder that cannot go in (here: no framer to place it after) fails the request, tells the stream
    /// and closes the connection: no request part may reach the wire unencoded.
    func testARequestWhoseEncoderCannotGoInFailsAndCloses() throws {
        let channel = EmbeddedChannel()
        let handler = UpstreamHTTP1Handler()
        let stream = BodyCounter()
        handler.delegate = stream
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["host": "origin"])
        XCTAssertThrowsError(try channel.writeOutbound(HTTPClientRequestPart.head(get)))
        channel.embeddedEventLoop.run()
        XCTAssertFalse(channel.isActive, "the connection stayed open")
        XCTAssertEqual(stream.failures.count, 1, "\(stream.failures)")
        XCTAssertEqual(try outboundText(channel), "")
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    /// Everything written to the wire so far, as text.
    private func outboundText(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let data = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let buffer) = data else { throw CancellationError() }
            text += String(buffer: buffer)
        }
        return text
    }

    /// A head with no request waiting for it (an origin talking out of turn on a connection whose last response
    /// ended) is refused, as NIO's decoder refuses an unsolicited response, and the connection closes.
    func testAHeadNoRequestAwaitsIsRefused() throws {
        let (channel, stream) = try framedConnection()
        let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["host": "origin"])
        try channel.writeOutbound(HTTPClientRequestPart.head(get))
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        XCTAssertEqual(stream.ends, 1)
        channel.embeddedEventLoop.run()  // the next read comes in a later loop tick
        _ = try? channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno"))
        channel.embeddedEventLoop.run()
        XCTAssertEqual(stream.failures.count, 1)
        XCTAssertTrue(stream.failures.first?.contains("unsolicited") == true, "\(stream.failures)")
        XCTAssertFalse(channel.isActive, "the connection stayed open after an unsolicited response")
        XCTAssertEqual(stream.ends, 1)
        XCTAssertEqual(stream.bodyBytes, 2)
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    /// A head that begins in the same read as the end of the previous body, after a request went out from inside
    /// that end: the decoder retired for that body has not left the pipeline yet (a ByteToMessageHandler leaves on the
    /// next tick), so a new decoder's parts would reach it. The connection is refused and closed instead.
    func testAHeadInTheReadThatEndedTheLastBodyIsRefused() throws {
        let (channel, stream) = try framedConnection()
        let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["host": "origin"])
        stream.onEnd = { _ = try? channel.writeOutbound(HTTPClientRequestPart.head(get)) }
        try channel.writeOutbound(HTTPClientRequestPart.head(get))
        let twoResponses = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno"
        _ = try? channel.writeInbound(ByteBuffer(string: twoResponses))
        channel.embeddedEventLoop.run()
        XCTAssertFalse(channel.isActive, "the connection stayed open")
        XCTAssertEqual(stream.ends, 1)
        XCTAssertEqual(stream.bodyBytes, 2)
        XCTAssertEqual(stream.failures.count, 1)
        XCTAssertTrue(stream.failures.first?.contains("same read") == true, "\(stream.failures)")
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    /// A connected channel with an upstream connection's handlers, its stream counting what reaches it.
    private func framedConnection() throws -> (EmbeddedChannel, BodyCounter) {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(UpstreamResponseFramer.handlers())
        let stream = BodyCounter()
        try channel.pipeline.syncOperations.handler(type: UpstreamHTTP1Handler.self).delegate = stream
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        return (channel, stream)
    }

    // MARK: Generated

    /// Thousands of responses, well-formed and mutated, cut at random points: no case where StreamGate is more
    /// lenient than llhttp or reads a response differently. The counts show the comparison has teeth: most
    /// well-formed responses are accepted by both, and the mutations reach refusals on both sides.
    func testGeneratedResponsesNeverDisagreeWithTheReference() {
        var random = SeededGenerator(seed: 0x5EED_F00D)
        var agreedAccepts = 0
        var bothRefused = 0
        var stricter: [String: Int] = [:]
        let cases = 4000
        for index in 0..<cases {
            var response = Self.generatedResponse(&random)
            let mutated = index % 2 == 1
            if mutated {
                Self.mutate(&response, &random)
            }
            var cuts: [Int] = []
            var total = 0
            while total < response.count {
                let cut = Int(random.next() % 24) + 1
                cuts.append(cut)
                total += cut
            }
            let method: HTTPMethod = random.next() % 10 == 0 ? .HEAD : .GET
            let outcome = UpstreamResponseFuzzing.compare(method: method, response: response, pieces: cuts)
            if let violation = outcome.violation {
                XCTFail("""
                    \(violation) on \(String(decoding: response, as: UTF8.self).debugDescription) (\(method))
                    reference: \(outcome.reference)
                    StreamGate: \(outcome.streamGate)
                    """)
                return
            }
            switch (outcome.reference.failure, outcome.streamGate.failure) {
            case (nil, nil): agreedAccepts += 1
            case (_?, _?): bothRefused += 1
            case (nil, let reason?): stricter[reason, default: 0] += 1
            case (_?, nil): break  // a violation, failed above
            }
        }
        print("upstream response framing: \(agreedAccepts) accepted by both, \(bothRefused) refused by both, stricter: \(stricter)")
        XCTAssertGreaterThan(agreedAccepts, cases / 3)
        XCTAssertGreaterThan(bothRefused, cases / 20)
    }

    private static func generatedResponse(_ random: inout SeededGenerator) -> [UInt8] {
        var text = ""
        if random.next() % 6 == 0 {
            text += "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
        }
        let statuses = [200, 200, 200, 201, 204, 206, 304, 404, 500]
        let status = statuses[Int(random.next() % UInt64(statuses.count))]
        text += "HTTP/1.\(random.next() % 5 == 0 ? 0 : 1) \(status) Status\r\n"
        text += "Content-Type: text/event-stream\r\n"
        let body = (0..<Int(random.next() % 6)).map { "data: event \($0)\n\n" }.joined()
        switch random.next() % 4 {
        case 0:
            text += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        case 1:
            text += "Transfer-Encoding: chunked\r\n\r\n"
            var rest = Substring(body)
            while !rest.isEmpty {
                let size = min(rest.utf8.count, Int(random.next() % 20) + 1)
                let chunk = rest.prefix(size)
                rest = rest.dropFirst(size)
                let hex = String(size, radix: 16, uppercase: random.next() % 2 == 0)
                let ext = random.next() % 5 == 0 ? ";ext=\"v\"" : ""
                text += "\(hex)\(ext)\r\n\(chunk)\r\n"
            }
            text += "0\r\n"
            if random.next() % 3 == 0 {
                text += "X-Trailer: value \(random.next() % 100)\r\nGrpc-Status: 0\r\n"
            }
            text += "\r\n"
        case 2:
            text += "\r\n" + body
        default:
            text += "Transfer-Encoding: gzip, chunked\r\n\r\n\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n"
        }
        return Array(text.utf8)
    }

    /// One to three edits with the bytes that matter to framing.
    private static func mutate(_ bytes: inout [UInt8], _ random: inout SeededGenerator) {
        let interesting = Array("\r\n \t;:0aF-x,".utf8)
        for _ in 0...(random.next() % 3) where !bytes.isEmpty {
            let at = Int(random.next() % UInt64(bytes.count))
            let byte = interesting[Int(random.next() % UInt64(interesting.count))]
            switch random.next() % 3 {
            case 0: bytes[at] = byte
            case 1: bytes.insert(byte, at: at)
            default: bytes.remove(at: at)
            }
        }
    }

    // MARK: Helpers

    private func compared(_ response: String, file: StaticString = #filePath, line: UInt = #line) -> UpstreamResponseFuzzing.Outcome {
        let bytes = Array(response.utf8)
        let outcome = UpstreamResponseFuzzing.compare(method: .GET, response: bytes, pieces: [])
        // The same bytes a byte at a time must come out the same.
        let byByte = UpstreamResponseFuzzing.compare(method: .GET, response: bytes, pieces: Array(repeating: 1, count: bytes.count))
        XCTAssertEqual(byByte.streamGate, outcome.streamGate, "cut into bytes", file: file, line: line)
        return outcome
    }

    /// Compared, with StreamGate and the reference agreeing exactly.
    private func agreed(_ response: String, file: StaticString = #filePath, line: UInt = #line) -> UpstreamResponseFuzzing.Outcome {
        let outcome = compared(response, file: file, line: line)
        XCTAssertNil(outcome.violation, file: file, line: line)
        XCTAssertEqual(outcome.streamGate.parts, outcome.reference.parts, file: file, line: line)
        XCTAssertEqual(outcome.streamGate.failure == nil, outcome.reference.failure == nil, file: file, line: line)
        return outcome
    }
}

/// Counts what reaches the stream.
private final class BodyCounter: UpstreamResponseDelegate {
    var bodyBytes = 0
    var ends = 0
    func upstreamInformationalHead(_ head: HTTPResponseHead) {}
    func upstreamResponseHead(_ head: HTTPResponseHead) {}
    func upstreamResponseBody(_ buffer: ByteBuffer) { bodyBytes += buffer.readableBytes }
    var onEnd: (() -> Void)?
    func upstreamResponseEnd(trailers: HTTPHeaders?) {
        ends += 1
        onEnd?()
    }
    func upstreamReadComplete() {}
    func upstreamBecameWritable() {}
    var failures: [String] = []
    func upstreamFailed(_ error: any Error) { failures.append(String(describing: error)) }
}
