import Foundation
import StreamGateTestSupport
import XCTest

/// Event streams that survive their upstream (`sse.resume`), against the real binary: origins in processes of their
/// own (`Tests/Peers/failover_feed_origin.py`, one feed shared by all, killed and restarted by PID) and curl reading
/// the stream as it arrives. When the upstream fails, the stream goes on from another server (or the same one back)
/// with `Last-Event-ID`: no event lost or twice, no partial event, heartbeats in the gap; without an id, or once
/// the attempts are spent, it ends cleanly; a route without `resume` is cut as before. Counted in
/// `streamgate_sse_resumes_total`, shown in `GET /connections`.
final class EventStreamResumeTests: EndToEndTestCase {
    /// Proxies with an admin endpoint, stopped in tear-down (their log printed when the test failed).
    var feedProxies: [ProxyProcess] = []
    /// Clients killed in tear-down.
    var clients: [CurlStream] = []
    /// The admin endpoint of the last proxy started.
    var adminBase = ""

    override func tearDown() {
        clients.forEach { $0.kill() }
        clients.removeAll()
        for proxy in feedProxies {
            let result = proxy.stop(timeout: 3)
            if (testRun?.totalFailureCount ?? 0) > 0 {
                print("--- streamgate log (exit \(result.exitCode)) ---\n\(result.stderr)")
            }
        }
        feedProxies.removeAll()
        super.tearDown()
    }

    // MARK: - Another server takes over

    func testKilledServerHandsTheStreamToTheOtherOverHTTP1() throws {
        try assertHandOverToTheOtherServer(over: .http1)
    }

    func testKilledServerHandsTheStreamToTheOtherOverHTTP2() throws {
        try assertHandOverToTheOtherServer(over: .http2)
    }

    /// Two servers; the one with the stream is SIGKILLed: the other goes on from the client's last event.
    private func assertHandOverToTheOtherServer(over client: EventStreamClientProtocol, line: UInt = #line) throws {
        let feed = Self.feed()
        let origins = try (0..<2).map { _ in try startFeedOrigin(feed) }
        let proxy = try startFeedProxy(servers: origins.map(\.port), sse: "{ resume: true, resume_backoff: 100ms }")
        let curl = try startClient(proxy, over: client)
        XCTAssertTrue(waitForEvent(20, on: curl), "no events: \(curl.stderr)", line: line)
        let (a, b) = try serving(origins)

        a.kill()
        let resumedFrom = waitForResume(on: b)
        XCTAssertNotNil(resumedFrom, "no resume reached the other server: \(b.feedRequests)", line: line)
        XCTAssertTrue(waitForEvent((resumedFrom ?? 0) + 20, on: curl), "events stopped: \(curl.stderr)", line: line)
        XCTAssertNil(curl.waitForExit(timeout: 0), "the client stream ended: \(curl.stderr)", line: line)
        curl.kill()

        let transcript = FeedTranscript(curl.lines)
        assertWholeAndGapless(transcript, line: line)
        let lastFromA = assertOneSwitch(transcript, from: a, to: b, line: line)
        XCTAssertEqual(b.lastEventIDs, [lastFromA.map(String.init) ?? "none"], "Last-Event-ID", line: line)
        XCTAssertEqual(a.feedRequests.count, 1, line: line)
        let resumed = "event stream resumed on \(b.address) from Last-Event-ID \(resumedFrom ?? -1) (attempt 1)"
        XCTAssertEqual(logLines(proxy, containing: resumed).count, 1, proxy.log, line: line)
        try assertResumes(["resumed": 1, "failed": 0, "no_id": 0], line: line)
    }

    // MARK: - The same server back

