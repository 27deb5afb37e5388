import StreamGateTestSupport
import XCTest

/// Base for the TLS, HTTP/2 and browser end-to-end tests: self-signed certificates in a per-test folder, and proxies
/// with any listeners (e.g. TLS listener `tls` next to cleartext `plain`), stopped in tear-down with their log
/// attached to any failure.
class TLSTestCase: EndToEndTestCase {
    private var listenerProxies: [ProxyProcess] = []
    private var certificateFolder: TemporaryDirectory?

    override func tearDown() {
        for proxy in listenerProxies {
            let result = proxy.stop(timeout: 3)
            if (testRun?.totalFailureCount ?? 0) > 0 {
                print("--- streamgate log (exit \(result.exitCode)) ---\n\(result.stderr)")
            }
        }
        listenerProxies.removeAll()
        certificateFolder = nil
        super.tearDown()
    }

    /// The folder this test's certificates and keys are written to (removed in tear-down).
    func certificates() throws -> TemporaryDirectory {
        if let certificateFolder {
            return certificateFolder
        }
        let folder = try TemporaryDirectory(prefix: "streamgate-certs")
        certificateFolder = folder
        return folder
    }

    /// A self-signed P-256 certificate for `commonName` (and localhost, 127.0.0.1) with its key.
    func makeCertificate(commonName: String = "localhost") throws -> TestCertificates.Pair {
        try TestCertificates.make(commonName: commonName, in: certificates())
    }

    /// The `tls` block serving `pair` by default and `sni` pairs to the server names given with them.
    func tlsBlock(
        _ pair: TestCertificates.Pair,
        sni: [(pair: TestCertificates.Pair, names: [String])] = []
    ) -> ProxyConfigText.TLS {
        ProxyConfigText.TLS(
            certificate: pair.certificate.path,
            privateKey: pair.privateKey.path,
            certificates: sni.map { entry in
                .init(
                    certificate: entry.pair.certificate.path,
                    privateKey: entry.pair.privateKey.path,
                    serverNames: entry.names
                )
            }
        )
    }

    /// A running proxy with `listeners` in front of `origin` (everything routed to it), stopped in tear-down; waits
    /// for every listener's "listening on" line.
    func startProxy(
        listeners: [ProxyConfigText.Listener],
        origin: TestOrigin,
        routes: [ProxyConfigText.Route] = [.init("/")]
    ) throws -> ProxyProcess {
        let yaml = ProxyConfigText.yaml(upstreamPorts: [origin.port], routes: routes, listeners: listeners)
        let proxy = try ProxyProcess(yaml: yaml, listeners: listeners.map(\.name))
        listenerProxies.append(proxy)
        return proxy
    }

    /// An origin and a proxy with one TLS listener `tls` (certificate for localhost and 127.0.0.1) in front of it;
    /// returns both and `https://127.0.0.1:PORT`.
    func startOriginAndTLSProxy(
        http2: String? = nil
    ) throws -> (origin: TestOrigin, proxy: ProxyProcess, base: String) {
        let origin = try startOrigin()
        let listener = ProxyConfigText.Listener("tls", tls: tlsBlock(try makeCertificate()), http2: http2)
        let proxy = try startProxy(listeners: [listener], origin: origin)
        return (origin, proxy, "https://127.0.0.1:\(try proxy.port(of: "tls"))")
    }
}
