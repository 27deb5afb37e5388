import Foundation
import StreamGateTestSupport
import XCTest

/// HTTP/1.1 clients that send what a smuggler, a scanner or a broken client sends, raw over a real socket to the
/// real binary: the status each gets, that the connection closes when the framing cannot be trusted, that nothing
/// of a refused request reaches the origin, and that an event stream on another connection keeps its events.
final class HTTP1AbuseTests: AbuseTestCase {
    /// One raw request and the answer it must get.
    private struct Case {
        let name: String
        let bytes: [UInt8]
        let status: Int
        /// The connection must close after the answer (the next bytes cannot be trusted to start a request).
        var closes = true
        /// The request must never reach the origin (its target carries `case=<name>`).
        var reachesOrigin = false

        init(_ name: String, _ request: String, _ status: Int, closes: Bool = true, reachesOrigin: Bool = false) {
            self.init(name, Array(request.utf8), status, closes: closes, reachesOrigin: reachesOrigin)
        }

        init(_ name: String, _ bytes: [UInt8], _ status: Int, closes: Bool = true, reachesOrigin: Bool = false) {
            self.name = name
            self.bytes = bytes
            self.status = status
            self.closes = closes
            self.reachesOrigin = reachesOrigin
        }
    }

    /// Routes only `app.example` (and the bystander's `/sse`): any other host has no route.
    private func startProxy() throws -> (port: Int, origin: TestOrigin) {
        try startProxyWithBystander(routes: ["{ match: { host: app.example, path_prefix: / }, upstream: app }"])
    }

    /// Sends each case on its own connection and checks the answer; prints one `abuse:` line per case.
    private func run(_ cases: [Case], port: Int, origin: TestOrigin, file: StaticString = #filePath, line: UInt = #line) throws {
        for item in cases {
            let start = Date()
            let reply = try RawConnection.exchange(port: port, bytes: item.bytes, timeout: item.closes ? 5 : 1.5)
            let elapsed = Date().timeIntervalSince(start)
            let statusLine = reply.text.prefix { $0 != "\r" && $0 != "\n" }
            let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            XCTAssertEqual(status, item.status, "\(item.name): \(reply.text.prefix(300))", file: file, line: line)
            if item.closes {
                XCTAssertTrue(reply.closedByPeer, "\(item.name): the connection stayed open", file: file, line: line)
            }
            let seen = origin.connections.requestTargets.contains { $0.contains("case=\(item.name)") }
            XCTAssertEqual(seen, item.reachesOrigin, "\(item.name): reached the origin: \(seen)", file: file, line: line)
            let closing = reply.closedByPeer ? ", closed" : ""
            print("abuse: HTTP/1.1 \(item.name): \(status.map(String.init) ?? "no answer")\(closing) in \(Self.milliseconds(elapsed))")
        }
        XCTAssertEqual(proxy?.isRunning, true, "the proxy is gone", file: file, line: line)
        assertBystanderFlows(file: file, line: line)
    }

    // MARK: Request smuggling forms (RFC 9112 sections 6.1 to 6.3, 7.1)

