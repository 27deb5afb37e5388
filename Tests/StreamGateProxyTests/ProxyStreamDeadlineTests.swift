import NIOCore
import NIOHTTP1
import StreamGateConfig
import XCTest

@testable import StreamGateProxy

/// The timed side of a proxied stream, on a test clock: response-header, idle and max_lifetime timeouts before and
/// during the response, heartbeats on an idle event stream, a heartbeat or max_lifetime that falls due inside an
/// event, the held head, and the shutdown drain. No test waits.
final class ProxyStreamDeadlineTests: XCTestCase {
    private typealias T = MachineTestSupport

    private func eventStream(
        timeouts: RouteTimeouts = RouteTimeouts(),
        sse: SSEConfig = SSEConfig(heartbeatInterval: .seconds(2))
    ) -> ProxyStreamStateMachine {
        var machine = T.machine(timeouts: timeouts, sse: sse)
        machine.startAndLease()
        _ = machine.responseHead(T.eventStreamHead, at: 0)
        return machine
    }

    func testResponseHeaderTimeoutStartsWhenTheRequestIsFullySent() {
        var machine = T.machine(method: .POST, timeouts: RouteTimeouts(responseHeader: .seconds(10)))
        _ = machine.start()
        XCTAssertEqual(machine.next?.1, .idle, "no response-header deadline while connecting")
        _ = machine.upstreamLeased(now: T.at(500))
        XCTAssertEqual(machine.next?.1, .idle, "nor while the body is still going up")
        _ = machine.requestBodyReceived(T.bytes("part"), now: T.at(9_000))
        XCTAssertEqual(machine.fire(at: 10_500), "none", "an upload slower than response_header is not cut")
        machine.deadlinesMovedEarlier = false
        _ = machine.requestEndReceived(now: T.at(12_000))
        XCTAssertTrue(machine.deadlinesMovedEarlier)
        XCTAssertEqual(machine.next?.0, 22_000)
        XCTAssertEqual(machine.next?.1, .responseHeader)
        XCTAssertEqual(machine.fire(at: 21_999), "none")
        XCTAssertEqual(machine.fire(at: 22_000), "respond 504: no response head within 10s")
        XCTAssertEqual(machine.outcome, .timeoutResponseHeader)
    }

    func testResponseHeaderTimeoutOfARequestThatEndedWhileConnecting() {
        var machine = T.machine(timeouts: RouteTimeouts(responseHeader: .seconds(10)))
        _ = machine.start()
        _ = machine.requestEndReceived(now: T.at(0))
        _ = machine.upstreamLeased(now: T.at(500))
        XCTAssertEqual(machine.next?.0, 10_500)
        XCTAssertEqual(machine.next?.1, .responseHeader)
    }

    func testIdleAndLifetimeBeforeAResponseAnswer504() {
        var idle = T.machine(timeouts: RouteTimeouts(responseHeader: .seconds(60), idle: .seconds(1)))
        idle.startAndLease()
        _ = idle.requestEndReceived(now: T.at(0))
        XCTAssertEqual(idle.fire(at: 1_000), "respond 504: upstream idle for 1s before responding")
        XCTAssertEqual(idle.outcome, .timeoutIdle)

        var lifetime = T.machine(timeouts: RouteTimeouts(responseHeader: .seconds(60), maxLifetime: .seconds(2)))
        lifetime.startAndLease()
        XCTAssertEqual(lifetime.fire(at: 2_000), "respond 504: max_lifetime 2s reached before a response")
        XCTAssertEqual(lifetime.outcome, .timeoutLifetime)
    }

