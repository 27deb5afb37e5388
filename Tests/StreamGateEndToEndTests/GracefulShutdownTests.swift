#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import StreamGateTestSupport
import XCTest

/// Graceful shutdown of `streamgate run --drain-seconds N`: SIGTERM (or SIGINT) closes the listeners at once, lets
/// responses in flight finish during the drain (HTTP/2 clients get GOAWAY NO_ERROR), ends endless event streams at
/// their slot in the first half of it (after a `retry:`), and the process exits 0.
final class GracefulShutdownTests: TLSTestCase {
    private let drainingProxies = DrainingProxies()

    override func tearDown() {
        drainingProxies.stopAll(printingLogs: (testRun?.totalFailureCount ?? 0) > 0)
        super.tearDown()
    }

    func testNewConnectionsAreRefusedWhileAnInFlightResponseCompletes() throws {
        let origin = try startOrigin()
        let proxy = try drainingProxies.start(origin: origin, drainSeconds: 5)
        let base = try proxy.baseURL()
        XCTAssertEqual(try Curl.fetch("\(base)/hello").status, 200, "not serving before the shutdown")
        let curl = try CurlStream(["-N", "\(base)/sse?count=5"])
        XCTAssertTrue(curl.waitForLines(timeout: 5) { originEvents(in: $0).count >= 1 }, curl.stderr)

        let signalled = proxy.send(SIGTERM)
        var probe: CurlResponse?
        let refused = Wait.until(timeout: 2, interval: 0.02) {
            probe = try? Curl.fetch("\(base)/hello", ["--max-time", "2"], timeout: 3)
            return probe.map { $0.status != 200 } ?? false
        }
        let refusedAfter = Date().timeIntervalSince(signalled)
        let stillDraining = proxy.isRunning && !curl.finishedOutput

        XCTAssertTrue(refused, "a new connection was still served after SIGTERM: \(String(describing: probe))")
        XCTAssertNotEqual(probe?.exitCode, 0, "curl: \(probe?.stderr ?? "")")
        XCTAssertTrue(stillDraining, "refusal (\(refusedAfter) s after SIGTERM) was not seen during the drain")
        XCTAssertEqual(curl.waitForExit(timeout: 5), 0, "the in-flight response did not end cleanly: \(curl.stderr)")
        XCTAssertEqual(originEvents(in: curl.lines).map(\.seq), [1, 2, 3, 4, 5])
        let exit = try XCTUnwrap(proxy.waitForExit(timeout: 4), "still running 4 s after SIGTERM (drain 5 s)")
        XCTAssertEqual(exit.result.exitCode, 0, exit.result.stderr)
        XCTAssertLessThan(exit.at.timeIntervalSince(signalled), 3, "waited for the drain period with nothing open")
    }

    func testHTTP2ClientGetsGoAwayAndItsStreamCompletes() throws {
        let origin = try startOrigin()
        let listener = ProxyConfigText.Listener("tls", tls: tlsBlock(try makeCertificate()))
        let proxy = try drainingProxies.start(origin: origin, listeners: [listener], drainSeconds: 5)
        let url = "https://127.0.0.1:\(try proxy.port(of: "tls"))/sse?count=10"
        let nghttp = BackgroundRun {
            try Nghttp.nghttp(["-v", "--stat", "--no-verify-peer", "--timeout=10s", url], timeout: 15)
        }
        XCTAssertTrue(Wait.until(timeout: 5) { origin.connections.requestTargets.contains("/sse?count=10") })
        Thread.sleep(forTimeInterval: 0.15)

        let signalled = proxy.send(SIGTERM)
        let result = try nghttp.wait(timeout: 20)

        let output = result.stdout
        XCTAssertFalse(result.timedOut, "nghttp still running: \(output.suffix(3000))")
        XCTAssertEqual(result.exitCode, 0, result.stderr + output.suffix(3000))
        let goAways = Self.goAwayFrames(in: output)
        XCTAssertFalse(goAways.isEmpty, "no GOAWAY received: \(output.suffix(3000))")
        XCTAssertEqual(goAways.filter { !$0.contains("error_code=NO_ERROR(0x00)") }, [], "GOAWAY with an error")
        let statistics = Nghttp.statistics(in: output)
        XCTAssertEqual(statistics.map(\.status), [200], output.suffix(3000) + "")
        let streamID = statistics.first?.streamID ?? 0
        for frame in goAways {
            let lastStreamID = Self.lastStreamID(in: frame) ?? -1
            XCTAssertGreaterThanOrEqual(lastStreamID, streamID, "GOAWAY excludes the stream in flight: \(frame)")
        }
        let sequence = (1...10).map { seq in output.components(separatedBy: "\"seq\":\(seq),").count - 1 }
        XCTAssertEqual(sequence, Array(repeating: 1, count: 10), "not every event arrived once: \(output.suffix(3000))")
        if let goAway = output.range(of: "recv GOAWAY"), let last = output.range(of: "\"seq\":10,") {
            XCTAssertLessThan(goAway.lowerBound, last.lowerBound, "GOAWAY came only after the stream ended")
        }
        let exit = try XCTUnwrap(proxy.waitForExit(timeout: 4), "still running 4 s after SIGTERM (drain 5 s)")
        XCTAssertEqual(exit.result.exitCode, 0, exit.result.stderr)
        XCTAssertLessThan(exit.at.timeIntervalSince(signalled), 3, "waited for the drain period with nothing open")
    }