    func testSmugglingFormsAreRefusedAndTheConnectionClosed() throws {
        let (port, origin) = try startProxy()
        func post(_ name: String, _ fields: String, _ body: String, _ status: Int) -> Case {
            Case(name, "POST /hello?case=\(name) HTTP/1.1\r\nHost: app.example\r\n\(fields)\r\n\(body)", status)
        }
        try run(
            [
                post("cl-and-te", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", 400),
                post("two-content-lengths", "Content-Length: 4\r\nContent-Length: 5\r\n", "abcde", 400),
                post("repeated-content-length", "Content-Length: 4\r\nContent-Length: 4\r\n", "abcd", 400),
                post("content-length-list", "Content-Length: 4, 5\r\n", "abcde", 400),
                post("negative-content-length", "Content-Length: -1\r\n", "", 400),
                post("signed-content-length", "Content-Length: +4\r\n", "abcd", 400),
                Case("obs-fold", "GET /hello?case=obs-fold HTTP/1.1\r\nHost: app.example\r\nX-A: b\r\n c\r\n\r\n", 400),
                Case("bare-lf", "GET /hello?case=bare-lf HTTP/1.1\nHost: app.example\n\n", 400),
                Case("bare-cr", "GET /hello?case=bare-cr HTTP/1.1\rHost: app.example\r\n\r\n", 400),
                Case("cr-in-value", "GET /hello?case=cr-in-value HTTP/1.1\r\nHost: app.example\r\nX-A: b\rc\r\n\r\n", 400),
                Case("nul-in-value", "GET /hello?case=nul-in-value HTTP/1.1\r\nHost: app.example\r\nX-A: b\u{0}c\r\n\r\n", 400),
                Case("space-before-colon", "GET /hello?case=space-before-colon HTTP/1.1\r\nHost: app.example\r\nX-A : b\r\n\r\n", 400),
                post("non-hex-chunk-size", "Transfer-Encoding: chunked\r\n", "zz\r\nabc\r\n0\r\n\r\n", 400),
                post("overflowing-chunk-size", "Transfer-Encoding: chunked\r\n", "FFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n", 400),
                post("te-gzip-chunked", "Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n", 501),
                post("te-unknown", "Transfer-Encoding: xchunked\r\n", "0\r\n\r\n", 501),
                post("te-chunked-not-last", "Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n", 400),
                post("te-space-before-colon", "Transfer-Encoding : chunked\r\n", "0\r\n\r\n", 400),
                Case(
                    "te-in-http10",
                    "POST /hello?case=te-in-http10 HTTP/1.0\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                    400
                ),
            ],
            port: port,
            origin: origin
        )
    }

    // MARK: Host (RFC 9112 section 3.2) and absolute-form: never an open proxy

    func testHostMisuseIsRefusedAndAbsoluteFormNeverOpensAProxy() throws {
        let (port, origin) = try startProxy()
        func get(_ name: String, _ fields: String, _ status: Int, closes: Bool = true) -> Case {
            Case(name, "GET /hello?case=\(name) HTTP/1.1\r\n\(fields)\r\n", status, closes: closes)
        }
        try run(
            [
                get("no-host", "", 400),
                get("two-hosts", "Host: app.example\r\nHost: other.example\r\n", 400),
                get("empty-host", "Host: \r\n", 400),
                get("host-with-space", "Host: app.example evil\r\n", 400),
                get("host-with-userinfo", "Host: user@app.example\r\n", 400),
                get("host-with-slash", "Host: app.example/x\r\n", 400),
                get("host-bad-port", "Host: app.example:80x\r\n", 400),
                get("host-unclosed-ipv6", "Host: [::1\r\n", 400),
                // A host the config does not route: a local 404, StreamGate connects nowhere else.
                get("unrouted-host", "Host: evil.example\r\n", 404, closes: false),
                Case(
                    "absolute-form-other-host",
                    "GET http://evil.example/hello?case=absolute-form-other-host HTTP/1.1\r\nHost: app.example\r\n\r\n",
                    404,
                    closes: false
                ),
                Case(
                    "absolute-form-ftp",
                    "GET ftp://app.example/hello?case=absolute-form-ftp HTTP/1.1\r\nHost: app.example\r\n\r\n",
                    400
                ),
                Case("absolute-form-no-host", "GET http:///hello?case=absolute-form-no-host HTTP/1.1\r\nHost: app.example\r\n\r\n", 400),
                Case("connect", "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n", 501),
                Case(
                    "absolute-form-routed",
                    "GET http://app.example/hello?case=absolute-form-routed HTTP/1.1\r\nHost: evil.example\r\n\r\n",
                    200,
                    closes: false,
                    reachesOrigin: true
                ),
            ],
            port: port,
            origin: origin
        )
        // RFC 9112 section 3.2.2: the origin sees the absolute-form target's host, the one StreamGate routed on,
        // not the Host field the client sent beside it.
        let reply = try RawConnection.exchange(
            port: port,
            request: "GET http://app.example/headers HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
        )
        let body = try XCTUnwrap(reply.text.range(of: "\r\n\r\n").map { String(reply.text[$0.upperBound...]) })
        let echo = try OriginRequestEcho.decode(body)
        XCTAssertEqual(echo.values(of: "host"), ["app.example"])
        XCTAssertEqual(echo.uri, "/headers")
        XCTAssertFalse(origin.connections.requestTargets.contains { $0.contains("connect") || $0.hasPrefix("http") })
    }

    /// HTTP/1.0 may leave Host out; the HTTP/1.1 request upstream may not (RFC 9112 3.2): it carries the
    /// upstream's name, as behind nginx, and no X-Forwarded-Host.
    func testHTTP10RequestWithoutHostReachesTheOriginWithOne() throws {
        let (port, _) = try startProxyWithBystander()
        let reply = try RawConnection.exchange(port: port, request: "GET /headers HTTP/1.0\r\n\r\n")
        XCTAssertTrue(reply.text.hasPrefix("HTTP/1.0 200") || reply.text.hasPrefix("HTTP/1.1 200"), reply.text)
        let body = try XCTUnwrap(reply.text.range(of: "\r\n\r\n").map { String(reply.text[$0.upperBound...]) })
        let echo = try OriginRequestEcho.decode(body)
        XCTAssertEqual(echo.values(of: "host"), ["app"])
        XCTAssertEqual(echo.values(of: "x-forwarded-host"), [])
    }

    // MARK: Request lines and targets

    func testMalformedRequestLinesAndTargetsAreRefused() throws {
        let (port, origin) = try startProxy()
        func line(_ name: String, _ requestLine: String) -> Case {
            Case(name, "\(requestLine)\r\nHost: app.example\r\nX-Case: case=\(name)\r\n\r\n", 400)
        }
        try run(
            [
                line("dot-segments", "GET /hello/../../etc/passwd?case=dot-segments HTTP/1.1"),
                line("encoded-dot-segments", "GET /a/%2e%2e/hello?case=encoded-dot-segments HTTP/1.1"),
                line("fragment", "GET /hello?case=fragment#top HTTP/1.1"),
                line("asterisk-form", "OPTIONS * HTTP/1.1"),
                line("relative-target", "GET hello?case=relative-target HTTP/1.1"),
                line("bad-method", "G@T /hello?case=bad-method HTTP/1.1"),
                line("unknown-version", "GET /hello?case=unknown-version HTTP/9.9"),
                Case("http09", "GET /hello?case=http09\r\n\r\n", 400),
                line("no-target", "GET HTTP/1.1"),
            ],
            port: port,
            origin: origin
        )
    }

    // MARK: Size and garbage

    func testMegabyteHeadAndBinaryGarbageAreRefusedWithoutGrowingTheProcess() throws {
        let (port, origin) = try startProxy()
        let pid = try XCTUnwrap(proxy?.processIdentifier)
        let residentBefore = try ProcessStatus.residentBytes(of: pid)
        let descriptorsBefore = try ProcessStatus.openDescriptors(of: pid)
        let megabyteHead = "GET /hello?case=megabyte-head HTTP/1.1\r\nHost: app.example\r\nX-Big: "
            + String(repeating: "a", count: 1 << 20) + "\r\n\r\n"
        var garbage: [UInt8] = []
        for round in 0..<16 {
            garbage += (0...255).map { UInt8(($0 + round * 7) & 0xFF) }
        }
        let manyFields = "GET /hello?case=ten-thousand-fields HTTP/1.1\r\nHost: app.example\r\n"
            + (0..<10_000).map { "X-F\($0): v\r\n" }.joined() + "\r\n"
        // Three rounds, so anything kept per connection would show.
        for _ in 0..<3 {
            try run(
                [
                    Case("megabyte-head", megabyteHead, 431),
                    Case("ten-thousand-fields", manyFields, 431),
                    Case("binary-garbage", garbage, 400),
                    Case("tls-hello-on-cleartext", Self.tlsClientHelloPrefix, 400),
                ],
                port: port,
                origin: origin
            )
        }
        XCTAssertTrue(
            Wait.until(timeout: 5) { (try? ProcessStatus.openDescriptors(of: pid)) ?? .max <= descriptorsBefore },
            "descriptors \(descriptorsBefore) before, \((try? ProcessStatus.openDescriptors(of: pid)) ?? -1) after"
        )
        let residentAfter = try ProcessStatus.residentBytes(of: pid)
        if !Sanitizers.active {  // A sanitizer's shadow memory and quarantine count in RSS.
            XCTAssertLessThan(residentAfter, residentBefore + 16 << 20, "RSS grew from \(residentBefore) to \(residentAfter)")
        }
        print(
            "abuse: HTTP/1.1 size and garbage: RSS \(residentBefore >> 10) KiB -> \(residentAfter >> 10) KiB, "
                + "descriptors \(descriptorsBefore) -> \((try? ProcessStatus.openDescriptors(of: pid)) ?? -1)"
        )
    }

    /// The first bytes of a TLS 1.2 ClientHello record, as a browser sends to a cleartext port by mistake.
    private static let tlsClientHelloPrefix: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00, 0xA1, 0x03, 0x03]
        + [UInt8](repeating: 0x42, count: 32) + [0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00]