    func testIdleTimeoutCutsAPlainResponseAndEndsAnEventStreamCleanly() {
        var plain = T.machine(timeouts: RouteTimeouts(idle: .seconds(3)))
        plain.startAndLease()
        _ = plain.responseHead(T.head(), at: 0)
        _ = plain.body("x", at: 2_000)
        XCTAssertEqual(plain.next?.0, 5_000, "bytes push the idle deadline")
        XCTAssertEqual(plain.fire(at: 3_000), "none")
        XCTAssertEqual(plain.fire(at: 5_000), "cut")
        XCTAssertEqual(plain.outcome, .timeoutIdle)

        var events = eventStream(timeouts: RouteTimeouts(idle: .seconds(3)), sse: SSEConfig(heartbeatInterval: .zero))
        XCTAssertEqual(events.fire(at: 3_000), "endCleanly(nil)")
        XCTAssertEqual(events.outcome, .timeoutIdle)
    }

    func testHeartbeatsDoNotCountAsActivity() {
        var machine = eventStream(timeouts: RouteTimeouts(idle: .seconds(5)))
        XCTAssertEqual(machine.fire(at: 2_000), "write(\":\\n\\n\", flush)")
        XCTAssertEqual(machine.fire(at: 4_000), "write(\":\\n\\n\", flush)")
        XCTAssertEqual(machine.fire(at: 5_000), "endCleanly(nil)")
    }

    func testImmediateFirstByteSendsTheHeadWithAComment() {
        var machine = T.machine(sse: SSEConfig(heartbeatInterval: .seconds(2)))
        machine.startAndLease()
        XCTAssertEqual(machine.responseHead(T.eventStreamHead, at: 0), "write(head 200, \":\\n\\n\", flush)")
        XCTAssertEqual(machine.kind, .sse)
    }

    func testRetryPreambleGoesFirst() {
        var machine = T.machine(sse: SSEConfig(retry: .seconds(3)))
        machine.startAndLease()
        XCTAssertEqual(machine.responseHead(T.eventStreamHead, at: 0), "write(head 200, \"retry: 3000\\n\\n\", flush)")
    }

    func testIdleEventStreamGetsHeartbeatsOneIntervalApart() {
        var machine = eventStream()
        XCTAssertEqual(machine.next?.0, 2_000)
        XCTAssertEqual(machine.next?.1, .heartbeat)
        XCTAssertEqual(machine.fire(at: 1_999), "none")
        XCTAssertEqual(machine.fire(at: 2_003), "write(\":\\n\\n\", flush)")
        XCTAssertEqual(machine.next?.0, 4_000, "on the grid: one interval after the last slot")
        XCTAssertEqual(machine.fire(at: 4_000), "write(\":\\n\\n\", flush)")
        XCTAssertEqual(machine.eventStream?.heartbeatCount, 2)
    }

    func testUpstreamBytesPushTheHeartbeatBack() {
        var machine = eventStream()
        XCTAssertEqual(machine.body("data: a\n\n", at: 1_500), "write(\"data: a\\n\\n\")")
        XCTAssertEqual(machine.next?.0, 3_500)
        XCTAssertEqual(machine.fire(at: 2_000), "none")
        XCTAssertEqual(machine.eventStream?.eventCount, 1)
    }

    func testHeartbeatDueInsideAnEventWaitsForTheBoundary() {
        var machine = eventStream()
        _ = machine.body("data: half", at: 100)
        XCTAssertEqual(machine.fire(at: 2_100), "none", "no heartbeat inside an event")
        XCTAssertNotEqual(machine.next?.1, .heartbeat, "none due before the next upstream bytes")
        machine.deadlinesMovedEarlier = false
        XCTAssertEqual(machine.body(" more\n\n", at: 9_000), "write(\" more\\n\\n\")")
        XCTAssertTrue(machine.deadlinesMovedEarlier, "the heartbeat is due again: the timer must be re-armed")
        XCTAssertEqual(machine.next?.0, 11_000)
        XCTAssertEqual(machine.next?.1, .heartbeat)
    }