    func testEndlessEventStreamEndsCleanlyAtItsDrainSlot() throws {
        try assertEndlessEventStreamClosedAfterDrain(signal: SIGTERM)
    }

    func testSigintDrainsLikeSigterm() throws {
        try assertEndlessEventStreamClosedAfterDrain(signal: SIGINT)
    }

    /// `/sse` without count over HTTP/1.1, `--drain-seconds 1` (so a spread of 0.5 s): events keep flowing until the
    /// stream's slot, it gets a `retry:` (1-3 s around the default 2 s) and ends cleanly about 0.5 s after `signal`,
    /// and the proxy exits 0 at once.
    private func assertEndlessEventStreamClosedAfterDrain(
        signal: Int32,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let origin = try startOrigin()
        let proxy = try drainingProxies.start(origin: origin, drainSeconds: 1)
        let curl = try CurlStream(["-N", "--http1.1", "\(try proxy.baseURL())/sse"])
        let flowing = curl.waitForLines(timeout: 5) { originEvents(in: $0).count >= 2 }
        XCTAssertTrue(flowing, "no events before the signal: \(curl.stderr)", file: file, line: line)

        let signalled = proxy.send(signal)
        let exitCode = curl.waitForExit(timeout: 5)
        let ended = Date().timeIntervalSince(signalled)

        XCTAssertNotNil(exitCode, "curl's stream still open 5 s after the signal", file: file, line: line)
        // An event stream ends cleanly at a boundary (terminating chunk), so EventSource simply reconnects.
        XCTAssertEqual(exitCode, 0, "event stream cut instead of ended cleanly: \(curl.stderr)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(ended, 0.4, "stream closed before its drain slot", file: file, line: line)
        XCTAssertLessThan(ended, 2, "stream closed \(ended) s after the signal", file: file, line: line)
        let retries = curl.lines.compactMap { $0.text.hasPrefix("retry: ") ? Int($0.text.dropFirst(7)) : nil }
        XCTAssertEqual(retries.count, 1, "retry fields: \(retries)", file: file, line: line)
        XCTAssertTrue(retries.allSatisfy { (1000...3000).contains($0) }, "retry \(retries)", file: file, line: line)
        let events = curl.lines.compactMap { received in
            OriginEvent.parse(dataLine: received.text).map { ($0, received.arrivedAt) }
        }
        XCTAssertEqual(events.map(\.0.seq), Array(1...max(1, events.count)), "events lost", file: file, line: line)
        let drainStart = signalled.timeIntervalSince1970 * 1000
        let duringDrain = events.filter { $0.1 > drainStart + 200 }.count
        XCTAssertGreaterThan(duringDrain, 0, "no event reached curl in the drain period", file: file, line: line)
        let exit = try XCTUnwrap(proxy.waitForExit(timeout: 3), "proxy still running", file: file, line: line)
        XCTAssertEqual(exit.result.exitCode, 0, exit.result.stderr, file: file, line: line)
        XCTAssertLessThan(exit.at.timeIntervalSince(signalled), 3, "proxy exited late", file: file, line: line)
    }

    /// The `recv GOAWAY` frames `nghttp -v` printed, each with its detail line.
    private static func goAwayFrames(in output: String) -> [String] {
        let lines = output.components(separatedBy: "\n")
        return lines.indices.filter { lines[$0].contains("recv GOAWAY") }.map { index in
            lines[index] + (index + 1 < lines.count ? lines[index + 1] : "")
        }
    }

    /// `last_stream_id=N` of a GOAWAY frame printed by `nghttp -v`.
    private static func lastStreamID(in frame: String) -> Int? {
        guard let range = frame.range(of: "last_stream_id=") else { return nil }
        return Int(frame[range.upperBound...].prefix { $0.isNumber })
    }
}

/// The same shutdown for WebSocket tunnels (HTTP/1.1 Upgrade, cleartext and TLS): a tunnel open at SIGTERM keeps
/// carrying messages until its drain slot, then the client gets Close 1012 (service restart), the upstream 1001,
/// and the proxy exits 0.
final class WebSocketGracefulShutdownTests: WebSocketTestCase {
    private let drainingProxies = DrainingProxies()

    override func tearDown() {
        drainingProxies.stopAll(printingLogs: (testRun?.totalFailureCount ?? 0) > 0)
        super.tearDown()
    }

    func testCleartextTunnelGetsClose1012AtItsDrainSlot() throws {
        try assertTunnelClosedAtItsDrainSlot(listener: .plain, secure: false)
    }

    func testTLSTunnelGetsClose1012AtItsDrainSlot() throws {
        try assertTunnelClosedAtItsDrainSlot(listener: try tlsListener("secure"), secure: true)
    }

