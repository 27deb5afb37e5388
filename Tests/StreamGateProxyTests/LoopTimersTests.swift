import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import XCTest

@testable import StreamGateProxy

/// `LoopTimers`, the per-loop deadline heap, on an `EmbeddedEventLoop`'s virtual clock (every deadline must fire at
/// exactly its time, once, and never after a cancel) and, for the case only a real loop has, on a `NIOPosix` loop.
final class LoopTimersTests: XCTestCase {
    private final class Owner: LoopTimerOwner {
        let id: Int
        var timerSlot = LoopTimerSlot.unarmed
        var onFire: (Owner) -> Void = { _ in }
        private(set) var fired: [NIODeadline] = []
        private let now: () -> NIODeadline

        init(id: Int, now: @escaping () -> NIODeadline) {
            self.id = id
            self.now = now
        }

        func loopTimerFired() {
            fired.append(now())
            onFire(self)
        }
    }

    private var loop: EmbeddedEventLoop!
    private var timers: LoopTimers!

    override func setUp() {
        loop = EmbeddedEventLoop()
        timers = LoopTimers(eventLoop: loop)
    }

    override func tearDown() {
        try? loop.syncShutdownGracefully()
        timers = nil
        loop = nil
    }

    private func owner(_ id: Int) -> Owner {
        Owner(id: id) { [loop] in loop!.now }
    }

    private func at(_ milliseconds: Int64) -> NIODeadline {
        NIODeadline.uptimeNanoseconds(0) + .milliseconds(milliseconds)
    }

    func testEachDeadlineFiresAtItsTimeOnce() {
        let owners = (0..<5).map(owner)
        let times: [Int64] = [30, 10, 50, 10, 20]
        for (owner, time) in zip(owners, times) {
            XCTAssertNoThrow(try timers.arm(owner, at: at(time)))
        }
        XCTAssertEqual(timers.count, 5)
        loop.advanceTime(to: at(100))
        for (owner, time) in zip(owners, times) {
            XCTAssertEqual(owner.fired, [at(time)], "owner \(owner.id)")
            XCTAssertFalse(owner.timerSlot.isArmed)
        }
        XCTAssertEqual(timers.count, 0)
    }

    func testAnEarlierDeadlineMovesTheEntryALaterOneDoesNot() throws {
        let first = owner(0)
        let other = owner(1)
        try timers.arm(other, at: at(40))
        try timers.arm(first, at: at(60))
        try timers.arm(first, at: at(20))
        XCTAssertEqual(timers.deadline(of: first), at(20))
        try timers.arm(first, at: at(90))
        XCTAssertEqual(timers.deadline(of: first), at(20), "a later deadline waits for the fire")
        loop.advanceTime(to: at(100))
        XCTAssertEqual(first.fired, [at(20)])
        XCTAssertEqual(other.fired, [at(40)])
    }

    func testCancelledOwnersDoNotFireAndTheRestStillDo() throws {
        let owners = (0..<6).map(owner)
        for (index, owner) in owners.enumerated() {
            try timers.arm(owner, at: at(Int64(10 * (index + 1))))
        }
        timers.cancel(owners[0])  // the root
        timers.cancel(owners[3])  // inside
        timers.cancel(owners[5])  // the last entry
        timers.cancel(owners[5])  // twice: nothing happens
        loop.advanceTime(to: at(100))
        XCTAssertEqual(owners.map(\.fired.count), [0, 1, 1, 0, 1, 0])
        XCTAssertEqual(owners[4].fired, [at(50)])
    }

    func testAnOwnerCancelledByAnotherInTheSameFireIsNotTold() throws {
        let first = owner(0)
        let second = owner(1)
        try timers.arm(first, at: at(10))
        try timers.arm(second, at: at(10))
        // Whichever is told first ends the other, as a stream ending its tunnel would.
        first.onFire = { [timers] _ in timers!.cancel(second) }
        second.onFire = { [timers] _ in timers!.cancel(first) }
        loop.advanceTime(to: at(100))
        XCTAssertEqual(first.fired.count + second.fired.count, 1)
    }

    func testAnOwnerMayArmAgainWhenItFires() throws {
        let ticking = owner(0)
        ticking.onFire = { [timers, loop] owner in
            guard owner.fired.count < 4 else { return }
            do {
                try timers!.arm(owner, at: loop!.now + .milliseconds(15))
            } catch {
                XCTFail("\(error)")
            }
        }
        try timers.arm(ticking, at: at(15))
        loop.advanceTime(to: at(200))
        XCTAssertEqual(ticking.fired, [at(15), at(30), at(45), at(60)])
    }