    // MARK: Pipelining

    /// Requests sent back to back before any answer (HTTP/1.1 pipelining) are answered in order on one
    /// connection, and the process stays up (writing the first response's end used to start the next request
    /// inside that write and lose its head).
    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let (port, origin) = try startProxy()
        let requests = (1...3).map { "GET /hello?case=pipelined-\($0) HTTP/1.1\r\nHost: app.example\r\n\r\n" }.joined()
            + "GET /headers?case=pipelined-last HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n"
        let reply = try RawConnection.exchange(port: port, request: requests, timeout: 5)
        XCTAssertTrue(reply.closedByPeer, reply.text)
        XCTAssertEqual(reply.text.components(separatedBy: "HTTP/1.1 200 OK").count - 1, 4, reply.text)
        XCTAssertEqual(
            origin.connections.requestTargets.filter { $0.contains("case=pipelined") },
            ["/hello?case=pipelined-1", "/hello?case=pipelined-2", "/hello?case=pipelined-3", "/headers?case=pipelined-last"]
        )
        XCTAssertEqual(proxy?.isRunning, true, "the proxy is gone")
        assertBystanderFlows()
    }

    /// A pipelined upload whose body arrives after the response before it ended: its body is body, not the start
    /// of a head (it used to be scanned as one and refused with 431 once over `max_header_bytes`).
    func testPipelinedUploadBodyIsNotTakenForAHead() throws {
        let (port, origin) = try startProxy()
        let bodyBytes = 200_000
        let connection = try TrickleConnection(port: port)
        connection.send(
            "GET /hello?case=pipelined-before-upload HTTP/1.1\r\nHost: app.example\r\n\r\n"
                + "POST /echo?case=pipelined-upload HTTP/1.1\r\nHost: app.example\r\nContent-Length: \(bodyBytes)\r\n"
                + "Connection: close\r\n\r\nfirst"
        )
        XCTAssertTrue(
            Wait.until(timeout: 5) { connection.read(for: 0.1); return connection.received.contains("hello") },
            connection.received
        )
        // In pieces, reading between them: the echo comes back while the body is still going up.
        var unsent = bodyBytes - 5
        while unsent > 0, connection.send(String(repeating: "~", count: min(unsent, 5_000))) {
            unsent -= min(unsent, 5_000)
            connection.read(for: 0.005)
        }
        XCTAssertEqual(unsent, 0, "the proxy closed the connection mid-upload: \(connection.received.prefix(600))")
        connection.read(for: 5)
        XCTAssertFalse(connection.received.contains("431"), String(connection.received.prefix(600)))
        XCTAssertEqual(connection.received.components(separatedBy: "HTTP/1.1 200 OK").count - 1, 2, String(connection.received.prefix(600)))
        XCTAssertEqual(connection.received.filter { $0 == "~" }.count, bodyBytes - 5, "the echoed body is not whole")
        XCTAssertEqual(origin.connections.requestTargets.filter { $0.contains("case=pipelined") }.count, 2)
        assertBystanderFlows()
    }
}
