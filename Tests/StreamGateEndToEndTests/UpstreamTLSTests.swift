import Foundation
import StreamGateTestSupport
import XCTest

/// Upstreams over TLS against hypercorn serving TLS with a certificate made for the test: `protocol: h2` shares one
/// verified HTTP/2 connection among the streams (ALPN `h2`), `http1` with a `tls` block is HTTPS/1.1, WebSockets to
/// an `h2` upstream upgrade over HTTP/1.1 on TLS, health checks handshake too, and every way verification can fail
/// (untrusted chain, the system store for a self-signed origin, a name the certificate does not carry, a server
/// that does not speak TLS or does not choose h2) is a `502` with the reason in the log and nothing reaching the
/// app, unless `verify: false`; a CA file OpenSSL cannot read is a config error at its line. StreamGate runs on
/// one event loop (`--threads 1`).
final class UpstreamTLSTests: WebSocketTestCase {
    private var certificates: TemporaryDirectory!
    /// The origin's certificate: `CN=origin.test`, SANs `origin.test`, `localhost`, `127.0.0.1`.
    private var originCertificate: TestCertificates.Pair!

    override func setUpWithError() throws {
        try super.setUpWithError()
        certificates = try TemporaryDirectory(prefix: "streamgate-upstream-tls")
        originCertificate = try TestCertificates.make(commonName: "origin.test", in: certificates)
    }

    private func startOrigin() throws -> HypercornOrigin {
        let origin = try HypercornOrigin(certificate: originCertificate)
        track(origin.peer)
        return origin
    }

    private func startProxy(to origin: HypercornOrigin, _ keys: [String]) throws -> ProxyProcess {
        try startWebSocketProxy(
            ProxyConfigText.yaml(
                upstreamPorts: [origin.port],
                routes: [.init("/events", sse: "{ heartbeat_interval: 0s }"), .init("/")],
                upstreamKeys: keys
            ),
            arguments: ["--threads", "1"]
        )
    }

    func testH2UpstreamIsVerifiedAndMultiplexed() throws {
        let origin = try startOrigin()
        let ca = originCertificate.certificate.path
        let proxy = try startProxy(to: origin, ["protocol: h2", "tls: { ca_file: \"\(ca)\", server_name: origin.test }"])
        let base = try proxy.baseURL()

        let first = try CurlStream(["-N", "--http2-prior-knowledge", "\(base)/events?interval=0.1"])
        let second = try CurlStream(["-N", "--http1.1", "\(base)/events?interval=0.1"])
        defer {
            first.kill()
            second.kill()
        }
        for stream in [first, second] {
            XCTAssertTrue(stream.waitForLines(timeout: 5) { $0.contains { $0.text == "data: event 3" } }, stream.stderr)
        }
        let hello = try Curl.fetch("\(base)/hello", ["--http1.1"])
        XCTAssertEqual(hello.status, 200, hello.stderr)
        XCTAssertEqual(hello.text, "hello over 2")

        let requests = origin.requests
        XCTAssertEqual(requests.count, 3, "\(requests)")
        XCTAssertTrue(requests.allSatisfy { $0["scheme"] == "https" && $0["http_version"] == "2" }, "\(requests)")
        XCTAssertEqual(origin.connections().count, 1, "streams over TLS share one connection: \(origin.connections())")
    }

    func testHTTP1WithTLSIsHTTPSToTheServer() throws {
        let origin = try startOrigin()
        // No server_name: the server's own host, 127.0.0.1, is checked against the certificate's IP entry.
        let proxy = try startProxy(to: origin, ["tls: { ca_file: \"\(originCertificate.certificate.path)\" }"])
        let hello = try Curl.fetch("\(try proxy.baseURL())/hello", ["--http2-prior-knowledge"])
        XCTAssertEqual(hello.status, 200, hello.stderr)
        XCTAssertEqual(hello.text, "hello over 1.1")
        XCTAssertEqual(origin.requests.first?["scheme"], "https")
    }