    /// One server, killed and restarted on its port a second later: the stream waits (heartbeats keep coming) and
    /// goes on from where it was.
    func testStreamWaitsForItsRestartedServerWithHeartbeatsInTheGap() throws {
        let origin = try startFeedOrigin(Self.feed())
        let proxy = try startFeedProxy(
            servers: [origin.port],
            sse: "{ resume: true, resume_attempts: 10, resume_backoff: 200ms, heartbeat_interval: 300ms }"
        )
        let curl = try startClient(proxy, over: .http1)
        XCTAssertTrue(waitForEvent(20, on: curl), "no events: \(curl.stderr)")

        origin.kill()
        Thread.sleep(forTimeInterval: 1)
        let restarted = try restart(origin)
        let resumedFrom = try XCTUnwrap(waitForResume(on: restarted, timeout: 15), "\(restarted.feedRequests)")
        XCTAssertTrue(waitForEvent(resumedFrom + 20, on: curl), "events stopped: \(curl.stderr)")
        XCTAssertNil(curl.waitForExit(timeout: 0), "the client stream ended: \(curl.stderr)")
        curl.kill()

        let transcript = FeedTranscript(curl.lines)
        assertWholeAndGapless(transcript)
        XCTAssertEqual(restarted.lastEventIDs, ["\(resumedFrom)"])
        let before = transcript.events.first { $0.seq == resumedFrom }?.line ?? 0
        let after = transcript.events.first { $0.seq == resumedFrom + 1 }?.line ?? 0
        let heartbeats = transcript.comments.filter { before < $0 && $0 < after }
        XCTAssertFalse(heartbeats.isEmpty, "no heartbeat between event \(resumedFrom) and the next: \(before)-\(after)")
        let refused = logLines(proxy, containing: "resume attempt 1 failed")
        XCTAssertEqual(refused.count, 1, "the attempt while the server was down\n\(proxy.log)")
        let resumed = "event stream resumed on \(origin.address) from Last-Event-ID \(resumedFrom) (attempt "
        XCTAssertEqual(logLines(proxy, containing: resumed).count, 1, proxy.log)
        try assertResumes(["resumed": 1, "failed": 0])
    }

    // MARK: - No duplicates

    func testNoDuplicateWhenTheNewUpstreamReplaysTheLastEvent() throws {
        try assertNoDuplicate(restartedWith: "--replay-inclusive", firstReplayed: { $0 }, over: .http2)
    }

    func testNoDuplicateWhenTheNewUpstreamReplaysFromTheStart() throws {
        try assertNoDuplicate(restartedWith: "--ignore-last-event-id", firstReplayed: { _ in 1 }, over: .http1)
    }

    /// The server is killed and at once replaced on its port by one that replays too much (`option`): the client
    /// still reads every event once.
    private func assertNoDuplicate(
        restartedWith option: String,
        firstReplayed: (Int) -> Int,
        over client: EventStreamClientProtocol,
        line: UInt = #line
    ) throws {
        let origin = try startFeedOrigin(Self.feed())
        let proxy = try startFeedProxy(
            servers: [origin.port],
            sse: "{ resume: true, resume_attempts: 10, resume_backoff: 100ms }"
        )
        let curl = try startClient(proxy, over: client)
        XCTAssertTrue(waitForEvent(20, on: curl), "no events: \(curl.stderr)", line: line)

        let restarted = try restart(origin, ["--from-start", option])
        let resumedFrom = try XCTUnwrap(waitForResume(on: restarted), "\(restarted.feedRequests)", line: line)
        // The new server did replay what the client already had (so there was something to drop).
        XCTAssertEqual(restarted.feedRequests.first?.int("first"), firstReplayed(resumedFrom), line: line)
        XCTAssertTrue(waitForEvent(resumedFrom + 20, on: curl), "events stopped: \(curl.stderr)", line: line)
        XCTAssertNil(curl.waitForExit(timeout: 0), "the client stream ended: \(curl.stderr)", line: line)
        curl.kill()

        assertWholeAndGapless(FeedTranscript(curl.lines), line: line)
        XCTAssertEqual(restarted.feedRequests.count, 1, line: line)
        try assertResumes(["resumed": 1], line: line)
    }

    // MARK: - A server that dies inside an event

    func testEventCutByADyingServerNeverReachesTheClientOverHTTP1() throws {
        try assertPartialEventHeldBack(over: .http1)
    }

    func testEventCutByADyingServerNeverReachesTheClientOverHTTP2() throws {
        try assertPartialEventHeldBack(over: .http2)
    }

