import NIOCore
import XCTest

@testable import StreamGateProxy

/// Heartbeats of streams due at about the same time share one grid point, at most half a step away.
final class HeartbeatSlotTests: XCTestCase {
    private func slot(_ dueMilliseconds: UInt64, interval: TimeAmount) -> UInt64 {
        ProxyStream.heartbeatSlot(
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
                let slot = ProxyStream.heartbeatSlot(after: .uptimeNanoseconds(due), interval: interval)
                let distance = abs(Int64(slot.uptimeNanoseconds) - Int64(due))
                XCTAssertLessThanOrEqual(distance, step / 2, "interval \(interval), due \(due)")
                XCTAssertEqual(slot.uptimeNanoseconds % UInt64(step), 0)
            }
        }
    }

    func testAStreamThatStaysIdleGetsHeartbeatsOneIntervalApart() {
        // Sent at its slot (a few ms late), the next one lands exactly one interval after the slot.
        let interval = TimeAmount.seconds(15)
        let first = slot(20_000, interval: interval)
        XCTAssertEqual(slot(first + 15_000 + 3, interval: interval), first + 15_000)
    }

    func testNoGridBelowEightMilliseconds() {
        for interval in [TimeAmount.microseconds(100), .milliseconds(1), .milliseconds(7)] {
            let due = NIODeadline.uptimeNanoseconds(1_000_123_457)
            XCTAssertEqual(ProxyStream.heartbeatSlot(after: due, interval: interval), due)
        }
    }
}
