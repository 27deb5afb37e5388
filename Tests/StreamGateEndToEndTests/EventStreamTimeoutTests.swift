import StreamGateTestSupport
import XCTest

/// `timeouts.idle` and `timeouts.max_lifetime` end an event stream cleanly (curl exits 0), with every event the
/// client got complete: max_lifetime waits for the next event boundary.
final class EventStreamTimeoutTests: EndToEndTestCase {
    /// Idle counts upstream bytes only: heartbeats every 250 ms do not keep a silent upstream's stream alive.
    private func assertIdleEndsCleanly(over client: EventStreamClientProtocol, line: UInt = #line) throws {
        let (origin, _, base) = try startOriginAndProxy(routes: [
            .init("/", timeouts: "{ idle: 1s }", sse: "{ heartbeat_interval: 250ms, heartbeat_comment: hb }"),
        ])

        let (response, seconds) = try timedFetch(base, "/silent-after-first", over: client, timeout: 10)

        XCTAssertFalse(response.timedOut, "stream still open 10 s later", line: line)
        XCTAssertEqual(response.exitCode, 0, "not ended cleanly: \(response.stderr)", line: line)
        XCTAssertLessThan(seconds, 9, "idle 1s ended the stream only after \(seconds) s", line: line)
        let blocks = EventStreamBlocks(response.text)
        XCTAssertGreaterThanOrEqual(blocks.commentCount(), 2, "body: \(response.text.debugDescription)", line: line)
        let events = blocks.events()
        XCTAssertEqual(events.count, 1, "events: \(events)", line: line)
        let eventLines = events.first?.components(separatedBy: "\n") ?? []
        XCTAssertEqual(eventLines.first, "id: 1", line: line)
        XCTAssertEqual(eventLines.count, 2, line: line)
        XCTAssertEqual(eventLines.last.flatMap(OriginEvent.parse(dataLine:))?.seq, 1, line: line)
        XCTAssertTrue(response.text.hasSuffix("\n\n"), line: line)
        XCTAssertTrue(origin.connections.waitForClosedConnections(1, timeout: 2), "upstream kept open", line: line)
    }

    /// The origin writes each event in two halves 300 ms apart, so the 1 s lifetime most likely ends mid-event.
    private func assertMaxLifetimeEndsAtBoundary(
        path: String,
        over client: EventStreamClientProtocol,
        line: UInt = #line
    ) throws {
        let (origin, _, base) = try startOriginAndProxy(routes: [
            .init("/", timeouts: "{ max_lifetime: 1s }", sse: "{ heartbeat_comment: hb }"),
        ])

        let (response, seconds) = try timedFetch(base, path, over: client, timeout: 15)

        XCTAssertFalse(response.timedOut, "stream still open 15 s later", line: line)
        XCTAssertEqual(response.exitCode, 0, "not ended cleanly: \(response.stderr)", line: line)
        XCTAssertGreaterThanOrEqual(seconds, 0.9, line: line)
        XCTAssertLessThan(seconds, 12, "max_lifetime 1s ended the stream only after \(seconds) s", line: line)
        let message = "ends mid-event: \(response.text.debugDescription)"
        XCTAssertTrue(response.text.hasSuffix(" part two\n\n"), message, line: line)
        let events = EventStreamBlocks(response.text).events()
        XCTAssertGreaterThanOrEqual(events.count, 2, line: line)
        XCTAssertEqual(
            events,
            (0..<events.count).map { "id: \($0 + 1)\ndata: part one part two" },
            "events not intact",
            line: line
        )
        XCTAssertTrue(origin.connections.waitForClosedConnections(1, timeout: 2), "upstream kept open", line: line)
    }

    func testIdleEndsSilentStreamCleanlyOverHTTP1() throws {
        try assertIdleEndsCleanly(over: .http1)
    }

    func testIdleEndsSilentStreamCleanlyOverHTTP2() throws {
        try assertIdleEndsCleanly(over: .http2)
    }

    func testMaxLifetimeEndsAtEventBoundaryOverHTTP1() throws {
        try assertMaxLifetimeEndsAtBoundary(path: "/sse-split?count=30&pause=300&gap=100", over: .http1)
    }

    func testMaxLifetimeEndsAtEventBoundaryOverHTTP2() throws {
        try assertMaxLifetimeEndsAtBoundary(path: "/sse-split?count=30&pause=300&gap=100", over: .http2)
    }

    /// Every upstream chunk ends mid-event (`joined=1`: the end of one event and the start of the next share a
    /// chunk), so the boundaries lie inside chunks: the stream must still end there, soon after max_lifetime.
    func testMaxLifetimeEndsAtBoundaryInsideAChunk() throws {
        try assertMaxLifetimeEndsAtBoundary(path: "/sse-split?count=30&pause=300&joined=1", over: .http1)
    }
}