    func testMaxLifetimeInsideAnEventEndsAtTheNextBoundary() {
        var machine = eventStream(timeouts: RouteTimeouts(maxLifetime: .seconds(10)), sse: SSEConfig(heartbeatInterval: .zero))
        _ = machine.body("data: a\n", at: 9_000)
        XCTAssertEqual(machine.fire(at: 10_000), "none")
        XCTAssertEqual(machine.phase, .draining)
        XCTAssertNotEqual(machine.next?.1, .maxLifetime)
        XCTAssertEqual(machine.body("data: b\n\ndata: c\n\n", at: 10_500), "endCleanly(\"data: b\\n\\n\")")
        XCTAssertEqual(machine.outcome, .timeoutLifetime)
    }

    func testMaxLifetimeAtABoundaryEndsAtOnce() {
        var machine = eventStream(timeouts: RouteTimeouts(maxLifetime: .seconds(10)), sse: SSEConfig(heartbeatInterval: .zero))
        _ = machine.body("data: a\n\n", at: 9_000)
        XCTAssertEqual(machine.fire(at: 10_000), "endCleanly(nil)")
    }

    func testMaxLifetimeCutsAPlainResponse() {
        var machine = T.machine(timeouts: RouteTimeouts(maxLifetime: .seconds(1)))
        machine.startAndLease()
        _ = machine.responseHead(T.head(), at: 0)
        XCTAssertEqual(machine.fire(at: 1_000), "cut")
    }

    func testHeldHeadGoesOutWithTheFirstUpstreamBytes() {
        var machine = T.machine(sse: SSEConfig(heartbeatInterval: .seconds(2), firstByte: .upstream))
        machine.startAndLease()
        XCTAssertEqual(machine.responseHead(T.eventStreamHead, at: 0), "none")
        XCTAssertEqual(machine.body("data: a\n\n", at: 500), "write(head 200, \"data: a\\n\\n\")")
        XCTAssertEqual(machine.body("data: b\n\n", at: 600), "write(\"data: b\\n\\n\")")
    }

    func testHeldHeadGoesOutWithAHeartbeatWhenTheUpstreamStaysSilent() {
        var machine = T.machine(sse: SSEConfig(heartbeatInterval: .seconds(2), firstByte: .upstream))
        machine.startAndLease()
        _ = machine.responseHead(T.eventStreamHead, at: 0)
        XCTAssertEqual(machine.fire(at: 2_000), "write(head 200, \":\\n\\n\", flush)")
    }

    func testHeldHeadGoesOutWhenTheResponseEnds() {
        var machine = T.machine(sse: SSEConfig(firstByte: .upstream))
        machine.startAndLease()
        _ = machine.requestEndReceived(now: T.at(0))
        _ = machine.responseHead(T.eventStreamHead, at: 0)
        XCTAssertEqual(T.describe(machine.responseEndReceived()), "complete(head 200, reuse true)")
    }

    func testShutdownEndsAnEventStreamAtABoundary() {
        var atBoundary = eventStream()
        XCTAssertEqual(T.describe(atBoundary.serverGoingAway()), "endCleanly(nil)")
        XCTAssertEqual(atBoundary.outcome, .drained)

        var midEvent = eventStream()
        _ = midEvent.body("data: a", at: 10)
        XCTAssertEqual(T.describe(midEvent.serverGoingAway()), "none")
        XCTAssertEqual(midEvent.phase, .draining)
        XCTAssertEqual(midEvent.body("\n\ndata: b\n\n", at: 20), "endCleanly(\"\\n\\n\")")
        XCTAssertEqual(midEvent.outcome, .drained)
    }

    func testShutdownLeavesOtherResponsesToTheConnectionClose() {
        var machine = T.machine()
        machine.startAndLease()
        _ = machine.responseHead(T.head(), at: 0)
        XCTAssertEqual(T.describe(machine.serverGoingAway()), "none")
        XCTAssertTrue(machine.isStreaming)
    }

    func testAbandonedStreamAnswersOrCuts() {
        var waiting = T.machine()
        waiting.startAndLease()
        XCTAssertEqual(T.describe(waiting.abandon(reason: "loop gone")), "respond 503: loop gone")
        var streaming = eventStream()
        XCTAssertEqual(T.describe(streaming.abandon(reason: "loop gone")), "cut")
    }
}
