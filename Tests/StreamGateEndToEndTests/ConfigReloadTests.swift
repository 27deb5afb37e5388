import Foundation
import StreamGateTestSupport
import XCTest

/// Reloading the configuration file while streams run (SIGHUP, `POST /reload`, `streamgate reload`), against the
/// real binary: live streams and tunnels keep going untouched, new ones follow the new file, a broken file changes
/// nothing and says why.
final class ConfigReloadTests: AdminTestCase {
    /// The proxy's config for these tests: `plain` (h2c, room for 1,000 streams) and `secure` (TLS) listeners,
    /// admin, upstreams `app` and `ws`; `/sse*` to `app` with a 1 s heartbeat whose comment is `comment`, `/ws/` to
    /// the echo server, everything else to `app`. `extra` adds listener, upstream and route lines.
    private struct ReloadConfig {
        var originPort: Int
        var echoPort: Int
        var certificate: TestCertificates.Pair
        var comment = ""
        var extraListeners = ""
        var extraUpstreams = ""
        var extraRoutes = ""
        var plainListener = "  - { name: plain, address: \"127.0.0.1:0\", http2: { max_concurrent_streams: 1000 } }\n"

        var yaml: String {
            """
            version: 1
            listeners:
            \(plainListener)  - name: secure
                address: "127.0.0.1:0"
                tls: { certificate: "\(certificate.certificate.path)", private_key: "\(certificate.privateKey.path)" }
            \(extraListeners)admin: { address: "127.0.0.1:0" }
            upstreams:
              - { name: app, servers: ["127.0.0.1:\(originPort)"] }
              - { name: ws, servers: ["127.0.0.1:\(echoPort)"] }
            \(extraUpstreams)routes:
              - name: events
                match: { path_prefix: /sse }
                upstream: app
                sse: { heartbeat_interval: 1s, heartbeat_comment: "\(comment)" }
              - { match: { path_prefix: /ws/ }, upstream: ws }
            \(extraRoutes)  - { match: { path_prefix: / }, upstream: app }

            """
        }
    }

    /// Where the `secure` listener's certificate files are (rotated in place by one test).
    private var certificates: TemporaryDirectory?

    /// An origin, the echo server and a proxy on `ReloadConfig` with a certificate for `before.test`.
    private func startReloadable() throws -> (origin: TestOrigin, config: ReloadConfig, proxy: ProxyProcess) {
        let origin = try startOrigin()
        let echo = try startEchoServer()
        let directory = try temporaryDirectory("streamgate-reload-tls")
        certificates = directory
        let config = ReloadConfig(
            originPort: origin.port,
            echoPort: echo.port,
            certificate: try TestCertificates.make(commonName: "before.test", name: "site", in: directory)
        )
        let proxy = try startWebSocketProxy(config.yaml, listeners: ["plain", "secure", "admin"])
        adminBase = "http://127.0.0.1:\(try proxy.port(of: "admin"))"
        self.proxy = proxy
        return (origin, config, proxy)
    }

    /// Rewrites the proxy's config file, sends SIGHUP and waits for the log to say generation `generation` applied.
    private func reloadBySignal(_ proxy: ProxyProcess, _ yaml: String, expecting generation: Int) throws {
        try yaml.write(to: proxy.configURL, atomically: true, encoding: .utf8)
        ProcessSignal.hangUp(proxy.processIdentifier)
        let applied = Wait.until(timeout: 10) { proxy.log.contains("generation \(generation) applied") }
        XCTAssertTrue(applied, "generation \(generation) was not applied; log:\n\(proxy.log)")
    }

