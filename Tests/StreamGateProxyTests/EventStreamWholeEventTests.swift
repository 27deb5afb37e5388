import NIOCore
import StreamGateConfig
import XCTest

@testable import StreamGateProxy

/// Whole-event forwarding (`sse.resume`): the client only ever gets complete events, whatever the chunking; a
/// failover drops the unfinished event and remembers the client's last id; the next upstream's replay of what the
/// client has is dropped. Drip-fed byte by byte and split at every offset.
final class EventStreamWholeEventTests: XCTestCase {
    private let allocator = ByteBufferAllocator()

    private func filter(maxEventBytes: Int = 256 * 1024) -> EventStreamFilter {
        let config = SSEConfig(resume: SSEResumeConfig(maxEventBytes: maxEventBytes))
        return EventStreamFilter(config: config, heartbeat: allocator.buffer(string: ":\n\n"))
    }

    private static let stream = Array(
        "id: 1\ndata: one\n\n: comment\n\nid: 2\r\ndata: two\r\ndata: more\r\n\r\nevent: x\rdata: three\r\rid: 4\ndata: four\n\n"
            .utf8
    )

    /// Whatever the chunking, every forwarded piece leaves the client at an event boundary, nothing is lost or
    /// reordered, and the client parses the same events as from the upstream's bytes.
    func testTheClientOnlyEverGetsWholeEvents() {
        for feeding in EventStreamScannerHarness.standardFeedings(of: Self.stream) {
            var filter = filter()
            var output: [UInt8] = []
            for chunk in feeding.chunks {
                let forwarded = filter.forward(ByteBuffer(bytes: chunk), allocator: allocator)
                output += Array(buffer: forwarded)
                let client = ReferenceEventStream(parsing: output)
                XCTAssertTrue(client.endsAtBlockStart, "client inside an event after a chunk, \(feeding.name)")
                XCTAssertTrue(filter.clientIsAtEventBoundary, feeding.name)
                // The id a resume would send is the one the client holds after the events it got.
                XCTAssertEqual(filter.relayedEventID ?? "", client.events.last?.lastEventID ?? "", feeding.name)
            }
            XCTAssertEqual(output, Self.stream, feeding.name)
            XCTAssertEqual(filter.eventCount, 4, feeding.name)
            XCTAssertEqual(filter.relayedEventID, "4", feeding.name)
        }
    }

    /// A failover inside an event drops its start (the client never saw it), and the id to resume from is the one
    /// the client holds, not the one of the unfinished event.
    func testAFailoverInsideAnEventDropsItAndResumesFromTheClientsLastID() {
        var filter = filter()
        let first = filter.forward(allocator.buffer(string: "id: 7\ndata: seven\n\nid: 8\ndata: ei"), allocator: allocator)
        XCTAssertEqual(String(buffer: first), "id: 7\ndata: seven\n\n")
        XCTAssertEqual(filter.relayedEventID, "7")
        XCTAssertEqual(filter.beginFailover(), "7")
        // The next upstream sends event 8 whole.
        let second = filter.forward(allocator.buffer(string: "id: 8\ndata: eight\n\n"), allocator: allocator)
        XCTAssertEqual(String(buffer: second), "id: 8\ndata: eight\n\n")
        XCTAssertEqual(filter.relayedEventID, "8")
        XCTAssertEqual(filter.eventCount, 2)
    }

    func testNoEventIDMeansNothingToResumeFrom() {
        var filter = filter()
        _ = filter.forward(allocator.buffer(string: "data: anonymous\n\n"), allocator: allocator)
        XCTAssertNil(filter.beginFailover())
    }

    /// After a failover at id 5 the new upstream replays from the start, or from 5 itself: only what follows 5
    /// reaches the client, however the replay is chunked.
    func testTheReplayOfEventsTheClientHasIsDropped() {
        let replays = [
            "from the start": "id: 1\ndata: 1\n\nid: 2\ndata: 2\n\nid: 3\ndata: 3\n\nid: 4\ndata: 4\n\nid: 5\ndata: 5\n\nid: 6\ndata: 6\n\nid: 7\ndata: 7\n\n",
            "from the last id": ": hello\n\nid: 5\ndata: 5\n\nid: 6\ndata: 6\n\nid: 7\ndata: 7\n\n",
            "as asked": "id: 6\ndata: 6\n\nid: 7\ndata: 7\n\n",
        ]
        for (name, replay) in replays {
            for feeding in EventStreamScannerHarness.standardFeedings(of: Array(replay.utf8)) {
                var filter = filter()
                _ = filter.forward(allocator.buffer(string: "id: 4\ndata: 4\n\nid: 5\ndata: 5\n\n"), allocator: allocator)
                XCTAssertEqual(filter.beginFailover(), "5")
                var output: [UInt8] = []
                for chunk in feeding.chunks {
                    output += Array(buffer: filter.forward(ByteBuffer(bytes: chunk), allocator: allocator))
                    XCTAssertTrue(ReferenceEventStream(parsing: output).endsAtBlockStart, "\(name), \(feeding.name)")
                }
                let events = ReferenceEventStream(parsing: output).events.map(\.data)
                XCTAssertEqual(events, ["6", "7"], "\(name), \(feeding.name)")
                XCTAssertEqual(filter.eventCount, 4, "\(name), \(feeding.name)")
                XCTAssertEqual(filter.relayedEventID, "7", "\(name), \(feeding.name)")
            }
        }
    }

