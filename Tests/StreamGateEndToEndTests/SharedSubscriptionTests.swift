import Foundation
import StreamGateTestSupport
import XCTest

/// Shared subscriptions (`sse.shared`) against the real binary on one event loop, with curl clients over HTTP/1.1
/// and HTTP/2 and an origin in a process of its own (`Tests/Peers/shared_feed_origin.py`, whose events name the
/// upstream request they came on): the clients of one feed share one upstream request and read the same events; the
/// key says who shares (the query, a cookie, an authorization); late joiners replay from the ring after their
/// Last-Event-ID or start live, and one whose id left the ring goes to the origin or joins after a comment;
/// `/connections` and `/metrics` show the subscribers.
final class SharedSubscriptionTests: SharedSubscriptionTestCase {
    private static let sharedDefaults = "{ heartbeat_interval: 1s, shared: {} }"

    // MARK: - One upstream, the same events

    /// 20 clients, HTTP/1.1 and HTTP/2 in turn, on one path: the origin gets one request, and every client reads
    /// the same events (same ids, same data, from the same upstream request), one after another.
    func testTwentyClientsShareOneUpstreamRequestAndReadTheSameEvents() throws {
        let origin = try startFeedOrigin()
        let proxy = try startSharedProxy(servers: [origin.port], routes: [.init("feed", sse: Self.sharedDefaults)])
        let clients = try (0..<20).map { try startClient(proxy, "/feed", over: mixed($0)) }
        let firsts = waitForEvents(1, on: clients)
        XCTAssertEqual(firsts.compactMap { $0 }.count, 20, "clients that read an event: \(firsts)")
        let from = firsts.compactMap { $0 }.max() ?? 1
        let window = from...(from + 20)
        XCTAssertTrue(waitForEvent(window.upperBound, on: clients), "not every client read event \(window.upperBound)")
        XCTAssertEqual(origin.requests.count, 1, "requests the origin saw: \(origin.requests)")
        assertShared(route: "feed", subscribers: 20, upstreams: 1)
        clients.forEach { $0.kill() }

        let transcripts = clients.map { SharedFeedTranscript($0) }
        let reference = transcripts[0].events.filter { window.contains($0.seq) }.map(\.data)
        XCTAssertEqual(reference.count, window.count, "client 0 read \(consecutiveRuns(transcripts[0].seqs))")
        for (index, transcript) in transcripts.enumerated() {
            assertConsecutive(transcript, "client \(index)")
            let read = transcript.events.filter { window.contains($0.seq) }.map(\.data)
            XCTAssertEqual(read, reference, "client \(index) (\(mixed(index))) read other events in \(window)")
            XCTAssertEqual(transcript.streams, [1], "client \(index): the upstream requests its events came on")
        }
    }

    // MARK: - The key

    /// With the default key (path and query) each query string is a feed of its own; with `key: [path]` the
    /// query strings of one path share, and another path does not.
    func testQueryStringMakesAFeedOfItsOwnUnlessTheKeyIsThePathAlone() throws {
        let origin = try startFeedOrigin()
        let proxy = try startSharedProxy(servers: [origin.port], routes: [
            .init("feed", sse: Self.sharedDefaults),
            .init("bypath", sse: "{ heartbeat_interval: 1s, shared: { key: [path] } }"),
        ])
        let paths = [
            "/feed?room=1", "/feed?room=1", "/feed?room=2", "/bypath?room=1", "/bypath?room=2", "/bypath/other?room=1",
        ]
        let clients = try paths.enumerated().map { try startClient(proxy, $0.element, over: mixed($0.offset)) }
        let firsts = waitForEvents(5, on: clients)
        XCTAssertFalse(firsts.contains(nil), "clients without events: \(zip(paths, firsts).filter { $0.1 == nil })")

        let feed = origin.requests(to: "/feed").compactMap { $0["target"] }.sorted()
        XCTAssertEqual(feed, ["/feed?room=1", "/feed?room=2"], "one upstream request per query string")
        let bypath = origin.requests(to: "/bypath").compactMap { $0["target"] }
        XCTAssertEqual(bypath.filter { $0.hasPrefix("/bypath?room=") }.count, 1, "key [path]: \(bypath)")
        XCTAssertEqual(bypath.filter { $0.hasPrefix("/bypath/other") }, ["/bypath/other?room=1"], "key [path]")
        XCTAssertEqual(bypath.count, 2, "\(bypath)")
        assertShared(route: "feed", subscribers: 3, upstreams: 2)
        assertShared(route: "bypath", subscribers: 3, upstreams: 2)
        clients.forEach { $0.kill() }

        let transcripts = clients.map { SharedFeedTranscript($0) }
        for (index, transcript) in transcripts.enumerated() {
            assertConsecutive(transcript, paths[index])
            XCTAssertEqual(transcript.streams.count, 1, "\(paths[index]): events of several upstream requests")
        }
        let streams = transcripts.map(\.streams)
        XCTAssertEqual(streams[0], streams[1], "the two clients of /feed?room=1")
        XCTAssertNotEqual(streams[0], streams[2], "/feed?room=1 and /feed?room=2")
        XCTAssertEqual(streams[3], streams[4], "/bypath?room=1 and /bypath?room=2 with key [path]")
        XCTAssertNotEqual(streams[3], streams[5], "/bypath and /bypath/other with key [path]")
    }