    /// The server writes `id: 30` and the start of its data line, then dies with its connections reset: the client
    /// must not see that start; event 30 comes whole from the server restarted on the port.
    private func assertPartialEventHeldBack(over client: EventStreamClientProtocol, line: UInt = #line) throws {
        let origin = try startFeedOrigin(Self.feed(), ["--from-start", "--exit-mid-event-at", "30"])
        let proxy = try startFeedProxy(
            servers: [origin.port],
            sse: "{ resume: true, resume_attempts: 10, resume_backoff: 100ms }"
        )
        let curl = try startClient(proxy, over: client)
        XCTAssertNotNil(origin.peer.waitForEvent("exit_mid_event", timeout: 10), origin.peer.transcript, line: line)
        XCTAssertNotNil(origin.peer.waitForExit(timeout: 5), "the origin did not die", line: line)

        let restarted = try restart(origin)
        let resumedFrom = waitForResume(on: restarted)
        XCTAssertEqual(resumedFrom, 29, "Last-Event-ID after the cut event: \(restarted.feedRequests)", line: line)
        XCTAssertTrue(waitForEvent(50, on: curl), "events stopped: \(curl.stderr)", line: line)
        curl.kill()

        let transcript = FeedTranscript(curl.lines)
        assertWholeAndGapless(transcript, line: line)
        XCTAssertEqual(transcript.events.filter { $0.seq == 30 }.count, 1, line: line)
    }

    // MARK: - Clean ends

    /// Events without ids cannot be resumed: the stream ends cleanly (a terminating chunk), no attempt is made.
    func testStreamWithoutIDsEndsCleanlyWhenItsServerDies() throws {
        let feed = Self.feed()
        let origins = try (0..<2).map { _ in try startFeedOrigin(feed, ["--from-start", "--no-ids"]) }
        let proxy = try startFeedProxy(servers: origins.map(\.port), sse: "{ resume: true, resume_backoff: 100ms }")
        let curl = try startClient(proxy, over: .http1)
        XCTAssertTrue(waitForEvent(10, on: curl), "no events: \(curl.stderr)")
        let (a, b) = try serving(origins)

        a.kill()
        XCTAssertEqual(curl.waitForExit(timeout: 5), 0, "the stream was not ended cleanly: \(curl.stderr)")

        let transcript = FeedTranscript(curl.lines)
        assertWholeAndGapless(transcript, withIDs: false)
        XCTAssertEqual(transcript.unfinished, [], "ended inside an event")
        XCTAssertEqual(b.feedRequests.count, 0, "a resume was attempted without an id: \(b.feedRequests)")
        try assertResumes(["no_id": 1, "resumed": 0, "failed": 0])
    }

    /// One server, killed for good, two attempts allowed: both fail, the stream ends cleanly (END_STREAM) at an
    /// event boundary within a few seconds.
    func testStreamEndsCleanlyOnceTheAttemptsAreSpent() throws {
        let origin = try startFeedOrigin(Self.feed())
        let proxy = try startFeedProxy(
            servers: [origin.port],
            sse: "{ resume: true, resume_attempts: 2, resume_backoff: 100ms }"
        )
        let curl = try startClient(proxy, over: .http2)
        XCTAssertTrue(waitForEvent(10, on: curl), "no events: \(curl.stderr)")

        origin.kill()
        let killed = Date()
        XCTAssertEqual(curl.waitForExit(timeout: 10), 0, "the stream was not ended cleanly: \(curl.stderr)")
        let ended = Date().timeIntervalSince(killed)
        XCTAssertLessThan(ended, 4, "ended \(ended) s after the kill (2 attempts, backoff 100ms)")

        let transcript = FeedTranscript(curl.lines)
        assertWholeAndGapless(transcript)
        XCTAssertEqual(transcript.unfinished, [], "ended inside an event")
        try assertResumes(["failed": 1, "resumed": 0])
        // The first failure is a warning of its own; the second may be told in the line that gives up.
        XCTAssertEqual(logLines(proxy, containing: "resume attempt 1 failed").count, 1, proxy.log)
        let second = logLines(proxy, containing: "resume attempt 2 failed")
            + logLines(proxy, containing: "after 2 failed attempts")
        XCTAssertFalse(second.isEmpty, "the second failed attempt is not in the log\n\(proxy.log)")
        XCTAssertEqual(logLines(proxy, containing: "resume attempt 3").count, 0, proxy.log)
    }