    /// Once an event the client lacks has passed, later events pass whatever their ids (an origin whose ids go
    /// back is not second-guessed), and a second failover resumes from the newest id.
    func testTheReplayFilterStopsAtTheFirstNewEvent() {
        var filter = filter()
        _ = filter.forward(allocator.buffer(string: "id: 10\ndata: a\n\n"), allocator: allocator)
        _ = filter.beginFailover()
        let forwarded = filter.forward(allocator.buffer(string: "id: 11\ndata: b\n\nid: 3\ndata: c\n\n"), allocator: allocator)
        XCTAssertEqual(ReferenceEventStream(parsing: Array(buffer: forwarded)).events.map(\.data), ["b", "c"])
        XCTAssertEqual(filter.beginFailover(), "3")
    }

    /// Events without an id in the replay pass (nothing says the client has them); dropped events do not change
    /// the id the client holds.
    func testReplayedEventsWithoutIDsPassAndDroppedOnesDoNotMoveTheClientsID() {
        var filter = filter()
        _ = filter.forward(allocator.buffer(string: "id: 5\ndata: 5\n\n"), allocator: allocator)
        _ = filter.beginFailover()
        let forwarded = filter.forward(allocator.buffer(string: "data: welcome\n\nid: 4\ndata: 4\n\n"), allocator: allocator)
        XCTAssertEqual(ReferenceEventStream(parsing: Array(buffer: forwarded)).events.map(\.data), ["welcome"])
        XCTAssertEqual(filter.relayedEventID, "5")
        XCTAssertEqual(filter.beginFailover(), "5")
    }

    /// An event longer than `resume_max_event` passes in pieces: the client is then inside it, and a failover
    /// cannot be hidden until it ends.
    func testAnEventOverTheHoldLimitPassesInPieces() {
        var filter = filter(maxEventBytes: 16)
        XCTAssertEqual(String(buffer: filter.forward(allocator.buffer(string: "id: 1\ndata: 0123"), allocator: allocator)), "")
        XCTAssertTrue(filter.canFailOver)
        let piece = filter.forward(allocator.buffer(string: "456789abcdef"), allocator: allocator)
        XCTAssertEqual(String(buffer: piece), "id: 1\ndata: 0123456789abcdef")
        XCTAssertFalse(filter.canFailOver)
        XCTAssertFalse(filter.clientIsAtEventBoundary)
        XCTAssertNil(filter.heartbeat(), "no heartbeat inside an event that is passing")
        let rest = filter.forward(allocator.buffer(string: "\n\nid: 2\ndata: x"), allocator: allocator)
        XCTAssertEqual(String(buffer: rest), "\n\n")
        XCTAssertTrue(filter.canFailOver)
        XCTAssertNotNil(filter.heartbeat(), "a heartbeat goes between whole events while the next one is held")
    }

    /// A BOM from the next upstream would land in the middle of the client's stream: it is dropped.
    func testTheNextUpstreamsBOMIsDropped() {
        var filter = filter()
        _ = filter.forward(allocator.buffer(string: "id: 1\ndata: a\n\n"), allocator: allocator)
        _ = filter.beginFailover()
        var replay = ByteBuffer(bytes: EventStreamScanner.byteOrderMark)
        replay.writeString("id: 2\ndata: b\n\n")
        XCTAssertEqual(String(buffer: filter.forward(replay, allocator: allocator)), "id: 2\ndata: b\n\n")
    }

    func testWhichIDsTheClientAlreadyHas() {
        let cases: [(last: String, id: String, has: Bool)] = [
            ("41", "41", true), ("41", "40", true), ("41", "042", false), ("41", "9", true), ("41", "100", false),
            ("1526919030474-55", "1526919030474-54", true), ("1526919030474-55", "1526919030474-56", false),
            ("1526919030474-55", "1526919030473-99", true), ("1.10", "1.9", true), ("1.10", "1.11", false),
            ("5", "5-1", false), ("5-1", "5", false), ("abc", "abc", true), ("abc", "abb", false),
            ("3f2a", "3f29", false), ("10", "", false), ("", "", true), ("7", "-3", false), ("7", "1--2", false),
            ("99999999999999999999999", "99999999999999999999998", true),
        ]
        for (last, id, has) in cases {
            XCTAssertEqual(ReplayedEvents(lastRelayedID: last).clientHas(id), has, "last \(last), id \(id)")
        }
    }
}