    func testReloadUnderLoadLeavesLiveStreamsUntouchedAndAppliesToNewOnes() throws {
        let other = try startOrigin()
        let (origin, initial, proxy) = try startReloadable()
        var config = initial
        let plain = try proxy.port(of: "plain")
        let secure = try proxy.port(of: "secure")
        let plainSocket = ProcessStatus.listeningSocketInode(port: plain)
        XCTAssertNotNil(plainSocket)

        // 500 event streams on one h2c connection, 50 WebSockets echoing every 200 ms, one event stream over TLS
        // (h2), and a quiet event stream that shows which heartbeat comment its route had.
        let client = try RawHTTP2Client(port: plain)
        defer { client.close() }
        let streams = (0..<500).map { _ in client.get("/sse-resume?gap=200") }
        let sockets = try startClient(
            .client,
            ["chatty", "\(try proxy.webSocketBase())/ws/reload", "--connections", "50", "--interval", "0.2",
             "--seconds", "8"]
        )
        let overTLS = try CurlStream(["-N", "-s", "--http2", "-k", "https://127.0.0.1:\(secure)/sse-resume?gap=200"])
        defer { overTLS.kill() }
        let quietBefore = try CurlStream(["-N", "-s", "http://127.0.0.1:\(plain)/sse-split?count=1&pause=0"])
        defer { quietBefore.kill() }
        XCTAssertTrue(
            client.waitForStream(streams[499], timeout: 20) { EventStreamText.ids(in: String(decoding: $0.data, as: UTF8.self)).count >= 3 },
            "the 500th stream never got its third event"
        )
        XCTAssertTrue(Wait.until(timeout: 15) { sockets.events.named("open").count == 50 }, sockets.transcript)
        XCTAssertTrue(quietBefore.waitForLines(timeout: 5) { $0.contains { $0.text == ":" } }, "no heartbeat before")
        _ = try Curl.fetch("http://127.0.0.1:\(plain)/later/hello")
        XCTAssertTrue(origin.connections.requestTargets.contains("/later/hello"))
        let residentBefore = try ProcessStatus.residentBytes(of: proxy.processIdentifier)
        let receivedBefore = streams.map { client.stream($0).data.count }

        // The reload: another heartbeat comment, a new route to a new upstream, the certificate files rotated.
        _ = try TestCertificates.make(commonName: "after.test", name: "site", in: certificates!)
        config.comment = "gen2"
        config.extraUpstreams = "  - { name: other, servers: [\"127.0.0.1:\(other.port)\"] }\n"
        config.extraRoutes = "  - { name: later, match: { path_prefix: /later/ }, upstream: other }\n"
        try reloadBySignal(proxy, config.yaml, expecting: 2)

        // New streams, requests and handshakes follow the new file.
        let quietAfter = try CurlStream(["-N", "-s", "http://127.0.0.1:\(plain)/sse-split?count=1&pause=0"])
        defer { quietAfter.kill() }
        XCTAssertTrue(quietAfter.waitForLines(timeout: 5) { $0.contains { $0.text == ":gen2" } }, "no :gen2 heartbeat")
        XCTAssertFalse(other.connections.requestTargets.contains("/later/hello"))
        _ = try Curl.fetch("http://127.0.0.1:\(plain)/later/hello")
        XCTAssertTrue(other.connections.requestTargets.contains("/later/hello"), "the new route was not used")
        let handshake = try OpenSSLTool.connect(port: secure, ["-servername", "localhost"])
        XCTAssertTrue(handshake.stdout.contains("after.test"), handshake.stdout)
        XCTAssertFalse(handshake.stdout.contains("before.test"), handshake.stdout)
        // The listening socket that stayed in the file is the same socket: no accept gap.
        XCTAssertEqual(ProcessStatus.listeningSocketInode(port: plain), plainSocket)

        // Live streams and tunnels kept their settings and kept flowing, nothing lost, nothing twice.
        Thread.sleep(forTimeInterval: 2)
        XCTAssertTrue(quietBefore.lines.filter { $0.text.hasPrefix(":") }.allSatisfy { $0.text == ":" })
        var broken: [String] = []
        for (index, id) in streams.enumerated() {
            let state = client.stream(id)
            let ids = EventStreamText.ids(in: String(decoding: state.data, as: UTF8.self))
            if !EventStreamText.isUnbroken(ids) || state.ended || state.resetCode != nil || state.data.count <= receivedBefore[index] {
                broken.append("stream \(id): ended \(state.ended), reset \(state.resetCode.map(String.init) ?? "-"), ids \(ids)")
            }
        }
        XCTAssertEqual(broken, [], "\(broken.count) of 500 streams broke across the reload")
        let tlsIDs = EventStreamText.ids(in: overTLS.lines.map(\.text).joined(separator: "\n"))
        XCTAssertTrue(EventStreamText.isUnbroken(tlsIDs) && tlsIDs.count >= 15, "TLS stream ids: \(tlsIDs)")
        XCTAssertNotNil(sockets.waitForEvent("done", timeout: 15), sockets.transcript)
        let survivors = sockets.events.named("still_open")
        XCTAssertEqual(survivors.count, 50, sockets.transcript)
        XCTAssertTrue(survivors.allSatisfy { ($0.int("messages") ?? 0) >= 30 }, sockets.transcript)
        XCTAssertEqual(sockets.events.named("closed").count, 0, sockets.transcript)

        // One process, no second copy of anything.
        let residentAfter = try ProcessStatus.residentBytes(of: proxy.processIdentifier)
        XCTAssertLessThan(Double(residentAfter), Double(residentBefore) * 1.5, "RSS \(residentBefore) -> \(residentAfter)")
        let config2 = try JSONSerialization.jsonObject(with: try admin("/config").body) as? [String: Any]
        XCTAssertEqual(config2?["generation"] as? Int, 2)
        XCTAssertNotNil(config2?["loaded_at"] as? String)
        print("reload under load: RSS \(residentBefore / 1024) KiB -> \(residentAfter / 1024) KiB")
    }