    /// A request with Cookie or Authorization goes to the origin on its own with the default key, even when
    /// another carries the same cookie; with `cookie` (`authorization`) in the key, the same value shares and
    /// another value does not.
    func testCookieOrAuthorizationKeepsARequestToItselfUnlessTheKeyNamesIt() throws {
        let origin = try startFeedOrigin()
        let proxy = try startSharedProxy(servers: [origin.port], routes: [
            .init("feed", sse: Self.sharedDefaults),
            .init("bycookie", sse: "{ heartbeat_interval: 1s, shared: { key: [path, query, cookie] } }"),
            .init("byauth", sse: "{ heartbeat_interval: 1s, shared: { key: [path, query, authorization] } }"),
        ])
        let plan: [(path: String, header: String?)] = [
            ("/feed", nil), ("/feed", nil), ("/feed", "Cookie: s=1"), ("/feed", "Cookie: s=1"),
            ("/feed", "Authorization: Bearer a"),
            ("/bycookie", "Cookie: s=1"), ("/bycookie", "Cookie: s=1"), ("/bycookie", "Cookie: s=2"),
            ("/byauth", "Authorization: Bearer a"), ("/byauth", "Authorization: Bearer a"),
            ("/byauth", "Authorization: Bearer b"),
        ]
        let clients = try plan.enumerated().map { index, entry in
            try startClient(proxy, entry.path, over: mixed(index), headers: entry.header.map { [$0] } ?? [])
        }
        let firsts = waitForEvents(3, on: clients)
        XCTAssertFalse(firsts.contains(nil), "clients without events: \(firsts)")

        func seen(_ prefix: String, _ field: String) -> [String] {
            origin.requests(to: prefix).map { $0[field] ?? "?" }.sorted()
        }
        XCTAssertEqual(seen("/feed", "cookie"), ["", "", "s=1", "s=1"], "\(origin.requests(to: "/feed"))")
        XCTAssertEqual(seen("/feed", "authorization"), ["", "", "", "Bearer a"], "\(origin.requests(to: "/feed"))")
        XCTAssertEqual(seen("/bycookie", "cookie"), ["s=1", "s=2"], "\(origin.requests(to: "/bycookie"))")
        XCTAssertEqual(seen("/byauth", "authorization"), ["Bearer a", "Bearer b"], "\(origin.requests(to: "/byauth"))")
        assertShared(route: "feed", subscribers: 2, upstreams: 1)
        assertShared(route: "bycookie", subscribers: 3, upstreams: 2)
        assertShared(route: "byauth", subscribers: 3, upstreams: 2)
        clients.forEach { $0.kill() }

        let streams = clients.map { SharedFeedTranscript($0).streams }
        XCTAssertEqual(streams[0], streams[1], "two clients without Cookie or Authorization")
        XCTAssertEqual(Set(streams[0...4]).count, 4, "/feed: each client with credentials alone: \(streams[0...4])")
        XCTAssertEqual(streams[5], streams[6], "the same cookie, with cookie in the key")
        XCTAssertNotEqual(streams[5], streams[7], "another cookie, with cookie in the key")
        XCTAssertEqual(streams[8], streams[9], "the same Authorization, with authorization in the key")
        XCTAssertNotEqual(streams[8], streams[10], "another Authorization, with authorization in the key")
    }

    // MARK: - Late joiners

