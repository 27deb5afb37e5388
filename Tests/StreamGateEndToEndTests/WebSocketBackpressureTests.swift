import Foundation
import StreamGateTestSupport
import XCTest

/// Backpressure through a tunnel: while a client reads nothing, an upstream flooding 64 KiB messages is held back by
/// StreamGate (its sends block), and StreamGate's memory stays flat instead of buffering the flood.
final class WebSocketBackpressureTests: WebSocketTestCase {
    func testStalledClientThrottlesTheUpstreamAndKeepsMemoryFlat() throws {
        let echo = try startEchoServer()
        let proxy = try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [echo.port]))
        let base = try proxy.webSocketBase()

        // Reference: the same flood for 2 s to a client that reads everything.
        let drained = try runClient(.rawClient, ["drain", "\(base)/flood?seconds=2&size=65536", "--seconds", "3"],
                                    timeout: 15)
        let reference = echo.peer.waitForEvent("flood", timeout: 3) { $0["path"]?.contains("seconds=2") ?? false }
        let referenceRate = Double(reference?.int("bytes") ?? 0) / 2
        XCTAssertGreaterThan(referenceRate, 0, "no reference flood: \(drained.transcript)")

        // The flood for 5 s to a client that reads nothing for 7 s.
        let before = try ProcessStatus.residentBytes(of: proxy.processIdentifier)
        var peak = before
        let stalled = try startClient(.rawClient, ["stall", "\(base)/flood?seconds=5&size=65536", "--seconds", "7"])
        XCTAssertNotNil(stalled.waitForEvent("stalling", timeout: 5), stalled.transcript)
        var flood: PythonPeerEvent?
        Wait.until(timeout: 8, interval: 0.25) {
            peak = max(peak, (try? ProcessStatus.residentBytes(of: proxy.processIdentifier)) ?? 0)
            flood = echo.peer.events.named("flood").first { $0["path"]?.contains("seconds=5") ?? false }
            return flood != nil
        }
        let after = try ProcessStatus.residentBytes(of: proxy.processIdentifier)
        peak = max(peak, after)
        XCTAssertTrue(stalled.isRunning, "the stalled client ended early: \(stalled.transcript)")

        let sent = flood?.int("bytes") ?? .max
        let stalledRate = Double(sent) / 5
        XCTAssertLessThan(sent, 64 << 20, "the upstream sent \(sent) bytes to a client that read nothing")
        XCTAssertLessThan(
            stalledRate,
            referenceRate / 4,
            "stalled \(Int(stalledRate)) B/s vs reading client \(Int(referenceRate)) B/s: upstream not held back"
        )
        if !Sanitizers.active {  // A sanitizer's shadow memory and quarantine count in RSS.
            XCTAssertLessThan(peak - before, 64 << 20, "RSS grew from \(before) to \(peak) bytes")
        }
        print("backpressure: reference \(Int(referenceRate)) B/s; stalled sent \(sent) B in 5 s; RSS \(before) -> "
            + "peak \(peak) bytes")
    }
}