    func testBrokenConfigChangesNothingAndSaysWhyOnEveryPath() throws {
        let (_, config, proxy) = try startReloadable()
        let plain = try proxy.port(of: "plain")
        let stream = try CurlStream(["-N", "-s", "--http2-prior-knowledge", "http://127.0.0.1:\(plain)/sse-resume?gap=100"])
        defer { stream.kill() }
        XCTAssertTrue(stream.waitForLines(timeout: 5) { $0.contains { $0.text == "id: 2" } })

        // Invalid YAML values: SIGHUP logs each error at its line and key; POST /reload answers 422 with them.
        var broken = config.yaml.replacingOccurrences(of: "upstream: ws }", with: "upstream: nowhere }")
        broken = broken.replacingOccurrences(of: "heartbeat_interval: 1s", with: "heartbeat_interval: soon")
        try broken.write(to: proxy.configURL, atomically: true, encoding: .utf8)
        ProcessSignal.hangUp(proxy.processIdentifier)
        XCTAssertTrue(Wait.until(timeout: 10) { proxy.log.contains("reload (SIGHUP) failed with 2 errors") }, proxy.log)
        let file = proxy.configURL.path
        XCTAssertTrue(proxy.log.contains("\(file):15: routes[0].sse.heartbeat_interval:"), proxy.log)
        XCTAssertTrue(proxy.log.contains("\(file):16: routes[1].upstream: no upstream named \"nowhere\""), proxy.log)

        let answer = try admin("/reload", ["-X", "POST"])
        XCTAssertEqual(answer.status, 422, answer.text)
        let object = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any]
        XCTAssertEqual(object?["result"] as? String, "failed")
        let errors = object?["errors"] as? [[String: Any]] ?? []
        XCTAssertEqual(errors.map { $0["key"] as? String }, ["routes[0].sse.heartbeat_interval", "routes[1].upstream"])
        XCTAssertEqual(errors.map { $0["line"] as? Int }, [15, 16])