    /// A client joining with the Last-Event-ID of an event in the ring reads every event after it, then the live
    /// ones, the same as the first client read them, without asking the origin; one without Last-Event-ID reads
    /// only what comes after it joined.
    func testLateJoinerReplaysFromTheRingAfterItsLastEventIDAndOneWithoutStartsLive() throws {
        let origin = try startFeedOrigin()
        let proxy = try startSharedProxy(servers: [origin.port], routes: [.init("feed", sse: Self.sharedDefaults)])
        let first = try startClient(proxy, "/feed", over: .http1)
        let start = try XCTUnwrap(waitForEvents(15, on: [first]).first ?? nil, "no events: \(first.stderr)")
        let resumeFrom = start + 4
        let replaying = try startClient(proxy, "/feed", over: .http2, headers: ["Last-Event-ID: \(resumeFrom)"])
        let live = try XCTUnwrap(lastID(first))
        let fresh = try startClient(proxy, "/feed", over: .http1)
        let all = [first, replaying, fresh]
        XCTAssertTrue(waitForEvent(live + 20, on: all), "events stopped: \(all.map { lastID($0) })")
        XCTAssertEqual(origin.requests.count, 1, "the origin was asked again: \(origin.requests)")
        assertShared(route: "feed", subscribers: 3, upstreams: 1)
        all.forEach { $0.kill() }

        let reference = SharedFeedTranscript(first)
        let replayed = SharedFeedTranscript(replaying)
        let joined = SharedFeedTranscript(fresh)
        assertConsecutive(reference, "the first client")
        assertConsecutive(replayed, "the client with Last-Event-ID \(resumeFrom)", first: resumeFrom + 1)
        assertConsecutive(joined, "the client without Last-Event-ID")
        let data = reference.dataBySeq
        let common = replayed.events.filter { data[$0.seq] != nil }
        XCTAssertGreaterThanOrEqual(common.count, live - resumeFrom, "events both clients read")
        let differing = common.filter { data[$0.seq] != $0.data }.map(\.seq)
        XCTAssertEqual(differing, [], "events the late joiner read otherwise than the first client")
        let joinedFirst = joined.seqs.first ?? 0
        XCTAssertGreaterThan(joinedFirst, live, "the client without Last-Event-ID was sent events from before it came")
        XCTAssertLessThanOrEqual(joinedFirst, live + 40, "the client without Last-Event-ID started late")
    }

    /// `missed: upstream`: a Last-Event-ID 20 events old with a ring of 5 goes to the origin on a request of its
    /// own, which carries that Last-Event-ID; the client reads the origin's events from there.
    func testLastEventIDNoLongerInTheRingGoesToTheOriginWithMissedUpstream() throws {
        let origin = try startFeedOrigin()
        let proxy = try startSharedProxy(servers: [origin.port], routes: [
            .init("feed", sse: "{ heartbeat_interval: 1s, shared: { replay: 5, missed: upstream } }"),
        ])
        let subscriber = try startClient(proxy, "/feed", over: .http1)
        let start = try XCTUnwrap(waitForEvents(25, on: [subscriber]).first ?? nil, "no events: \(subscriber.stderr)")
        let old = start + 2
        let latecomer = try startClient(proxy, "/feed", over: .http2, headers: ["Last-Event-ID: \(old)"])
        XCTAssertTrue(Wait.until(timeout: 5) { origin.requests.count >= 2 }, "the origin was not asked")
        let live = lastID(subscriber) ?? 0
        XCTAssertTrue(waitForEvent(live + 10, on: [subscriber, latecomer]), "events stopped: \(latecomer.stderr)")
        XCTAssertEqual(origin.requests.map { $0["last_event_id"] ?? "?" }, ["", "\(old)"], "\(origin.requests)")
        assertShared(route: "feed", subscribers: 1, upstreams: 1)
        subscriber.kill()
        latecomer.kill()

        let shared = SharedFeedTranscript(subscriber)
        let own = SharedFeedTranscript(latecomer)
        assertConsecutive(shared, "the subscriber")
        assertConsecutive(own, "the client with Last-Event-ID \(old)", first: old + 1)
        XCTAssertEqual(shared.streams, [1], "the subscriber's upstream request")
        XCTAssertEqual(own.streams, [2], "the latecomer's events came on a request of its own")
        XCTAssertFalse(own.comments.contains { $0.text.contains("missed") }, "\(own.comments.map(\.text))")
    }

