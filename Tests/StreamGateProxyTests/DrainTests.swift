import NIOCore
import StreamGateConfig
import XCTest

@testable import StreamGateProxy

/// The drain on a test clock: the slots a plan hands out, an event stream's `retry:` and its end at a boundary
/// after its slot, a WebSocket tunnel's drain deadline.
final class DrainTests: XCTestCase {
    private typealias T = MachineTestSupport

    private func plan(spread: Duration = .seconds(10), retry: Duration? = .seconds(2)) -> DrainPlan {
        DrainPlan(config: DrainConfig(sseRetry: retry, webSocketCloseCode: 4000), spread: spread, startedAt: T.at(0))
    }

    private func milliseconds(_ deadline: NIODeadline) -> Int64 {
        (deadline - T.origin).nanoseconds / 1_000_000
    }

    private func eventStream() -> ProxyStreamStateMachine {
        var machine = T.machine(sse: SSEConfig(heartbeatInterval: .seconds(15)))
        machine.startAndLease()
        _ = machine.responseHead(T.eventStreamHead, at: 0)
        return machine
    }

    /// The drain's fields live out of line, in storage only a stream that sets one allocates; the machine is still
    /// a value: a copy drained later leaves the original as it was, and the original drains on its own slot.
    func testDrainStateIsAllocatedByTheFirstDrainAndCopiedOnWrite() {
        var machine = eventStream()
        _ = machine.body("id: 1\ndata: a\n\n", at: 100)
        machine.pendingEnd = nil
        machine.drainRetry = nil
        XCTAssertNil(machine.uncommon, "a stream never drained holds drain storage")
        var copy = machine
        let slot = DrainSlot(endAt: T.at(4_000), retryMilliseconds: nil, webSocketCloseCode: 1012)
        _ = copy.drain(slot, now: T.at(200), allocator: T.allocator)
        XCTAssertNotNil(copy.uncommon)
        XCTAssertNil(machine.uncommon, "draining a copy drained the original")
        let laterSlot = DrainSlot(endAt: T.at(6_000), retryMilliseconds: nil, webSocketCloseCode: 1012)
        _ = machine.drain(laterSlot, now: T.at(300), allocator: T.allocator)
        var third = machine
        third.drainDeadline = T.at(1)
        XCTAssertEqual(machine.next?.0, 6_000, "changing a copy's drain deadline changed the original's")
        XCTAssertEqual(copy.next?.0, 4_000)
        XCTAssertEqual(third.drainDeadline, T.at(1))
    }

    func testSlotsSpreadEvenlyAndTheLastEndsWithTheSpread() {
        let plan = plan()
        XCTAssertEqual((0..<4).map { milliseconds(plan.slot(index: $0, of: 4).endAt) }, [2_500, 5_000, 7_500, 10_000])
        XCTAssertEqual(milliseconds(plan.slot(index: 0, of: 1).endAt), 10_000)
        XCTAssertEqual(plan.slot(index: 0, of: 1).webSocketCloseCode, 4000)
        XCTAssertEqual(milliseconds(plan.lateSlot(now: T.at(3_000)).endAt), 10_000, "late streams end with the spread")
        XCTAssertEqual(milliseconds(plan.lateSlot(now: T.at(12_000)).endAt), 12_000, "or at once after it")
    }

    func testRetryIsJitteredWithinHalfToOneAndAHalfTimes() {
        let retries = (0..<200).compactMap { plan().slot(index: $0, of: 200).retryMilliseconds }
        XCTAssertEqual(retries.count, 200)
        XCTAssertTrue(retries.allSatisfy { (1_000...3_000).contains($0) }, "\(retries)")
        XCTAssertGreaterThan(Set(retries).count, 50, "not jittered: \(Set(retries))")
        XCTAssertNil(plan(retry: nil).slot(index: 0, of: 1).retryMilliseconds)
    }

    func testEventStreamAtABoundaryGetsItsRetryAtOnceAndEndsAtItsSlot() {
        var machine = eventStream()
        _ = machine.body("id: 1\ndata: a\n\n", at: 100)
        let slot = DrainSlot(endAt: T.at(4_000), retryMilliseconds: 1_234, webSocketCloseCode: 1012)
        XCTAssertEqual(
            T.describe(machine.drain(slot, now: T.at(200), allocator: T.allocator)),
            "write(\"retry: 1234\\n\\n\", flush)"
        )
        XCTAssertEqual(machine.next?.1, .drain)
        XCTAssertEqual(machine.next?.0, 4_000)
        XCTAssertEqual(machine.body("id: 2\ndata: b\n\n", at: 3_000), "write(\"id: 2\\ndata: b\\n\\n\")", "flows until then")
        XCTAssertEqual(machine.fire(at: 4_000), "endCleanly(nil)")
        XCTAssertEqual(machine.outcome, .drained)
    }

    func testEventStreamInsideAnEventGetsItsRetryWithItsEnd() {
        var machine = eventStream()
        _ = machine.body("id: 1\ndata: a", at: 100)
        let slot = DrainSlot(endAt: T.at(1_000), retryMilliseconds: 800, webSocketCloseCode: 1012)
        XCTAssertEqual(T.describe(machine.drain(slot, now: T.at(200), allocator: T.allocator)), "none")
        XCTAssertEqual(machine.fire(at: 1_000), "none", "the slot falls inside the event")
        XCTAssertEqual(machine.phase, .draining)
        XCTAssertEqual(
            machine.body("\n\nid: 2\ndata: b\n\n", at: 1_500),
            "endCleanly(\"\\n\\nretry: 800\\n\\n\")",
            "the event completes, the next is not sent, the retry goes last"
        )
        XCTAssertEqual(machine.outcome, .drained)
    }

    func testDrainWithoutRetryAndOnAPlainResponse() {
        var machine = eventStream()
        let slot = DrainSlot(endAt: T.at(500), retryMilliseconds: nil, webSocketCloseCode: 1012)
        XCTAssertEqual(T.describe(machine.drain(slot, now: T.at(0), allocator: T.allocator)), "none")
        XCTAssertEqual(machine.fire(at: 500), "endCleanly(nil)")

        var plain = T.machine()
        plain.startAndLease()
        _ = plain.responseHead(T.head(), at: 0)
        XCTAssertEqual(T.describe(plain.drain(slot, now: T.at(0), allocator: T.allocator)), "none")
        XCTAssertNotEqual(plain.next?.1, .drain, "a plain response is left to finish")
        XCTAssertTrue(plain.isStreaming)
    }

    func testWebSocketDrainDeadline() {
        var tunnel = WebSocketDeadlines(
            config: WebSocketConfig(idleTimeout: .seconds(60), pingInterval: .seconds(30)),
            startedAt: T.at(0),
            now: T.at(0)
        )
        tunnel.drainAt = T.at(3_000)
        XCTAssertEqual(tunnel.next.map { milliseconds($0.at) }, 3_000)
        XCTAssertNil(tunnel.due(at: T.at(2_999)))
        XCTAssertEqual(tunnel.due(at: T.at(3_000)), .drain)
    }
}
