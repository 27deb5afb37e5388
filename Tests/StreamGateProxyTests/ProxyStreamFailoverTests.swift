import NIOCore
import NIOHTTP1
import StreamGateConfig
import XCTest

@testable import StreamGateProxy

/// The stream machine on a route with `sse.resume`: what it does when its upstream fails, goes quiet, ends or is
/// taken out of service, how attempts are paced and counted, and what ends the client's stream anyway.
final class ProxyStreamFailoverTests: XCTestCase {
    private typealias T = MachineTestSupport

    private func resumingMachine(
        attempts: Int = 3,
        backoff: Duration = .milliseconds(500),
        onEnd: Bool = false,
        method: HTTPMethod = .GET,
        timeouts: RouteTimeouts = RouteTimeouts(),
        heartbeat: Duration = .seconds(60)
    ) -> ProxyStreamStateMachine {
        let resume = SSEResumeConfig(attempts: attempts, backoff: backoff, onEnd: onEnd)
        var machine = T.machine(
            method: method,
            timeouts: timeouts,
            sse: SSEConfig(heartbeatInterval: heartbeat, resume: resume)
        )
        machine.startAndLease()
        _ = machine.responseHead(T.eventStreamHead, at: 10)
        return machine
    }

    private func failed(_ machine: inout ProxyStreamStateMachine) -> String {
        T.describe(machine.upstreamFailed(UpstreamConnectionClosed(), connectionWasReused: false))
    }

    private func schedule(
        _ machine: inout ProxyStreamStateMachine,
        alternative: Bool,
        at milliseconds: Int64,
        jitter: Double = 1
    ) -> String {
        T.describe(
            machine.scheduleResumeAttempt(avoiding: 0, alternativeAvailable: alternative, jitter: jitter, now: T.at(milliseconds))
        )
    }

    /// Fires the timer (heartbeats included) until the failover's deadline has fired; what that did.
    private func fireUntilResume(_ machine: inout ProxyStreamStateMachine) -> String {
        while let (at, kind) = machine.next {
            let action = machine.fire(at: at)
            if kind == .resume { return action }
        }
        return "no resume deadline"
    }

    private func leased(_ machine: inout ProxyStreamStateMachine, at milliseconds: Int64) -> String {
        T.describe(machine.upstreamLeased(now: T.at(milliseconds)))
    }