    /// Without `resume` a dying upstream cuts the stream as before: HTTP/1.1 without the last chunk, HTTP/2 with a
    /// stream error.
    func testRouteWithoutResumeCutsTheStreamAsBefore() throws {
        let origin = try startFeedOrigin(Self.feed())
        let proxy = try startFeedProxy(servers: [origin.port], sse: "{ heartbeat_interval: 1s }")
        let http1 = try startClient(proxy, over: .http1)
        let http2 = try startClient(proxy, over: .http2)
        XCTAssertTrue(waitForEvent(10, on: http1) && waitForEvent(10, on: http2), "\(http1.stderr)\n\(http2.stderr)")

        origin.kill()
        let http1Exit = http1.waitForExit(timeout: 5)
        let http2Exit = http2.waitForExit(timeout: 5)

        XCTAssertNotNil(http1Exit, "the HTTP/1.1 stream is still open")
        XCTAssertNotEqual(http1Exit, 0, "the HTTP/1.1 stream looked complete: \(http1.stderr)")
        XCTAssertNotNil(http2Exit, "the HTTP/2 stream is still open")
        XCTAssertNotEqual(http2Exit, 0, "the HTTP/2 stream looked complete: \(http2.stderr)")
        XCTAssertTrue(http2.stderr.contains("HTTP/2 stream"), "curl did not report a stream error: \(http2.stderr)")
        XCTAssertEqual(origin.feedRequests.count, 2)
        try assertResumes(["resumed": 0, "failed": 0, "no_id": 0])
    }

    // MARK: - Health checks

    /// Two servers with active health checks; the one with the stream starts failing its check (it keeps running):
    /// the stream moves to the other within two seconds, without a gap or a duplicate.
    func testServerTakenOutByItsHealthCheckHandsTheStreamOver() throws {
        let feed = Self.feed()
        let files = try TemporaryDirectory(prefix: "streamgate-resume-health")
        var downFiles: [Int: URL] = [:]
        var origins: [FailoverFeedOrigin] = []
        for index in 0..<2 {
            let downFile = files.file("down-\(index)")
            let origin = try startFeedOrigin(feed, ["--from-start", "--healthz", "--down-file", downFile.path])
            downFiles[origin.port] = downFile
            origins.append(origin)
        }
        let proxy = try startFeedProxy(
            servers: origins.map(\.port),
            sse: "{ resume: true, resume_backoff: 100ms, heartbeat_interval: 500ms }",
            upstream: ["health_check: { path: /healthz, interval: 200ms, timeout: 100ms, fall: 1, rise: 1 }"]
        )
        let checked = Wait.until(timeout: 5) {
            origins.allSatisfy { $0.peer.events.named("request").contains { $0["target"] == "/healthz" } }
        }
        XCTAssertTrue(checked, "the origins were not health-checked")
        let curl = try startClient(proxy, over: .http2)
        XCTAssertTrue(waitForEvent(20, on: curl), "no events: \(curl.stderr)")
        let (a, b) = try serving(origins)

        let downFile = try XCTUnwrap(downFiles[a.port])
        XCTAssertTrue(FileManager.default.createFile(atPath: downFile.path, contents: Data()))
        let downAt = Date().timeIntervalSince1970 * 1000
        let resumedFrom = try XCTUnwrap(waitForResume(on: b, timeout: 5), "no resume on the other server")
        XCTAssertTrue(waitForEvent(resumedFrom + 20, on: curl), "events stopped: \(curl.stderr)")
        XCTAssertNil(curl.waitForExit(timeout: 0), "the client stream ended: \(curl.stderr)")
        curl.kill()

        let transcript = FeedTranscript(curl.lines)
        assertWholeAndGapless(transcript)
        let lastFromA = assertOneSwitch(transcript, from: a, to: b)
        XCTAssertEqual(b.lastEventIDs, [lastFromA.map(String.init) ?? "none"])
        let firstFromB = try XCTUnwrap(transcript.events.first { $0.via == b.port })
        let moved = (firstFromB.arrivedAt - downAt) / 1000
        XCTAssertLessThan(moved, 2, "the first event of the other server came \(moved) s after the check began failing")
        XCTAssertTrue(a.peer.isRunning, "the failing server died: \(a.peer.stderr)")
        try assertResumes(["resumed": 1])
    }

    // MARK: - Admin view