    func testVerificationFailuresAre502WithTheReason() throws {
        let origin = try startOrigin()
        let stranger = try TestCertificates.make(commonName: "stranger.test", in: certificates)
        let ca = originCertificate.certificate.path
        for (keys, reason) in [
            (["protocol: h2", "tls: { ca_file: \"\(stranger.certificate.path)\", server_name: origin.test }"], "certificate verify failed"),
            (["protocol: h2"], "certificate verify failed"),
            (["protocol: h2", "tls: { ca_file: \"\(ca)\", server_name: other.test }"], "hostname mismatch"),
            (["tls: { ca_file: \"\(ca)\", server_name: other.test }"], "hostname mismatch"),
        ] {
            let proxy = try startProxy(to: origin, keys)
            let started = Date()
            let response = try Curl.fetch("\(try proxy.baseURL())/hello", ["--http1.1"])
            XCTAssertEqual(response.status, 502, "\(keys): \(response.text)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 5, "\(keys)")
            XCTAssertTrue(
                Wait.until(timeout: 3) { proxy.log.contains("TLS handshake failed") && proxy.log.contains(reason) },
                "\(keys): no \"\(reason)\" in the log:\n\(proxy.log)"
            )
            _ = proxy.stop()
        }
        XCTAssertTrue(origin.requests.isEmpty, "a request reached an unverified origin: \(origin.requests)")
    }

    func testVerifyOffAcceptsAnyCertificate() throws {
        let origin = try startOrigin()
        let proxy = try startProxy(to: origin, ["protocol: h2", "tls: { verify: false }"])
        let hello = try Curl.fetch("\(try proxy.baseURL())/hello", ["--http1.1"])
        XCTAssertEqual(hello.status, 200, hello.stderr)
        XCTAssertEqual(hello.text, "hello over 2")
    }

    func testH2UpstreamThatDoesNotOfferH2Is502() throws {
        // The scripted h2 origin's port is cleartext: the handshake itself fails, and says so.
        let cleartext = try ScriptedHTTP2Origin()
        track(cleartext.peer)
        let proxy = try startWebSocketProxy(
            ProxyConfigText.yaml(upstreamPorts: [cleartext.port], upstreamKeys: ["protocol: h2", "tls: { verify: false }"]),
            arguments: ["--threads", "1"]
        )
        let response = try Curl.fetch("\(try proxy.baseURL())/hello", ["--http1.1"])
        XCTAssertEqual(response.status, 502, response.text)
        XCTAssertTrue(Wait.until(timeout: 3) { proxy.log.contains("TLS handshake failed") }, proxy.log)
    }

    func testServerWithoutH2ForAnH2UpstreamIs502() throws {
        // A TLS server whose only ALPN protocol is http/1.1: StreamGate offers h2 alone, so the handshake ends
        // with no protocol chosen, which must not be taken for h2.
        let (peer, port) = try PythonPeer.startServer(
            source: Self.http1OnlyServerSource,
            fileName: "http1_only_tls.py",
            arguments: [originCertificate.certificate.path, originCertificate.privateKey.path]
        )
        track(peer)
        let proxy = try startWebSocketProxy(
            ProxyConfigText.yaml(
                upstreamPorts: [port],
                upstreamKeys: ["protocol: h2", "tls: { ca_file: \"\(originCertificate.certificate.path)\" }"]
            ),
            arguments: ["--threads", "1"]
        )
        let response = try Curl.fetch("\(try proxy.baseURL())/hello", ["--http1.1"])
        XCTAssertEqual(response.status, 502, response.text)
        XCTAssertTrue(
            Wait.until(timeout: 3) { proxy.log.contains("the server did not choose h2 by ALPN (chose nothing)") },
            proxy.log
        )
        XCTAssertEqual(peer.events.named("connection").first?["alpn"], "None")
    }

    func testHealthChecksGoOverTLS() throws {
        let origin = try startOrigin()
        let stranger = try TestCertificates.make(commonName: "stranger.test", in: certificates)
        let check = "health_check: { path: /healthz, interval: 300ms, timeout: 250ms, fall: 1, rise: 1 }"
        // Trusted: the checks reach the app over TLS and pass.
        let trusted = try startProxy(to: origin, ["tls: { ca_file: \"\(originCertificate.certificate.path)\" }", check])
        XCTAssertTrue(
            Wait.until(timeout: 5) { origin.requests.filter { $0["path"] == "/healthz" }.count >= 2 },
            "no health check reached the origin: \(origin.requests)\n\(trusted.log)"
        )
        XCTAssertTrue(origin.requests.allSatisfy { $0["scheme"] == "https" })
        XCTAssertFalse(trusted.log.contains("out of service"), trusted.log)
        _ = trusted.stop()
        // Untrusted: the check fails in the handshake, and the log says why the server is out.
        let untrusted = try startProxy(to: origin, ["tls: { ca_file: \"\(stranger.certificate.path)\" }", check])
        XCTAssertTrue(
            Wait.until(timeout: 5) {
                untrusted.log.contains("out of service") && untrusted.log.contains("certificate verify failed")
            },
            untrusted.log
        )
    }

    func testCAFileOpenSSLCannotReadIsAConfigError() throws {
        let directory = try TemporaryDirectory(prefix: "streamgate-bad-ca")
        let notPEM = try directory.write("this is not a certificate\n", to: "ca.pem")
        let result = try StreamGateCLI.check(
            yaml: ProxyConfigText.yaml(upstreamPorts: [9], upstreamKeys: ["protocol: h2", "tls: { ca_file: \"\(notPEM.path)\" }"]),
            in: directory
        )
        XCTAssertEqual(result.exitCode, 1, result.stdout)
        XCTAssertTrue(
            result.stderr.contains("streamgate.yaml:10: upstreams[0].tls.ca_file: cannot load CA certificates from"),
            result.stderr
        )
    }

    private static let http1OnlyServerSource = #"""
        """A TLS server that offers only http/1.1 by ALPN, for StreamGate's tests: see UpstreamTLSTests.swift."""
        import ssl
        import sys

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[1], sys.argv[2])
        context.set_alpn_protocols(["http/1.1"])


        async def handle(reader, writer):
            emit("connection", alpn=writer.get_extra_info("ssl_object").selected_alpn_protocol())
            await reader.read(65536)
            writer.close()


        asyncio.run(serve_tcp(handle, ssl=context))
        """#

    func testWebSocketsToAnH2UpstreamUpgradeOverTLS() throws {
        let origin = try startOrigin()
        let ca = originCertificate.certificate.path
        let proxy = try startProxy(to: origin, ["protocol: h2", "tls: { ca_file: \"\(ca)\", server_name: origin.test }"])
        let client = try runClient(.client, ["echo", "\(try proxy.webSocketBase())/ws"], timeout: 30)
        let echoes = client.events.named("echo")
        XCTAssertEqual(echoes.map { $0["kind"] ?? "" }, ["text", "binary", "large", "fragmented"], client.transcript)
        XCTAssertTrue(echoes.allSatisfy { $0["ok"] == "True" }, client.transcript)
        let upgrade = origin.requests.first { $0["type"] == "websocket" }
        XCTAssertEqual(upgrade?["scheme"], "wss", "\(origin.requests)")
    }
}
