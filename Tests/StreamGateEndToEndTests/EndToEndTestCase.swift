import StreamGateTestSupport
import XCTest

/// Base for the end-to-end tests: starts origins and proxies that are always stopped after the test, and attaches
/// the proxy's log to any failure.
class EndToEndTestCase: XCTestCase {
    private var origins: [TestOrigin] = []
    private var proxies: [ProxyProcess] = []
    private var peers: [PythonPeer] = []

    override func tearDown() {
        for proxy in proxies {
            let result = proxy.stop(timeout: 3)
            if (testRun?.totalFailureCount ?? 0) > 0 {
                print("--- streamgate log (exit \(result.exitCode)) ---\n\(result.stderr)")
            }
        }
        for origin in origins {
            origin.stop()
        }
        for peer in peers {
            peer.stop()
            if (testRun?.totalFailureCount ?? 0) > 0 {
                print(peer.transcript)
            }
        }
        proxies.removeAll()
        origins.removeAll()
        peers.removeAll()
        super.tearDown()
    }

    /// A running origin on `port` (0: any free one), stopped in tear-down.
    func startOrigin(port: Int = 0) throws -> TestOrigin {
        let origin = try TestOrigin(port: port)
        origins.append(origin)
        return origin
    }

    /// Keeps `peer` (a Python origin or client) for tear-down: stopped by its PID, its transcript printed when the
    /// test failed.
    func track(_ peer: PythonPeer) {
        peers.append(peer)
    }

    /// A running proxy for `yaml` (with `arguments` after `run --config FILE`) once each of `listeners` reported its
    /// port, stopped in tear-down.
    func startProxy(_ yaml: String, arguments: [String] = [], listeners: [String] = ["plain"]) throws -> ProxyProcess {
        let proxy = try ProxyProcess(yaml: yaml, listeners: listeners, extraArguments: arguments)
        proxies.append(proxy)
        return proxy
    }

    /// An origin and a proxy routing `routes` (default: everything) to it; returns both and the proxy's base URL.
    func startOriginAndProxy(
        routes: [ProxyConfigText.Route] = [.init("/")]
    ) throws -> (origin: TestOrigin, proxy: ProxyProcess, base: String) {
        let origin = try startOrigin()
        let proxy = try startProxy(ProxyConfigText.yaml(upstreamPorts: [origin.port], routes: routes))
        return (origin, proxy, try proxy.baseURL())
    }
}