    func testAFailedUpstreamIsResumedOnAnotherServerFromTheClientsLastID() {
        var machine = resumingMachine()
        XCTAssertEqual(machine.body("id: 41\ndata: a\n\nid: 42\ndata: par", at: 20), #"write("id: 41\ndata: a\n\n")"#)
        XCTAssertEqual(failed(&machine), "resumeUpstream")
        XCTAssertEqual(machine.phase, .resuming)
        XCTAssertEqual(schedule(&machine, alternative: true, at: 30), "lease")
        XCTAssertTrue(machine.wantsUpstream)
        XCTAssertEqual(leased(&machine, at: 31), "sendResumeRequest(Last-Event-ID 41)")
        XCTAssertEqual(machine.responseHead(T.eventStreamHead, at: 40), "none")
        XCTAssertEqual(machine.takeResumeReport(), .resumed(attempt: 1, lastEventID: "41"))
        XCTAssertEqual(machine.phase, .streaming)
        XCTAssertEqual(machine.failover?.resumes, 1)
        // The partial event 42 never reached the client; the new upstream sends it whole.
        XCTAssertEqual(machine.body("id: 42\ndata: partial\n\n", at: 50), #"write("id: 42\ndata: partial\n\n")"#)
        XCTAssertEqual(machine.eventStream?.eventCount, 2)
    }

    func testWithoutAnotherServerTheAttemptWaitsItsBackoffAndHeartbeatsGoOn() {
        var machine = resumingMachine(backoff: .milliseconds(1500), heartbeat: .seconds(1))
        _ = machine.body("id: 1\ndata: a\n\n", at: 20)
        XCTAssertEqual(failed(&machine), "resumeUpstream")
        XCTAssertEqual(schedule(&machine, alternative: false, at: 100), "none")
        // The heartbeat (1 s after the last write, on its grid) comes before the attempt (100 + 1500 ms).
        XCTAssertEqual(machine.next?.1, .heartbeat)
        XCTAssertEqual(machine.fire(at: machine.next!.0), #"write(":\n\n", flush)"#)
        XCTAssertEqual(machine.next?.0, 1600)
        XCTAssertEqual(machine.next?.1, .resume)
        XCTAssertEqual(machine.fire(at: 1600), "lease")
        XCTAssertEqual(leased(&machine, at: 1601), "sendResumeRequest(Last-Event-ID 1)")
    }

    func testAttemptsBackOffDoublingAndTheStreamEndsCleanlyAfterTheLast() {
        var machine = resumingMachine(attempts: 3, backoff: .milliseconds(100))
        _ = machine.body("id: 9\ndata: a\n\n", at: 20)
        XCTAssertEqual(failed(&machine), "resumeUpstream")
        XCTAssertEqual(schedule(&machine, alternative: false, at: 1000), "none")
        XCTAssertEqual(machine.next?.0, 1100)
        XCTAssertEqual(machine.fire(at: 1100), "lease")
        let refused = UpstreamLeaseFailure(connecting: "127.0.0.1:9", error: ChannelError.connectTimeout(.seconds(1)))
        XCTAssertEqual(T.describe(machine.upstreamUnavailable(refused)), "resumeUpstream")
        XCTAssertEqual(machine.takeResumeReport(), .attemptFailed(attempt: 1, reason: "connect to 127.0.0.1:9 timed out"))
        XCTAssertEqual(schedule(&machine, alternative: true, at: 1200), "none", "only the first attempt skips the wait")
        XCTAssertEqual(machine.next?.0, 1400, "twice the backoff")
        XCTAssertEqual(machine.fire(at: 1400), "lease")
        XCTAssertEqual(leased(&machine, at: 1401), "sendResumeRequest(Last-Event-ID 9)")
        XCTAssertEqual(machine.responseHead(T.head(.serviceUnavailable, contentType: "text/plain"), at: 1402), "resumeUpstream")
        XCTAssertEqual(
            machine.takeResumeReport(),
            .attemptFailed(attempt: 2, reason: "upstream answered 503 (not text/event-stream)")
        )
        XCTAssertEqual(schedule(&machine, alternative: true, at: 1500, jitter: 1.5), "none")
        XCTAssertEqual(machine.next?.0, 1500 + 600, "four times the backoff, jittered x1.5")
        XCTAssertEqual(machine.fire(at: 2100), "lease")
        XCTAssertEqual(T.describe(machine.upstreamUnavailable(refused)), #"endCleanly(nil)"#)
        XCTAssertEqual(machine.takeResumeReport(), .gaveUp(attempts: 3, reason: "connect to 127.0.0.1:9 timed out"))
        XCTAssertEqual(machine.outcome, .upstreamError)
    }

    func testAnAttemptWithoutAHeadInTimeFails() {
        var machine = resumingMachine(timeouts: RouteTimeouts(responseHeader: .seconds(2)))
        _ = machine.body("id: 9\ndata: a\n\n", at: 20)
        _ = failed(&machine)
        _ = schedule(&machine, alternative: true, at: 100)
        XCTAssertEqual(leased(&machine, at: 100), "sendResumeRequest(Last-Event-ID 9)")
        XCTAssertEqual(machine.next?.0, 2100)
        XCTAssertEqual(machine.next?.1, .resume)
        XCTAssertEqual(machine.fire(at: 2100), "resumeUpstream")
        XCTAssertEqual(machine.takeResumeReport(), .attemptFailed(attempt: 1, reason: "no response head within 2s"))
    }

    func testAResumedUpstreamThatFailsBeforeAnyEventCountsAsAFailedAttempt() {
        var machine = resumingMachine(attempts: 2, backoff: .milliseconds(100))
        _ = machine.body("id: 9\ndata: a\n\n", at: 20)
        // The loss itself, then two resumed upstreams that answer and fail before relaying anything.
        for round in 1...3 {
            XCTAssertEqual(failed(&machine), round < 3 ? "resumeUpstream" : "endCleanly(nil)", "round \(round)")
            if round == 3 { break }
            if schedule(&machine, alternative: true, at: 100) != "lease" {
                XCTAssertEqual(fireUntilResume(&machine), "lease", "round \(round)")
            }
            _ = leased(&machine, at: 100)
            _ = machine.responseHead(T.eventStreamHead, at: 110)
        }
        XCTAssertEqual(machine.takeResumeReport(), .gaveUp(attempts: 2, reason: "upstream failed mid-stream: \(UpstreamConnectionClosed())"))
    }

    func testAnEventFromTheResumedUpstreamResetsTheAttemptCount() {
        var machine = resumingMachine(attempts: 2, backoff: .milliseconds(100))
        _ = machine.body("id: 1\ndata: a\n\n", at: 20)
        _ = failed(&machine)
        _ = schedule(&machine, alternative: false, at: 100)
        _ = machine.fire(at: 200)
        let refused = UpstreamLeaseFailure(connecting: "127.0.0.1:9", error: ChannelError.connectTimeout(.seconds(1)))
        XCTAssertEqual(T.describe(machine.upstreamUnavailable(refused)), "resumeUpstream")
        _ = schedule(&machine, alternative: false, at: 300)
        _ = machine.fire(at: 500)
        _ = leased(&machine, at: 500)
        _ = machine.responseHead(T.eventStreamHead, at: 510)
        XCTAssertEqual(machine.failover?.failedAttempts, 1)
        _ = machine.body("id: 2\ndata: b\n\n", at: 600)
        XCTAssertEqual(machine.failover?.failedAttempts, 0)
        XCTAssertEqual(failed(&machine), "resumeUpstream", "a later loss starts over")
    }

    func testWithoutAnEventIDTheStreamEndsCleanly() {
        var machine = resumingMachine()
        _ = machine.body("data: a\n\ndata: b", at: 20)
        XCTAssertEqual(failed(&machine), "endCleanly(nil)")
        XCTAssertEqual(machine.takeResumeReport(), .noEventID(reason: "upstream failed mid-stream: \(UpstreamConnectionClosed())"))
    }

    func testTheIdleTimeoutResumesInsteadOfEnding() {
        var machine = resumingMachine(timeouts: RouteTimeouts(idle: .seconds(5)))
        _ = machine.body("id: 3\ndata: a\n\n", at: 20)
        var fired = "none"
        while let (at, kind) = machine.next, kind != .idle {
            _ = machine.fire(at: at)
            XCTAssertLessThan(at, 5020)
        }
        fired = machine.fire(at: 5020)
        XCTAssertEqual(fired, "resumeUpstream")
    }

    func testACleanEndIsResumedOnlyWithResumeOnEnd() {
        var ending = resumingMachine()
        _ = ending.body("id: 3\ndata: a\n\n", at: 20)
        XCTAssertEqual(T.describe(ending.responseEndReceived()), "complete(reuse false)")
        var resuming = resumingMachine(onEnd: true)
        _ = resuming.body("id: 3\ndata: a\n\n", at: 20)
        XCTAssertEqual(T.describe(resuming.responseEndReceived()), "resumeUpstream")
    }

    func testARequestWithABodyOrAnotherMethodIsNotResumed() {
        var post = resumingMachine(method: .POST)
        _ = post.body("id: 3\ndata: a\n\n", at: 20)
        XCTAssertNil(post.failover)
        XCTAssertEqual(failed(&post), "cut")
    }

    func testAServerTakenOutOfServiceMovesTheStream() {
        var machine = resumingMachine()
        _ = machine.body("id: 3\ndata: a\n\nid: 4\ndata: b", at: 20)
        XCTAssertEqual(T.describe(machine.upstreamTakenOutOfService(reason: "down")), "resumeUpstream")
        XCTAssertEqual(schedule(&machine, alternative: true, at: 30), "lease")
        XCTAssertEqual(leased(&machine, at: 31), "sendResumeRequest(Last-Event-ID 3)")
    }

    func testADrainOrTheClientLeavingDuringAResumeEndsIt() {
        var drained = resumingMachine()
        _ = drained.body("id: 3\ndata: a\n\n", at: 20)
        _ = failed(&drained)
        _ = schedule(&drained, alternative: false, at: 30)
        XCTAssertEqual(T.describe(drained.serverGoingAway()), "endCleanly(nil)")
        XCTAssertEqual(drained.outcome, .drained)

        var gone = resumingMachine()
        _ = gone.body("id: 3\ndata: a\n\n", at: 20)
        _ = failed(&gone)
        _ = schedule(&gone, alternative: true, at: 30)
        XCTAssertEqual(T.describe(gone.downstreamClosed()), "clientGone")
        XCTAssertFalse(gone.wantsUpstream, "a lease that completes now is closed")
    }

    func testARouteWithoutResumeCutsTheStreamAsBefore() {
        var machine = T.machine(sse: SSEConfig(heartbeatInterval: .seconds(1)))
        machine.startAndLease()
        _ = machine.responseHead(T.eventStreamHead, at: 10)
        _ = machine.body("id: 3\ndata: a\n\n", at: 20)
        XCTAssertEqual(failed(&machine), "cut")
    }
}