        // Valid YAML the proxy still cannot apply: a new listener on a port in use, a certificate that is not one.
        // Nothing of it happens (the other new listener is not bound either).
        let taken = try proxy.port(of: "admin")
        var unbindable = config
        unbindable.extraListeners = """
              - { name: extra, address: "127.0.0.1:0" }
              - { name: clash, address: "127.0.0.1:\(taken)" }

            """
        try unbindable.yaml.write(to: proxy.configURL, atomically: true, encoding: .utf8)
        let clash = try admin("/reload", ["-X", "POST"])
        XCTAssertEqual(clash.status, 422, clash.text)
        XCTAssertTrue(clash.text.contains("\(file):8: listeners[3].address: listener clash: cannot bind 127.0.0.1:\(taken): address already in use"), clash.text)
        XCTAssertNil(proxy.currentPort(of: "extra"), "a listener of the refused reload was bound")
        try "not a certificate\n".write(to: config.certificate.certificate, atomically: true, encoding: .utf8)
        try config.yaml.write(to: proxy.configURL, atomically: true, encoding: .utf8)
        let badCertificate = try StreamGateCLI.run(["reload", "--admin", adminBase], timeout: 10)
        XCTAssertEqual(badCertificate.exitCode, 1, badCertificate.stdout + badCertificate.stderr)
        XCTAssertTrue(badCertificate.stderr.contains("\(file):6: listeners[1].tls.certificate:"), badCertificate.stderr)

        // Still generation 1, still serving, the stream never noticed; every failure counted.
        let current = try JSONSerialization.jsonObject(with: try admin("/config").body) as? [String: Any]
        XCTAssertEqual(current?["generation"] as? Int, 1)
        XCTAssertEqual(try Curl.fetch("http://127.0.0.1:\(plain)/hello").status, 200)
        let metrics = try admin("/metrics").text
        XCTAssertTrue(metrics.contains("streamgate_config_reloads_total{result=\"failed\"} 4"), metrics)
        XCTAssertTrue(metrics.contains("streamgate_config_generation 1"), metrics)
        XCTAssertTrue(stream.waitForLines(timeout: 5) { $0.contains { $0.text == "id: 8" } }, "the stream stalled")
        let ids = EventStreamText.ids(in: stream.lines.map(\.text).joined(separator: "\n"))
        XCTAssertTrue(EventStreamText.isUnbroken(ids), "\(ids)")
        XCTAssertEqual(stream.waitForExit(timeout: 0), nil, "the stream ended")
    }

    func testListenersAddedAndRemovedByReloadWhileTheirConnectionsStay() throws {
        let (_, initial, proxy) = try startReloadable()
        var config = initial
        let plain = try proxy.port(of: "plain")
        let onPlain = try CurlStream(["-N", "-s", "http://127.0.0.1:\(plain)/sse-resume?gap=100"])
        defer { onPlain.kill() }
        XCTAssertTrue(onPlain.waitForLines(timeout: 5) { $0.contains { $0.text == "id: 2" } })

        // Added: a third listener, bound at once and serving (`streamgate reload`, i.e. POST /reload).
        config.extraListeners = "  - { name: added, address: \"127.0.0.1:0\" }\n"
        try config.yaml.write(to: proxy.configURL, atomically: true, encoding: .utf8)
        let applied = try StreamGateCLI.run(["reload", "--admin", adminBase], timeout: 10)
        XCTAssertEqual(applied.exitCode, 0, applied.stderr)
        XCTAssertTrue(applied.stdout.contains("reloaded: generation 2 serving"), applied.stdout)
        let added = try XCTUnwrap(proxy.currentPort(of: "added"), proxy.log)
        XCTAssertEqual(try Curl.fetch("http://127.0.0.1:\(added)/hello").status, 200)

        // Removed: `plain` stops accepting, its live stream carries on.
        config.plainListener = ""
        try reloadBySignal(proxy, config.yaml, expecting: 3)
        XCTAssertTrue(proxy.log.contains("listener plain removed"), proxy.log)
        let refused = try Curl.run(["-s", "-o", "/dev/null", "http://127.0.0.1:\(plain)/hello"], timeout: 10)
        XCTAssertEqual(refused.exitCode, 7, "curl exit \(refused.exitCode): plain still accepts")
        let before = onPlain.lines.count
        XCTAssertTrue(onPlain.waitForLines(timeout: 5) { $0.count >= before + 6 }, "the stream on the removed listener stopped")
        let ids = EventStreamText.ids(in: onPlain.lines.map(\.text).joined(separator: "\n"))
        XCTAssertTrue(EventStreamText.isUnbroken(ids), "\(ids)")
        XCTAssertEqual(try Curl.fetch("http://127.0.0.1:\(added)/hello").status, 200)
    }
}