    func testAnOwnerArmedInThePastFiresOnTheNextTurn() throws {
        loop.advanceTime(to: at(50))
        let late = owner(0)
        try timers.arm(late, at: at(10))
        XCTAssertTrue(late.fired.isEmpty, "nothing fires inside arm")
        loop.run()
        XCTAssertEqual(late.fired.count, 1)
    }

    /// Random arms, moves, cancels and re-arms from inside fires against a dictionary of deadlines: after every
    /// step the armed deadlines agree, and every owner fired exactly at the deadlines the model says came.
    func testRandomOperationsAgreeWithAModel() throws {
        var generator = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0...UInt64.max, using: &generator)
        var random = SeededGenerator(seed: seed)
        let owners = (0..<64).map(owner)
        var armed: [Int: NIODeadline] = [:]
        var expectedFires: [Int: [NIODeadline]] = [:]
        var reArmAfter: [Int: Int64] = [:]
        for owner in owners {
            owner.onFire = { [timers, loop] owner in
                guard let delay = reArmAfter[owner.id] else { return }
                do {
                    try timers!.arm(owner, at: loop!.now + .milliseconds(delay))
                } catch {
                    XCTFail("\(error)")
                }
            }
        }
        var now: Int64 = 0
        for step in 0..<3_000 {
            let owner = owners[Int(random.next() % 64)]
            switch random.next() % 10 {
            case 0...4:
                let deadline = at(now + Int64(random.next() % 200))
                try timers.arm(owner, at: deadline)
                if let current = armed[owner.id], current <= deadline {
                } else {
                    armed[owner.id] = deadline
                }
            case 5, 6:
                timers.cancel(owner)
                armed[owner.id] = nil
            case 7:
                reArmAfter[owner.id] = random.next() % 2 == 0 ? nil : Int64(1 + random.next() % 60)
            default:
                let target = now + Int64(random.next() % 80)
                // Play the model forward one deadline at a time, re-arming as the owners will.
                while let (id, deadline) = armed.min(by: { $0.value < $1.value }), deadline <= at(target) {
                    armed[id] = nil
                    expectedFires[id, default: []].append(deadline)
                    if let delay = reArmAfter[id] {
                        armed[id] = deadline + .milliseconds(delay)
                    }
                }
                loop.advanceTime(to: at(target))
                now = target
            }
            for owner in owners {
                XCTAssertEqual(timers.deadline(of: owner), armed[owner.id], "seed \(seed), step \(step), owner \(owner.id)")
            }
            XCTAssertEqual(timers.count, armed.count, "seed \(seed), step \(step)")
            for owner in owners {
                XCTAssertEqual(owner.fired, expectedFires[owner.id] ?? [], "seed \(seed), step \(step), owner \(owner.id)")
            }
            if testRun?.failureCount ?? 0 > 0 { return }
        }
        XCTAssertGreaterThan(expectedFires.values.map(\.count).reduce(0, +), 100, "the walk fired deadlines")
    }

    /// On a `NIOPosix` loop, a callback cancelled after the loop took it to run (the two came due in the same
    /// turn) still runs; the timers must ignore it rather than fire the heap up to the newer callback's deadline,
    /// which would tell the next owner (an hour away) now.
    func testACallbackCancelledAfterTheLoopTookItIsIgnored() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let posixLoop = group.next()
        let fired = NIOLockedValueBox<[Int]>([])
        try posixLoop.submit {
            let timers = LoopTimers(eventLoop: posixLoop)
            let now = NIODeadline.now()
            let soon = Owner(id: 1) { .now() }
            let later = Owner(id: 3) { .now() }
            let early = Owner(id: 2) { .now() }
            for owner in [soon, later, early] {
                owner.onFire = { owner in fired.withLockedValue { $0.append(owner.id) } }
            }
            // A task due just before the timers' callback, in the same turn: it arms a deadline earlier than the
            // callback's, which cancels that callback (already taken to run) and schedules another.
            posixLoop.assumeIsolated().scheduleTask(deadline: now + .milliseconds(10)) {
                XCTAssertNoThrow(try timers.arm(early, at: now + .milliseconds(5)))
            }
            XCTAssertNoThrow(try timers.arm(soon, at: now + .milliseconds(11)))
            XCTAssertNoThrow(try timers.arm(later, at: now + .hours(1)))
            // Hold the loop until both are due, so one turn takes both.
            posixLoop.execute { usleep(50_000) }
            posixLoop.assumeIsolated().scheduleTask(in: .milliseconds(300)) {
                withExtendedLifetime(timers) {}
            }
        }.wait()
        Thread.sleep(forTimeInterval: 0.5)
        let order = fired.withLockedValue { $0 }
        XCTAssertEqual(order.sorted(), [1, 2], "the owner an hour away must not fire: \(order)")
    }
}
