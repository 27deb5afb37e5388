import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import StreamGateConfig
import XCTest

@testable import StreamGateProxy

/// The ring and the subscribers' positions of a shared feed, with the feed's upstream side driven by hand (events
/// fed one by one and in batches) and client sides that take bytes only while they have room: every subscriber
/// gets every event once and in order from where it joined, a slow one holds back nobody and falls off the ring's
/// end, late joiners replay from the ring.
final class SharedFeedTests: XCTestCase {
    /// A client side that records what it got and has room for `capacity` more writes.
    private final class RecordingClient: DownstreamResponder {
        var capacity = Int.max
        var head: HTTPResponseHead?
        var body = ""
        var ended = false
        var cut = false
        var finished = false

        func sendInformationalHead(_ head: HTTPResponseHead) {}
        func sendResponseHead(_ head: HTTPResponseHead) { self.head = head }
        func sendResponseBody(_ buffer: ByteBuffer) {
            body += String(buffer: buffer)
            capacity -= 1
        }
        func sendResponseEnd(trailers: HTTPHeaders?) { ended = true }
        func flushResponse() {}
        func abortResponse() { cut = true }
        var canTakeResponseBody: Bool { capacity > 0 }
        var queuedResponseBytes: Int { 0 }
        func pauseRequestBody() {}
        func resumeRequestBody() {}
        func streamFinished() { finished = true }
        func beginTunnel(upstreamHead head: HTTPResponseHead) -> (any TunnelEndpoint)? { nil }

        /// The data of the events received, in order.
        var events: [String] {
            body.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
        }
    }

    private let loop = EmbeddedEventLoop()
    private var hub: SharedFeedHub!
    private var route: Route!

    private func makeFeed(_ shared: SSESharedConfig, retry: Duration? = nil) -> SharedFeed {
        let upstream = UpstreamGroup(
            index: 0,
            config: UpstreamConfig(name: "app", servers: [HostPort(host: "127.0.0.1", port: 9)]),
            addresses: [try! SocketAddress(ipAddress: "127.0.0.1", port: 9)]
        )
        let config = RouteConfig(
            match: RouteMatch(pathPrefix: "/"),
            upstream: "app",
            sse: SSEConfig(heartbeatInterval: .seconds(1), retry: retry, shared: shared)
        )
        route = Route(index: 0, config: config, upstream: upstream)
        hub = SharedFeedHub(timers: LoopTimers(eventLoop: loop, clock: StreamClock { .now() }))
        let key = SharedFeedKey(route: route, head: Self.request(), host: "example.com", config: shared)!
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return SharedFeed(key: key, route: route, config: shared, hub: hub, eventLoop: loop, logger: logger)
    }

