import NIOCore
import StreamGateConfig
import XCTest

@testable import StreamGateProxy

/// A WebSocket tunnel's deadlines on a test clock: pings each way at their intervals, idle timeout that pings do
/// not reset, max lifetime from the upgrading stream's start.
final class WebSocketDeadlinesTests: XCTestCase {
    private typealias T = MachineTestSupport

    private func deadlines(_ config: WebSocketConfig, startedAt: Int64 = 0, now: Int64 = 0) -> WebSocketDeadlines {
        WebSocketDeadlines(config: config, startedAt: T.at(startedAt), now: T.at(now))
    }

    private func nextAt(_ deadlines: WebSocketDeadlines) -> Int64? {
        deadlines.next.map { ($0.at - T.origin).nanoseconds / 1_000_000 }
    }

    func testPingsTheClientAtItsIntervalWhileQuiet() {
        var tunnel = deadlines(WebSocketConfig(idleTimeout: .seconds(60), pingInterval: .seconds(5)))
        XCTAssertEqual(nextAt(tunnel), 5_000)
        XCTAssertNil(tunnel.due(at: T.at(4_999)))
        XCTAssertEqual(tunnel.due(at: T.at(5_001)), .pingClient)
        XCTAssertEqual(nextAt(tunnel), 10_001, "the next ping an interval after this one")
    }

    func testBytesToTheClientPushThePingBack() {
        var tunnel = deadlines(WebSocketConfig(idleTimeout: .seconds(60), pingInterval: .seconds(5)))
        tunnel.lastSentToClient = T.at(4_000)
        XCTAssertNil(tunnel.due(at: T.at(5_000)))
        XCTAssertEqual(nextAt(tunnel), 9_000)
    }

    func testUpstreamPingsOnlyWhenConfigured() {
        var off = deadlines(WebSocketConfig(idleTimeout: .zero, pingInterval: .zero))
        XCTAssertNil(off.next)
        XCTAssertNil(off.due(at: T.at(1_000_000)))

        var on = deadlines(WebSocketConfig(idleTimeout: .zero, pingInterval: .zero, upstreamPingInterval: .seconds(3)))
        XCTAssertEqual(on.due(at: T.at(3_000)), .pingUpstream)
    }

    func testIdleTimeoutCountsFramesNotPings() {
        var tunnel = deadlines(WebSocketConfig(idleTimeout: .seconds(10), pingInterval: .seconds(4)))
        XCTAssertEqual(tunnel.due(at: T.at(4_000)), .pingClient)
        XCTAssertEqual(tunnel.due(at: T.at(8_000)), .pingClient)
        XCTAssertEqual(tunnel.due(at: T.at(10_000)), .idle)
        tunnel.lastFrame = T.at(9_000)
        XCTAssertEqual(nextAt(tunnel), 12_000, "a data frame pushes the idle deadline")
    }

    func testMaxLifetimeCountsFromTheStreamStart() {
        var tunnel = deadlines(
            WebSocketConfig(idleTimeout: .zero, pingInterval: .zero, maxLifetime: .seconds(30)),
            startedAt: -5_000,
            now: 0
        )
        XCTAssertEqual(nextAt(tunnel), 25_000)
        XCTAssertEqual(tunnel.due(at: T.at(25_000)), .lifetime)
    }
}
