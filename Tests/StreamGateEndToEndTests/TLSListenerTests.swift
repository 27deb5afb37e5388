import StreamGateTestSupport
import XCTest

/// TLS termination on a listener: ALPN picks HTTP/2 or HTTP/1.1 on one port, TLS 1.2+ only, certificates chosen by
/// SNI, a failed handshake costs only its own connection, and a key that does not match its certificate is a config
/// error at the key's line.
final class TLSListenerTests: TLSTestCase {
    func testCurlNegotiatesHTTP2AndStillSpeaksHTTP11OnTheSamePort() throws {
        let (_, _, base) = try startOriginAndTLSProxy()

        let writeOut = ["--write-out", "\n%{http_version} %{http_code}"]
        let http2 = try Curl.run(["--insecure", "--http2"] + writeOut + ["\(base)/hello"])
        let http11 = try Curl.run(["--insecure", "--http1.1"] + writeOut + ["\(base)/hello"])

        XCTAssertEqual(http2.exitCode, 0, http2.stderr)
        XCTAssertEqual(http2.stdout, "hello\n2 200")
        XCTAssertEqual(http11.exitCode, 0, http11.stderr)
        XCTAssertEqual(http11.stdout, "hello\n1.1 200")
    }

    func testTLS11IsRefusedAndTLS12And13AreAccepted() throws {
        let (_, proxy, _) = try startOriginAndTLSProxy()
        let port = try proxy.port(of: "tls")

        // SECLEVEL=0 lets this OpenSSL offer TLS 1.1 at all, so the refusal is the proxy's and not the client's.
        let tls11 = try OpenSSLTool.connect(port: port, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        let tls12 = try OpenSSLTool.connect(port: port, ["-tls1_2"])
        let tls13 = try OpenSSLTool.connect(port: port, ["-tls1_3"])

        let tls11Output = tls11.stdout + tls11.stderr
        XCTAssertFalse(tls11.timedOut, tls11Output)
        XCTAssertNotEqual(tls11.exitCode, 0, tls11Output)
        XCTAssertFalse(tls11Output.contains("no protocols available"), "client never offered TLS 1.1: \(tls11Output)")
        XCTAssertTrue(tls11Output.contains("Cipher is (NONE)"), tls11Output)
        XCTAssertFalse(tls11Output.contains("BEGIN CERTIFICATE"), "a TLS 1.1 client got a certificate: \(tls11Output)")
        XCTAssertEqual(tls12.exitCode, 0, tls12.stdout + tls12.stderr)
        XCTAssertTrue(tls12.stdout.contains("New, TLSv1.2, Cipher is "), tls12.stdout)
        XCTAssertEqual(tls13.exitCode, 0, tls13.stdout + tls13.stderr)
        XCTAssertTrue(tls13.stdout.contains("New, TLSv1.3, Cipher is "), tls13.stdout)
    }

    func testServerNameChoosesTheCertificate() throws {
        let origin = try startOrigin()
        let fallback = try makeCertificate(commonName: "localhost")
        let other = try makeCertificate(commonName: "other.test")
        let tls = tlsBlock(fallback, sni: [(other, ["other.test"])])
        let proxy = try startProxy(listeners: [.init("tls", tls: tls)], origin: origin)
        let port = try proxy.port(of: "tls")

        let named = try OpenSSLTool.connect(port: port, ["-servername", "other.test"])
        let unnamed = try OpenSSLTool.connect(port: port, ["-noservername"])
        let unknown = try OpenSSLTool.connect(port: port, ["-servername", "unknown.test"])

        XCTAssertEqual(Self.subjectCommonName(named), "other.test", named.stdout + named.stderr)
        XCTAssertEqual(Self.subjectCommonName(unnamed), "localhost", unnamed.stdout + unnamed.stderr)
        XCTAssertEqual(Self.subjectCommonName(unknown), "localhost", unknown.stdout + unknown.stderr)
        for result in [named, unnamed, unknown] {
            XCTAssertEqual(result.exitCode, 0, result.stdout + result.stderr)
        }
    }

    func testFailedHandshakeClosesOnlyItsConnection() throws {
        let (_, proxy, base) = try startOriginAndTLSProxy()
        let port = try proxy.port(of: "tls")
        let stream = try CurlStream(["-N", "--insecure", "--http2", "\(base)/sse?count=15"])
        let streaming = stream.waitForLines(timeout: 10) { lines in
            lines.contains { OriginEvent.parse(dataLine: $0.text) != nil }
        }
        XCTAssertTrue(streaming, "no event before the bad handshake; stderr: \(stream.stderr)")

        let garbage = try RawConnection.exchange(
            port: port,
            request: "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nthis is not a TLS ClientHello\r\n",
            timeout: 10
        )
        let after = try Curl.run(["--insecure", "--http2", "--write-out", " %{http_version}", "\(base)/hello"])

        XCTAssertTrue(garbage.closedByPeer, "the proxy kept a connection that sent garbage instead of a handshake")
        XCTAssertEqual(after.exitCode, 0, after.stderr)
        XCTAssertEqual(after.stdout, "hello 2")
        XCTAssertTrue(stream.waitForLines(timeout: 10) { lines in
            lines.compactMap { OriginEvent.parse(dataLine: $0.text) }.map(\.seq).last == 15
        }, "the stream already open stopped: \(stream.lines.map(\.text))")
        XCTAssertEqual(stream.waitForExit(timeout: 5), 0, stream.stderr)
        XCTAssertTrue(proxy.isRunning)
        let logged = Wait.until(timeout: 5) { Self.handshakeLines(proxy.log).count >= 1 }
        XCTAssertTrue(logged, "no log line about the failed handshake:\n\(proxy.log)")
        XCTAssertEqual(Self.handshakeLines(proxy.log).count, 1, "expected exactly one handshake line:\n\(proxy.log)")
    }

    func testCheckRejectsPrivateKeyThatDoesNotMatchTheCertificate() throws {
        let certificate = try makeCertificate(commonName: "localhost")
        let otherKey = try makeCertificate(commonName: "other.test").privateKey
        let directory = try TemporaryDirectory()
        let tls = ProxyConfigText.TLS(certificate: certificate.certificate.path, privateKey: otherKey.path)
        let yaml = ProxyConfigText.yaml(upstreamPorts: [9], listeners: [.init("tls", tls: tls)])
        let keyLine = try XCTUnwrap(yaml.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("private_key:") }) + 1
        let path = directory.file("streamgate.yaml").path

        let check = try StreamGateCLI.check(yaml: yaml, in: directory)
        let run = try StreamGateCLI.run(["run", "--config", path], timeout: 10)

        XCTAssertEqual(check.exitCode, 1, check.stdout + check.stderr)
        XCTAssertTrue(
            check.stderr.contains("\(path):\(keyLine): listeners[0].tls.private_key:"),
            "expected an error at \(path):\(keyLine): listeners[0].tls.private_key:\n\(check.stderr)"
        )
        XCTAssertFalse(run.timedOut, "streamgate run kept running with a mismatched key")
        XCTAssertEqual(run.exitCode, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("\(path):\(keyLine): listeners[0].tls.private_key:"), run.stderr)
    }

    /// The CN of `subject=` in `openssl s_client` output (`subject=CN = x` or `subject=CN=x`).
    private static func subjectCommonName(_ result: ProcessResult) -> String? {
        let line = result.stdout.split(separator: "\n").first { $0.hasPrefix("subject=") }
        let compact = line.map { $0.replacingOccurrences(of: " ", with: "") }
        guard let compact, let range = compact.range(of: "CN=") else { return nil }
        return String(compact[range.upperBound...].prefix { $0 != "," && $0 != "/" })
    }

    private static func handshakeLines(_ log: String) -> [Substring] {
        log.split(separator: "\n").filter { $0.localizedCaseInsensitiveContains("TLS handshake") }
    }
}