    /// `missed: join`: a Last-Event-ID 20 events old with a ring of 5 gets `: missed events before <id>`, then
    /// the live events of the shared feed; the origin is not asked.
    func testLastEventIDNoLongerInTheRingJoinsLiveAfterACommentWithMissedJoin() throws {
        let origin = try startFeedOrigin()
        let proxy = try startSharedProxy(servers: [origin.port], routes: [
            .init("feed", sse: "{ heartbeat_interval: 1s, shared: { replay: 5, missed: join } }"),
        ])
        let subscriber = try startClient(proxy, "/feed", over: .http2)
        let start = try XCTUnwrap(waitForEvents(25, on: [subscriber]).first ?? nil, "no events: \(subscriber.stderr)")
        let old = start + 2
        let live = try XCTUnwrap(lastID(subscriber))
        let latecomer = try startClient(proxy, "/feed", over: .http1, headers: ["Last-Event-ID: \(old)"])
        XCTAssertTrue(waitForEvent(live + 10, on: [subscriber, latecomer]), "events stopped: \(latecomer.stderr)")
        XCTAssertEqual(origin.requests.count, 1, "the origin was asked again: \(origin.requests)")
        assertShared(route: "feed", subscribers: 2, upstreams: 1)
        subscriber.kill()
        latecomer.kill()

        let reference = SharedFeedTranscript(subscriber)
        let joined = SharedFeedTranscript(latecomer)
        assertConsecutive(joined, "the client with Last-Event-ID \(old)")
        let notes = joined.comments.filter { $0.text.contains("missed") }
        XCTAssertEqual(notes.map(\.text), [": missed events before \(old)"])
        if let note = notes.first, let firstEvent = joined.events.first {
            XCTAssertLessThan(note.line, firstEvent.line, "the comment came after event \(firstEvent.seq)")
        }
        XCTAssertGreaterThan(joined.seqs.first ?? 0, live, "the client was sent events from before it came")
        XCTAssertEqual(joined.streams, [1], "the latecomer's events came on the shared request")
        let data = reference.dataBySeq
        let differing = joined.events.filter { event in data[event.seq].map { $0 != event.data } ?? false }
        XCTAssertEqual(differing.map(\.seq), [], "events the latecomer read otherwise than the subscriber")
    }

    // MARK: - Admin view

    /// Each subscriber is an `sse` stream of its own connection with `shared: {subscribers, ring_events}` and the
    /// shared upstream's address; when one leaves, the others show one subscriber less.
    func testConnectionsShowEachSubscriberWithItsSharedFeed() throws {
        let origin = try startFeedOrigin()
        let proxy = try startSharedProxy(servers: [origin.port], routes: [
            .init("feed", sse: "{ heartbeat_interval: 1s, shared: { replay: 20 } }"),
        ])
        let clients = try (0..<3).map { try startClient(proxy, "/feed", over: mixed($0)) }
        // 30 events: the ring is full (20) by then.
        XCTAssertFalse(waitForEvents(30, on: clients).contains(nil), "\(clients.map(\.stderr))")

        func shared(_ stream: [String: Any]) -> [String: Any] { stream["shared"] as? [String: Any] ?? [:] }
        var streams: [[String: Any]] = []
        let listed = Wait.until(timeout: 5, interval: 0.1) {
            streams = (try? adminStreams()) ?? []
            return streams.count == 3 && streams.allSatisfy { shared($0)["subscribers"] as? Int == 3 }
        }
        XCTAssertTrue(listed, "three subscribers of one feed: \(streams)")
        XCTAssertEqual(Set(streams.compactMap { $0["connection_id"] as? Int }).count, 3, "\(streams)")
        XCTAssertEqual(Set(streams.compactMap { $0["connection_protocol"] as? String }), ["http/1.1", "h2"])
        for stream in streams {
            XCTAssertEqual(stream["kind"] as? String, "sse", "\(stream)")
            XCTAssertEqual(stream["route_name"] as? String, "feed", "\(stream)")
            XCTAssertEqual(stream["path"] as? String, "/feed", "\(stream)")
            XCTAssertEqual((stream["upstream"] as? [String: Any])?["address"] as? String, origin.address, "\(stream)")
            XCTAssertEqual(shared(stream)["ring_events"] as? Int, 20, "a ring of replay: 20 after 30 events: \(stream)")
        }

        clients[0].kill()
        let fewer = Wait.until(timeout: 5, interval: 0.1) {
            streams = (try? adminStreams()) ?? []
            return streams.count == 2 && streams.allSatisfy { shared($0)["subscribers"] as? Int == 2 }
        }
        XCTAssertTrue(fewer, "two subscribers after one left: \(streams)")
        XCTAssertEqual(origin.requests.count, 1, "\(origin.requests)")
    }
}
