import Foundation
import StreamGateTestSupport
import XCTest

/// Base for the WebSocket end-to-end tests: Python peers (`WebSocketPeers`, tracked by `EndToEndTestCase`) and
/// proxies with any listeners, all stopped by PID in tear-down; on failure the proxy log and every peer's output
/// are printed.
class WebSocketTestCase: EndToEndTestCase {
    private var webSocketProxies: [ProxyProcess] = []
    private var directories: [TemporaryDirectory] = []

    override func setUpWithError() throws {
        try super.setUpWithError()
        try WebSocketPeers.requireWebSocketsLibrary()
    }

    override func tearDown() {
        let failed = (testRun?.totalFailureCount ?? 0) > 0
        for proxy in webSocketProxies {
            let result = proxy.stop(timeout: 3)
            if failed {
                print("--- streamgate log (exit \(result.exitCode)) ---\n\(result.stderr)")
            }
        }
        webSocketProxies.removeAll()
        directories.removeAll()
        super.tearDown()
    }

    /// The `websockets` echo server (see `WebSocketPeers.echoServerSource`), stopped in tear-down.
    func startEchoServer(pages: [String: String] = [:]) throws -> (peer: PythonPeer, port: Int) {
        var files: [String: String] = [:]
        var arguments: [String] = []
        for (index, (path, html)) in pages.sorted(by: { $0.key < $1.key }).enumerated() {
            files["page\(index).html"] = html
            arguments += ["--page", "\(path)=page\(index).html"]
        }
        let server = try WebSocketPeers.startServer(.echoServer, arguments, files: files)
        track(server.peer)
        return server
    }

    /// The hand-framing upstream that reports every frame, stopped in tear-down.
    func startRawUpstream() throws -> (peer: PythonPeer, port: Int) {
        let server = try WebSocketPeers.startServer(.rawUpstream)
        track(server.peer)
        return server
    }

    /// Runs a client script to its end (at most `timeout` seconds); its output is printed if the test fails.
    func runClient(_ script: WebSocketPeers.Script, _ arguments: [String], timeout: TimeInterval) throws -> PythonPeer {
        let client = try WebSocketPeers.run(script, arguments, timeout: timeout)
        track(client)
        return client
    }

    /// Starts a client script and returns at once; stopped in tear-down.
    func startClient(_ script: WebSocketPeers.Script, _ arguments: [String]) throws -> PythonPeer {
        let client = try WebSocketPeers.start(script, arguments)
        track(client)
        return client
    }

    /// A proxy for `yaml` waiting for `listeners`, with `--log-level debug` when `debug` is set; stopped in tear-down.
    func startWebSocketProxy(
        _ yaml: String,
        listeners: [String] = ["plain"],
        debug: Bool = false,
        arguments: [String] = []
    ) throws -> ProxyProcess {
        let proxy = try ProxyProcess(
            yaml: yaml,
            listeners: listeners,
            extraArguments: (debug ? ["--log-level", "debug"] : []) + arguments
        )
        webSocketProxies.append(proxy)
        return proxy
    }

    /// A TLS listener named `name` with a fresh self-signed certificate for localhost and 127.0.0.1.
    func tlsListener(_ name: String = "secure", http2: String? = nil) throws -> ProxyConfigText.Listener {
        let directory = try TemporaryDirectory(prefix: "streamgate-ws-tls")
        directories.append(directory)
        let pair = try TestCertificates.make(in: directory)
        let tls = ProxyConfigText.TLS(certificate: pair.certificate.path, privateKey: pair.privateKey.path)
        return ProxyConfigText.Listener(name, tls: tls, http2: http2)
    }

    /// A temporary directory kept until tear-down.
    func temporaryDirectory(_ prefix: String) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(prefix: prefix)
        directories.append(directory)
        return directory
    }
}

extension ProxyProcess {
    /// `ws://127.0.0.1:PORT` (or `wss://` with `secure`) of listener `name`.
    func webSocketBase(of listener: String = "plain", secure: Bool = false) throws -> String {
        "\(secure ? "wss" : "ws")://127.0.0.1:\(try port(of: listener))"
    }
}