    /// While no server answers the stream shows `state: resuming`; once resumed, `resumes: 1`, and the counter
    /// agrees.
    func testConnectionsShowTheResumingStateAndTheResumeCount() throws {
        let origin = try startFeedOrigin(Self.feed())
        let proxy = try startFeedProxy(
            servers: [origin.port],
            sse: "{ resume: true, resume_attempts: 10, resume_backoff: 200ms }"
        )
        let curl = try startClient(proxy, over: .http1)
        XCTAssertTrue(waitForEvent(10, on: curl), "no events: \(curl.stderr)")
        let before = try feedStreams()
        XCTAssertEqual(before.first?["resumes"] as? Int, 0, "\(before)")

        origin.kill()
        var states: Set<String> = []
        let resuming = Wait.until(timeout: 3, interval: 0.05) {
            let now = ((try? self.feedStreams()) ?? []).map { $0["state"] as? String ?? "?" }
            states.formUnion(now)
            return now == ["resuming"]
        }
        XCTAssertTrue(resuming, "the stream never showed state resuming; states seen: \(states.sorted())")
        let restarted = try restart(origin)
        let resumedFrom = try XCTUnwrap(waitForResume(on: restarted, timeout: 15), "\(restarted.feedRequests)")
        XCTAssertTrue(waitForEvent(resumedFrom + 10, on: curl), "events stopped: \(curl.stderr)")

        let streams = try feedStreams()
        XCTAssertEqual(streams.count, 1, "\(streams)")
        let stream = try XCTUnwrap(streams.first)
        XCTAssertEqual(stream["resumes"] as? Int, 1, "\(stream)")
        XCTAssertEqual(stream["state"] as? String, "streaming", "\(stream)")
        XCTAssertEqual((stream["upstream"] as? [String: Any])?["address"] as? String, origin.address, "\(stream)")
        try assertResumes(["resumed": 1, "failed": 0, "no_id": 0])
        curl.kill()
        assertWholeAndGapless(FeedTranscript(curl.lines))
    }

    // MARK: - A failed attempt

    /// The other server answers the first attempt with 503: a failed attempt (its body never reaches the client);
    /// a later attempt reaches the first server, back on its port, and the stream goes on.
    func testAttemptAnswered503CountsAsFailedAndALaterOneSucceeds() throws {
        let feed = Self.feed()
        let a = try startFeedOrigin(feed)
        // The second server's port refuses until the 503 server starts on it below, so the stream starts on a.
        let reserved = try RawConnection.unusedPort()
        let proxy = try startFeedProxy(
            servers: [a.port, reserved],
            sse: "{ resume: true, resume_attempts: 10, resume_backoff: 100ms }",
            upstream: ["max_fails: 0"]
        )
        let curl = try startClient(proxy, over: .http2)
        XCTAssertTrue(waitForEvent(20, on: curl), "no events: \(curl.stderr)")
        XCTAssertEqual(a.feedRequests.count, 1)
        let b = try startFeedOrigin(feed, port: reserved, ["--status", "503"])

        let restarted = try restart(a)
        let resumedFrom = try XCTUnwrap(waitForResume(on: restarted, timeout: 15), "\(restarted.feedRequests)")
        XCTAssertTrue(waitForEvent(resumedFrom + 20, on: curl), "events stopped: \(curl.stderr)")
        XCTAssertNil(curl.waitForExit(timeout: 0), "the client stream ended: \(curl.stderr)")
        curl.kill()

        let transcript = FeedTranscript(curl.lines)
        assertWholeAndGapless(transcript)
        XCTAssertFalse(curl.lines.contains { $0.text.contains("unavailable") }, "the 503 body reached the client")
        XCTAssertTrue(b.lastEventIDs.contains("\(resumedFrom)"), "the 503 server got no attempt: \(b.feedRequests)")
        XCTAssertEqual(restarted.lastEventIDs, ["\(resumedFrom)"])
        let failed = logLines(proxy, containing: "resume attempt ").filter { $0.contains(" failed") }
        XCTAssertTrue(failed.contains { $0.contains("503") }, "no failed attempt names the status 503: \(failed)")
        let resumed = logLines(proxy, containing: "resumed on \(a.address) from Last-Event-ID \(resumedFrom) (attempt ")
        XCTAssertEqual(resumed.count, 1, proxy.log)
        XCTAssertFalse(resumed.first?.contains("(attempt 1)") ?? true, "the 503 was not a failed attempt: \(resumed)")
        try assertResumes(["resumed": 1, "failed": 0])
    }
}
