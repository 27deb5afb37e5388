import Foundation
import StreamGateTestSupport
import XCTest

/// The life of a shared upstream against the real binary on one event loop: a subscriber that stops reading is
/// ended while the others read on; the upstream closes `idle_close` after its last subscriber left and takes a
/// subscriber that comes back meanwhile; an answer that is not an event stream sends every waiting client to the
/// origin on its own; with `resume` a killed origin hands the feed to the other without a gap for any subscriber.
final class SharedSubscriptionLifecycleTests: SharedSubscriptionTestCase {
    // MARK: - A subscriber that stops reading

    /// 16 KiB events, 200 a second, and a ring of 20 events or 64 KiB: a raw HTTP/1.1 client that sends its request
    /// and reads nothing fills the socket buffers, falls off the ring and is ended at an event boundary (counted as
    /// `slow_consumer`); two curl subscribers of the same feed read every event meanwhile and after.
    func testSubscriberThatStopsReadingIsEndedWhileTheOthersReadEveryEvent() throws {
        let origin = try startFeedOrigin(["--interval", "0.005", "--size", "16384"])
        let proxy = try startSharedProxy(servers: [origin.port], routes: [
            .init("feed", sse: "{ heartbeat_interval: 1s, shared: { replay: 20, replay_bytes: 64KiB } }"),
        ])
        let readers = try (0..<2).map { try startClient(proxy, "/feed", over: mixed($0)) }
        XCTAssertFalse(waitForEvents(20, on: readers).contains(nil), "\(readers.map(\.stderr))")
        let port = try proxy.port(of: "plain")
        let stalled = try TrickleConnection(port: port)
        // The Host curl sends, so the request has the readers' key.
        XCTAssertTrue(stalled.send("GET /feed HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: */*\r\n\r\n"))
        let joinedAt = readers.compactMap { lastID($0) }.max() ?? 0

        func slowConsumerEnds() -> Double {
            let labels = ["kind": "sse", "route": "feed", "outcome": "slow_consumer"]
            return (try? metric("streamgate_streams_total", labels)) ?? 0
        }
        // The stalled client's buffers take a second or two to fill at 3 MB/s; the readers must not wait for it.
        let countedWhileStalled = Wait.until(timeout: 10, interval: 0.2) { slowConsumerEnds() >= 1 }
        let readersAt = readers.compactMap { lastID($0) }.min() ?? 0
        XCTAssertGreaterThan(readersAt, joinedAt, "the readers were held back by the one that stopped")
        XCTAssertTrue(waitForEvent(readersAt + 200, on: readers), "the readers stopped: \(readers.map { lastID($0) })")
        XCTAssertTrue(readers.allSatisfy { $0.waitForExit(timeout: 0) == nil }, "a reader's stream ended")
        XCTAssertEqual(origin.requests.count, 1, "the stalled client was not a subscriber: \(origin.requests)")

        // What the stalled client was sent: whole events up to where it fell behind, then the terminating chunk.
        Wait.until(timeout: 10, interval: 0) {
            stalled.read(for: 0.2)
            return stalled.isClosedByPeer || stalled.received.hasSuffix("\r\n0\r\n\r\n")
        }
        XCTAssertTrue(
            countedWhileStalled || Wait.until(timeout: 5, interval: 0.2) { slowConsumerEnds() >= 1 },
            "streamgate_streams_total{kind=\"sse\",route=\"feed\",outcome=\"slow_consumer\"} stayed 0"
        )
        readers.forEach { $0.kill() }
        let response = Self.dechunk(Array(stalled.received.utf8))
        XCTAssertTrue(response.head.hasPrefix("HTTP/1.1 200"), response.head)
        XCTAssertTrue(
            response.terminated,
            "no terminating chunk after \(stalled.receivedByteCount) bytes (closed: \(stalled.isClosedByPeer))"
        )
        XCTAssertTrue(response.body.hasSuffix("\n\n"), "ended inside an event: …\(response.body.suffix(80))")
        let cut = SharedFeedTranscript(response.body.components(separatedBy: "\n"))
        assertConsecutive(cut, "the stalled client")
        XCTAssertGreaterThan(cut.seqs.first ?? 0, joinedAt - 20, "the stalled client did not start live")
        for (index, reader) in readers.enumerated() {
            let transcript = SharedFeedTranscript(reader)
            assertConsecutive(transcript, "reader \(index)")
            let last = transcript.seqs.last ?? 0
            XCTAssertGreaterThanOrEqual(last, readersAt + 200, "reader \(index)")
            XCTAssertLessThan(cut.seqs.last ?? .max, last - 100, "the stalled client read on as far as reader \(index)")
        }
    }

