import NIOCore
import XCTest

@testable import StreamGateProxy

/// Heartbeats of streams due at about the same time share one grid point, at most half a step away.
final class HeartbeatSlotTests: XCTestCase {
    private func slot(_ dueMilliseconds: UInt64, interval: TimeAmount) -> UInt64 {
        EventStreamSession.heartbeatSlot(
            after: .uptimeNanoseconds(dueMilliseconds * 1_000_000),
            interval: interval
        ).uptimeNanoseconds / 1_000_000
    }

    func testFifteenSecondIntervalUsesQuarterSecondGrid() {
        // Due times within one 250 ms step around 10 s share the 10 s slot.
        XCTAssertEqual(slot(9_876, interval: .seconds(15)), 10_000)
        XCTAssertEqual(slot(10_000, interval: .seconds(15)), 10_000)
        XCTAssertEqual(slot(10_124, interval: .seconds(15)), 10_000)
        XCTAssertEqual(slot(10_125, interval: .seconds(15)), 10_250)
    }

    func testShortIntervalUsesAnEighthOfIt() {
        // 400 ms interval: 50 ms grid.
        XCTAssertEqual(slot(1_024, interval: .milliseconds(400)), 1_000)
        XCTAssertEqual(slot(1_026, interval: .milliseconds(400)), 1_050)
    }

    func testNeverMoreThanHalfAStepAway() {
        for interval in [TimeAmount.milliseconds(8), .milliseconds(100), .seconds(2), .seconds(30)] {
            let step = min(interval.nanoseconds / 8, 250_000_000)
            for due in stride(from: UInt64(1_000_000_000), to: 1_000_000_000 + UInt64(step) * 3, by: 7_777_777) {
                let slot = EventStreamSession.heartbeatSlot(after: .uptimeNanoseconds(due), interval: interval)
                let distance = abs(Int64(slot.uptimeNanoseconds) - Int64(due))
                XCTAssertLessThanOrEqual(distance, step / 2, "interval \(interval), due \(due)")
                XCTAssertEqual(slot.uptimeNanoseconds % UInt64(step), 0)
            }
        }
    }

    func testAStreamThatStaysIdleGetsHeartbeatsOneIntervalApart() {
        // Whatever the first due time, once a heartbeat goes out at its slot (up to 20 ms late, as a busy loop may
        // run it), the next lands exactly one interval after that slot.
        for interval in [TimeAmount.milliseconds(400), .seconds(2), .seconds(15)] {
            let step = UInt64(min(interval.nanoseconds / 8, 250_000_000))
            for firstDue in stride(from: UInt64(5_000_000_000), to: 5_000_000_000 + step * 2, by: 3_333_333) {
                let first = EventStreamSession.heartbeatSlot(after: .uptimeNanoseconds(firstDue), interval: interval)
                for lateness in [UInt64(0), 1_000_000, 7_000_000, 20_000_000] {
                    let sent = first.uptimeNanoseconds + lateness
                    let next = EventStreamSession.heartbeatSlot(
                        after: .uptimeNanoseconds(sent) + interval,
                        interval: interval
                    )
                    XCTAssertEqual(
                        Int64(next.uptimeNanoseconds) - Int64(first.uptimeNanoseconds),
                        interval.nanoseconds,
                        "interval \(interval), first due \(firstDue), sent \(lateness) ns late"
                    )
                }
            }
        }
    }

    func testNoGridBelowEightMilliseconds() {
        for interval in [TimeAmount.microseconds(100), .milliseconds(1), .milliseconds(7)] {
            let due = NIODeadline.uptimeNanoseconds(1_000_123_457)
            XCTAssertEqual(EventStreamSession.heartbeatSlot(after: due, interval: interval), due)
        }
    }
}