    private static func request(lastEventID: String? = nil) -> HTTPRequestHead {
        var headers = HTTPHeaders([("host", "example.com")])
        if let lastEventID {
            headers.add(name: "last-event-id", value: lastEventID)
        }
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: "/feed?x=1", headers: headers)
    }

    private func subscriber(_ client: RecordingClient, lastEventID: String? = nil) -> SharedSubscriber {
        let head = Self.request(lastEventID: lastEventID)
        let shared = route.config.sse.shared!
        let origin = SharedSubscriber.Origin(
            route: route,
            upstreamHead: head,
            key: SharedFeedKey(route: route, head: head, host: "example.com", config: shared)!,
            lease: UpstreamLease(group: route.upstream, pool: UpstreamConnectionPool(eventLoop: loop)),
            clock: StreamClock { .now() },
            slowConsumerTimeout: .zero
        )
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return SharedSubscriber(
            origin: origin, hub: hub, eventLoop: loop, downstream: client, connection: nil, streamID: 1,
            host: "example.com", logger: logger
        )
    }

    private static let eventStreamHead = HTTPResponseHead(
        version: .http1_1,
        status: .ok,
        headers: HTTPHeaders([("content-type", "text/event-stream")])
    )

    private func events(_ range: ClosedRange<Int>) -> String {
        range.map { "id: \($0)\ndata: \($0)\n\n" }.joined()
    }

    func testEverySubscriberGetsEveryEventOnceInOrderHoweverTheyAreBatched() {
        for batch in [1, 2, 3, 7, 50] {
            let feed = makeFeed(SSESharedConfig(replayEvents: 100))
            let clients = (0..<3).map { _ in RecordingClient() }
            for client in clients {
                feed.add(subscriber(client))
            }
            feed.sendResponseHead(Self.eventStreamHead)
            var next = 1
            while next <= 50 {
                let last = min(next + batch - 1, 50)
                feed.sendResponseBody(ByteBuffer(string: events(next...last)))
                feed.flushResponse()
                next = last + 1
            }
            for client in clients {
                XCTAssertEqual(client.head?.status, .ok, "batch \(batch)")
                XCTAssertEqual(client.events, (1...50).map(String.init), "batch \(batch)")
                XCTAssertTrue(client.body.hasPrefix(":\n\n"), "the first bytes every event stream gets")
            }
            XCTAssertEqual(feed.ring.count, 50)
        }
    }

    func testASlowSubscriberHoldsBackNobodyAndFallsOffTheRing() {
        let feed = makeFeed(SSESharedConfig(replayEvents: 10))
        let fast = RecordingClient()
        let slow = RecordingClient()
        slow.capacity = 4  // the head's preamble and three events, then its client stops reading
        feed.add(subscriber(fast))
        let slowSubscriber = subscriber(slow)
        feed.add(slowSubscriber)
        feed.sendResponseHead(Self.eventStreamHead)
        for number in 1...12 {
            feed.sendResponseBody(ByteBuffer(string: events(number...number)))
            XCTAssertFalse(slow.ended, "ended too early, at event \(number)")
        }
        XCTAssertEqual(fast.events, (1...12).map(String.init))
        XCTAssertEqual(slow.events, ["1", "2", "3"])
        // Event 4 (its next) leaves the ring with event 14.
        feed.sendResponseBody(ByteBuffer(string: events(13...14)))
        XCTAssertTrue(slow.ended, "a subscriber the ring left behind is ended")
        XCTAssertFalse(slow.cut, "cleanly: it stands between events")
        XCTAssertEqual(feed.subscriberCount, 1)
        XCTAssertEqual(fast.events, (1...14).map(String.init))
    }

    func testASubscriberThatCatchesUpBeforeFallingOffGetsEverything() {
        let feed = makeFeed(SSESharedConfig(replayEvents: 10))
        let client = RecordingClient()
        client.capacity = 3
        let stream = subscriber(client)
        feed.add(stream)
        feed.sendResponseHead(Self.eventStreamHead)
        feed.sendResponseBody(ByteBuffer(string: events(1...9)))
        XCTAssertEqual(client.events, ["1", "2"])
        client.capacity = 100
        stream.downstreamBecameWritable()
        XCTAssertEqual(client.events, (1...9).map(String.init))
        feed.sendResponseBody(ByteBuffer(string: events(10...30)))
        XCTAssertEqual(client.events, (1...30).map(String.init))
        XCTAssertFalse(client.ended)
    }

    func testLateJoinersReplayFromTheRingOrGoLive() {
        let feed = makeFeed(SSESharedConfig(replayEvents: 5, missed: .join))
        feed.add(subscriber(RecordingClient()))
        feed.sendResponseHead(Self.eventStreamHead)
        feed.sendResponseBody(ByteBuffer(string: events(1...8)))
        let fromRing = RecordingClient()
        feed.add(subscriber(fromRing, lastEventID: "5"))
        XCTAssertEqual(fromRing.events, ["6", "7", "8"])
        let live = RecordingClient()
        feed.add(subscriber(live))
        XCTAssertEqual(live.events, [])
        let tooOld = RecordingClient()
        feed.add(subscriber(tooOld, lastEventID: "2"))
        XCTAssertTrue(tooOld.body.contains(": missed events before 2\n\n"))
        feed.sendResponseBody(ByteBuffer(string: events(9...9)))
        for client in [fromRing, live, tooOld] {
            XCTAssertEqual(client.events.last, "9")
        }
        XCTAssertEqual(tooOld.events, ["9"])
    }

    func testHeartbeatsAndCommentsGoOnlyToCaughtUpSubscribersAndAreNotKept() {
        let feed = makeFeed(SSESharedConfig())
        let caughtUp = RecordingClient()
        let behind = RecordingClient()
        behind.capacity = 2
        feed.add(subscriber(caughtUp))
        feed.add(subscriber(behind))
        feed.sendResponseHead(Self.eventStreamHead)
        feed.sendResponseBody(ByteBuffer(string: events(1...3) + ":\n\n"))
        XCTAssertTrue(caughtUp.body.hasSuffix("data: 3\n\n:\n\n"))
        XCTAssertFalse(behind.body.contains("data: 2"))
        XCTAssertEqual(feed.ring.count, 3)
    }

    func testTheRingKeepsItsBoundsAndFindsIDs() {
        var ring = SharedEventRing(maximumEvents: 3, maximumBytes: 20)
        for number in 1...5 {
            ring.append(ByteBuffer(string: "data: \(number)\n\n"), id: "\(number)")
        }
        XCTAssertEqual(ring.count, 2, "two 9-byte events fit in 20 bytes")
        XCTAssertEqual(ring.firstSequence, 3)
        XCTAssertEqual(ring.nextSequence, 5)
        XCTAssertEqual(ring.sequence(after: "4"), 4)
        XCTAssertNil(ring.sequence(after: "2"))
        XCTAssertNil(ring.entry(2))
        XCTAssertEqual(ring.entry(4).map { String(buffer: $0.bytes) }, "data: 5\n\n")
        ring.append(ByteBuffer(string: String(repeating: "x", count: 40)), id: nil)
        XCTAssertEqual(ring.count, 1, "the newest event stays even when it alone is over the byte bound")
    }

    func testAFeedThatEndsEndsItsSubscribersAfterWhatTheyHaveNotRead() {
        let feed = makeFeed(SSESharedConfig())
        let client = RecordingClient()
        client.capacity = 2
        let stream = subscriber(client)
        feed.add(stream)
        feed.sendResponseHead(Self.eventStreamHead)
        feed.sendResponseBody(ByteBuffer(string: events(1...3)))
        feed.sendResponseEnd(trailers: nil)
        XCTAssertFalse(client.ended)
        client.capacity = 10
        stream.downstreamBecameWritable()
        XCTAssertEqual(client.events, ["1", "2", "3"])
        XCTAssertTrue(client.ended)
    }

    func testRequestsWithCredentialsAreNotSharedUnlessTheKeySaysSo() {
        let feed = makeFeed(SSESharedConfig())
        _ = feed
        var head = Self.request()
        head.headers.add(name: "cookie", value: "session=1")
        XCTAssertNil(SharedFeedKey(route: route, head: head, host: "example.com", config: SSESharedConfig()))
        let withCookie = SSESharedConfig(key: [.path, .cookie])
        XCTAssertNotNil(SharedFeedKey(route: route, head: head, host: "example.com", config: withCookie))
        var other = head
        other.headers.replaceOrAdd(name: "cookie", value: "session=2")
        XCTAssertNotEqual(
            SharedFeedKey(route: route, head: head, host: "example.com", config: withCookie),
            SharedFeedKey(route: route, head: other, host: "example.com", config: withCookie)
        )
        var post = Self.request()
        post.method = .POST
        XCTAssertNil(SharedFeedKey(route: route, head: post, host: "example.com", config: SSESharedConfig()))
        var otherQuery = Self.request()
        otherQuery.uri = "/feed?x=2"
        XCTAssertNotEqual(
            SharedFeedKey(route: route, head: Self.request(), host: "example.com", config: SSESharedConfig()),
            SharedFeedKey(route: route, head: otherQuery, host: "example.com", config: SSESharedConfig())
        )
        XCTAssertEqual(
            SharedFeedKey(route: route, head: Self.request(), host: "example.com", config: SSESharedConfig(key: [.path])),
            SharedFeedKey(route: route, head: otherQuery, host: "example.com", config: SSESharedConfig(key: [.path]))
        )
    }
}