    /// The head, the de-chunked body and whether the terminating chunk came, of an HTTP/1.1 chunked response.
    private static func dechunk(_ bytes: [UInt8]) -> (head: String, body: String, terminated: Bool) {
        func find(_ pattern: [UInt8], from start: Int) -> Int? {
            var index = start
            while index + pattern.count <= bytes.count {
                if bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
                    return index
                }
                index += 1
            }
            return nil
        }
        let crlf: [UInt8] = [13, 10]
        guard let headEnd = find(crlf + crlf, from: 0) else {
            return (String(decoding: bytes, as: UTF8.self), "", false)
        }
        let head = String(decoding: bytes[..<headEnd], as: UTF8.self)
        var body: [UInt8] = []
        var index = headEnd + 4
        while let lineEnd = find(crlf, from: index),
              let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16) {
            if size == 0 {
                return (head, String(decoding: body, as: UTF8.self), true)
            }
            let start = lineEnd + 2
            guard start + size + 2 <= bytes.count else { break }
            body += bytes[start..<(start + size)]
            index = start + size + 2
        }
        return (head, String(decoding: body, as: UTF8.self), false)
    }

    // MARK: - idle_close

    /// `idle_close: 1s`: the upstream stays while one subscriber is left, closes about a second after the last
    /// one left; a client that comes back within the second takes the still-open upstream (no new request), and
    /// once it leaves the upstream closes a second later.
    func testSharedUpstreamClosesIdleCloseAfterItsLastSubscriberLeftAndTakesOneThatComesBackMeanwhile() throws {
        let origin = try startFeedOrigin()
        let proxy = try startSharedProxy(servers: [origin.port], routes: [
            .init("feed", sse: "{ heartbeat_interval: 1s, shared: { idle_close: 1s } }"),
        ])
        let leaving = try startClient(proxy, "/feed", over: .http1)
        let staying = try startClient(proxy, "/feed", over: .http2)
        XCTAssertFalse(waitForEvents(5, on: [leaving, staying]).contains(nil), "\(leaving.stderr)\(staying.stderr)")
        let first = try XCTUnwrap(origin.requests.first?["peer"], "\(origin.requests)")
        leaving.kill()
        Thread.sleep(forTimeInterval: 1.6)
        XCTAssertNil(origin.closedAt(first), "the upstream closed while a subscriber was left")
        let stayingAt = lastID(staying) ?? 0
        XCTAssertTrue(waitForEvent(stayingAt + 3, on: [staying]), "the remaining subscriber stopped reading events")

        staying.kill()
        assertUpstreamCloses(first, oneSecondAfter: Date().timeIntervalSince1970, origin: origin)

        // A new feed; its only client leaves and another comes 400 ms later: it takes the open upstream.
        let before = try startClient(proxy, "/feed", over: .http1)
        XCTAssertFalse(waitForEvents(3, on: [before]).contains(nil), before.stderr)
        XCTAssertEqual(origin.requests.count, 2, "a client after the close opens a new upstream: \(origin.requests)")
        let second = try XCTUnwrap(origin.requests.last?["peer"])
        before.kill()
        let left = Date()
        let beforeAt = lastID(before) ?? 0
        Thread.sleep(forTimeInterval: 0.4)
        let rejoining = try startClient(proxy, "/feed", over: .http2)
        XCTAssertFalse(waitForEvents(3, on: [rejoining]).contains(nil), rejoining.stderr)
        Thread.sleep(forTimeInterval: max(0, 1.6 - Date().timeIntervalSince(left)))
        XCTAssertEqual(origin.requests.count, 2, "the client that came back made a new request: \(origin.requests)")
        XCTAssertNil(origin.closedAt(second), "the upstream closed under the client that came back within idle_close")
        let rejoined = SharedFeedTranscript(rejoining)
        assertConsecutive(rejoined, "the client that came back")
        XCTAssertEqual(rejoined.streams, [2], "the client that came back read another upstream request")
        XCTAssertGreaterThan(rejoined.seqs.first ?? 0, beforeAt, "sent events from before it came")

        rejoining.kill()
        assertUpstreamCloses(second, oneSecondAfter: Date().timeIntervalSince1970, origin: origin)
    }

    /// Fails unless `origin` sees its connection from `peer` close between 0.6 and 2.5 s after `left` (Unix s).
    private func assertUpstreamCloses(
        _ peer: String,
        oneSecondAfter left: Double,
        origin: SharedFeedOrigin,
        line: UInt = #line
    ) {
        XCTAssertTrue(Wait.until(timeout: 5) { origin.closedAt(peer) != nil }, "never closed", line: line)
        guard let closed = origin.closedAt(peer) else { return }
        let after = closed - left
        let message = "closed \(after) s after the last subscriber left (idle_close: 1s)"
        XCTAssertGreaterThan(after, 0.6, message, line: line)
        XCTAssertLessThan(after, 2.5, message, line: line)
    }

    // MARK: - An answer that is not an event stream

    /// A shutdown with shared feeds open: the subscribers end cleanly within the drain, and the process exits 0
    /// (the feeds' upstreams close after their event loop's hub is gone).
    func testShutdownEndsSubscribersCleanlyAndExitsZero() throws {
        let origin = try startFeedOrigin()
        let proxy = try startSharedProxy(servers: [origin.port], routes: [
            .init("feed", sse: "{ heartbeat_interval: 1s, shared: { idle_close: 30s } }"),
        ], arguments: ["--drain-seconds", "2"])
        let clients = try (0..<4).map { try startClient(proxy, "/feed", over: mixed($0)) }
        XCTAssertFalse(waitForEvents(5, on: clients).contains(nil), clients.map(\.stderr).joined())
        let result = proxy.stop(timeout: 10)
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        XCTAssertFalse(result.timedOut, result.stderr)
        XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr)
        for client in clients {
            XCTAssertEqual(client.waitForExit(timeout: 5), 0, "a subscriber was not ended cleanly: \(client.stderr)")
            // The drain's `retry:` field is the one block that is not an event.
            let transcript = SharedFeedTranscript(client)
            XCTAssertEqual(transcript.malformed.filter { !$0.hasPrefix("retry: ") }, [], "not whole events")
            let seqs = transcript.seqs
            XCTAssertEqual(seqs, seqs.first.map { Array($0...($0 + seqs.count - 1)) } ?? [1], "not consecutive")
        }
    }

    func testSharedUpstreamAnswering503SendsEveryWaitingClientToTheOrigin() throws {
        try assertEveryWaitingClientGetsItsOwnAnswer(status: 503)
    }

    func testSharedUpstreamAnsweringPlainTextSendsEveryWaitingClientToTheOrigin() throws {
        try assertEveryWaitingClientGetsItsOwnAnswer(status: 200)
    }

    /// The origin answers every request `status` with a text/plain body naming the request, a second late: three
    /// clients wait on the shared request, then each gets the origin's answer to a request of its own.
    private func assertEveryWaitingClientGetsItsOwnAnswer(status: Int, line: UInt = #line) throws {
        let origin = try startFeedOrigin(["--status", "\(status)", "--content-type", "text/plain", "--head-delay", "1"])
        let proxy = try startSharedProxy(servers: [origin.port], routes: [
            .init("feed", sse: "{ heartbeat_interval: 1s, shared: {} }"),
        ])
        let clients = try (0..<3).map { index in
            try startClient(proxy, "/feed", over: mixed(index), extra: ["--write-out", "\\nstatus %{http_code}\\n"])
        }
        var answers: [Int] = []
        for (index, client) in clients.enumerated() {
            XCTAssertEqual(client.waitForExit(timeout: 10), 0, "client \(index): \(client.stderr)", line: line)
            let texts = client.lines.map(\.text)
            XCTAssertEqual(texts.last, "status \(status)", "client \(index): \(texts)", line: line)
            let answer = texts.first { $0.hasPrefix("answer ") && $0.hasSuffix(" to /feed") }
            XCTAssertNotNil(answer, "client \(index) did not get the origin's answer: \(texts)", line: line)
            if let number = answer?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
                answers.append(number)
            }
            XCTAssertFalse(texts.contains { $0.hasPrefix("id: ") || $0.hasPrefix(":") }, "\(texts)", line: line)
        }
        let requests = origin.requests.map { "\($0["stream"] ?? "?") \($0["target"] ?? "?")" }
        XCTAssertEqual(answers.sorted(), [2, 3, 4], "each client's own answer: \(requests)", line: line)
        XCTAssertEqual(origin.requests.count, 4, "the shared request, then one per client: \(requests)", line: line)
        assertShared(route: "feed", subscribers: 0, upstreams: 0, line: line)
    }

    // MARK: - resume

    /// `resume: true` and two servers of one feed: the server under the shared feed is killed; the other gets one
    /// request with the Last-Event-ID of the feed, and every subscriber reads on without a gap or a duplicate.
    func testSharedFeedFailsOverToTheOtherServerWithoutAGapForAnySubscriber() throws {
        let a = try startFeedOrigin()
        let b = try startFeedOrigin(epoch: a.epoch)
        let proxy = try startSharedProxy(servers: [a.port, b.port], routes: [
            .init("feed", sse: "{ heartbeat_interval: 1s, resume: true, resume_backoff: 100ms, shared: {} }"),
        ])
        let clients = try (0..<4).map { try startClient(proxy, "/feed", over: mixed($0)) }
        XCTAssertFalse(waitForEvents(10, on: clients).contains(nil), "\(clients.map(\.stderr))")
        let serving = [a, b].filter { !$0.requests.isEmpty }
        XCTAssertEqual(serving.count, 1, "origins with requests: a \(a.requests), b \(b.requests)")
        let (killed, other) = a.requests.isEmpty ? (b, a) : (a, b)
        XCTAssertEqual(killed.requests.count, 1, "\(killed.requests)")

        killed.kill()
        XCTAssertTrue(Wait.until(timeout: 10) { !other.requests.isEmpty }, "the other server was never asked")
        let resumedFrom = try XCTUnwrap(other.requests.first?["last_event_id"].flatMap { Int($0) }, "\(other.requests)")
        XCTAssertTrue(waitForEvent(resumedFrom + 20, on: clients), "events stopped: \(clients.map { lastID($0) })")
        XCTAssertTrue(clients.allSatisfy { $0.waitForExit(timeout: 0) == nil }, "a subscriber's stream ended")
        XCTAssertEqual(other.requests.count, 1, "one resume for the shared feed: \(other.requests)")
        clients.forEach { $0.kill() }

        for (index, client) in clients.enumerated() {
            let transcript = SharedFeedTranscript(client)
            assertConsecutive(transcript, "subscriber \(index)")
            let vias = transcript.events.map { ($0.seq, $0.via) }
            let misplaced = vias.filter { seq, via in via != (seq <= resumedFrom ? killed.port : other.port) }
            XCTAssertEqual(misplaced.map { $0.0 }, [], "subscriber \(index): events not from \(killed.port) up to "
                + "\(resumedFrom) then \(other.port)")
        }
    }
}