    private func assertTunnelClosedAtItsDrainSlot(
        listener: ProxyConfigText.Listener,
        secure: Bool,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let echo = try startEchoServer()
        let yaml = ProxyConfigText.yaml(upstreamPorts: [echo.port], listeners: [listener])
        let proxy = try drainingProxies.start(yaml: yaml, listeners: [listener.name], drainSeconds: 1)
        let url = "\(try proxy.webSocketBase(of: listener.name, secure: secure))/drain"
        let client = try startClient(.client, ["chatty", url, "--seconds", "10"])
        XCTAssertNotNil(client.waitForEvent("open", timeout: 5), client.transcript, file: file, line: line)
        XCTAssertNotNil(echo.peer.waitForEvent("message", timeout: 5), echo.peer.transcript, file: file, line: line)

        let signalled = proxy.send(SIGTERM).timeIntervalSince1970
        let closed = client.waitForEvent("closed", timeout: 5)

        XCTAssertEqual(closed?.int("code"), 1012, "client events: \(client.events)", file: file, line: line)
        let closedAfter = (closed?.time ?? .infinity) - signalled
        XCTAssertGreaterThanOrEqual(closedAfter, 0.4, "closed before its drain slot", file: file, line: line)
        XCTAssertLessThan(closedAfter, 2, "client closed \(closedAfter) s after SIGTERM", file: file, line: line)
        let upstreamClosed = echo.peer.waitForEvent("closed", timeout: 3) { $0["path"] == "/drain" }
        XCTAssertEqual(upstreamClosed?.int("code"), 1001, "upstream: \(echo.peer.events)", file: file, line: line)
        let upstreamClosedAfter = (upstreamClosed?.time ?? .infinity) - signalled
        XCTAssertLessThan(upstreamClosedAfter, 3, "upstream closed late", file: file, line: line)
        let echoedDuringDrain = echo.peer.events.named("message").filter { ($0.time ?? 0) > signalled + 0.1 }
        XCTAssertFalse(echoedDuringDrain.isEmpty, "no message crossed during the drain", file: file, line: line)
        let exit = try XCTUnwrap(proxy.waitForExit(timeout: 3), "proxy still running", file: file, line: line)
        XCTAssertEqual(exit.result.exitCode, 0, exit.result.stderr, file: file, line: line)
    }
}

/// The origin's events among curl's lines.
private func originEvents(in lines: [CurlStream.Line]) -> [OriginEvent] {
    lines.compactMap { OriginEvent.parse(dataLine: $0.text) }
}

/// Proxies started with `--drain-seconds`, stopped by PID in tear-down (their log printed when the test failed).
private final class DrainingProxies {
    private var proxies: [ProxyProcess] = []

    /// A proxy routing everything to `origin` on `listeners` (default: `plain`).
    func start(
        origin: TestOrigin,
        listeners: [ProxyConfigText.Listener] = [.plain],
        drainSeconds: Int
    ) throws -> ProxyProcess {
        let yaml = ProxyConfigText.yaml(upstreamPorts: [origin.port], listeners: listeners)
        return try start(yaml: yaml, listeners: listeners.map(\.name), drainSeconds: drainSeconds)
    }

    func start(yaml: String, listeners: [String], drainSeconds: Int) throws -> ProxyProcess {
        let proxy = try ProxyProcess(
            yaml: yaml,
            listeners: listeners,
            extraArguments: ["--drain-seconds", "\(drainSeconds)"]
        )
        proxies.append(proxy)
        return proxy
    }

    func stopAll(printingLogs: Bool) {
        for proxy in proxies {
            let result = proxy.stop(timeout: 3)
            if printingLogs {
                print("--- streamgate log (exit \(result.exitCode)) ---\n\(result.stderr)")
            }
        }
        proxies.removeAll()
    }
}

extension ProxyProcess {
    /// Sends `signal` to the proxy's PID; returns when it was sent.
    func send(_ signal: Int32) -> Date {
        let now = Date()
        _ = kill(processIdentifier, signal)
        return now
    }

    /// Waits up to `timeout` seconds for the proxy to exit by itself; how it ended and when, or nil if still running.
    func waitForExit(timeout: TimeInterval) -> (result: ProcessResult, at: Date)? {
        guard Wait.until(timeout: timeout, interval: 0.01, { !isRunning }) else { return nil }
        let at = Date()
        return (stop(timeout: 1), at)
    }
}

/// A blocking child-process run (e.g. `Nghttp.nghttp`) on its own thread, so the test can act while it runs.
final class BackgroundRun: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome: Result<ProcessResult, any Error>?

    init(_ body: @escaping @Sendable () throws -> ProcessResult) {
        Thread { [self] in
            let result = Result { try body() }
            lock.withLock { outcome = result }
        }.start()
    }

    /// The run's result, waiting up to `timeout` seconds (the body's own time limit should be shorter).
    func wait(timeout: TimeInterval) throws -> ProcessResult {
        Wait.until(timeout: timeout) { lock.withLock { outcome != nil } }
        guard let outcome = lock.withLock({ outcome }) else {
            throw TestSupportError("background run still going after \(timeout) s")
        }
        return try outcome.get()
    }
}
