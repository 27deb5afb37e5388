import Foundation
import StreamGateTestSupport
import XCTest

/// Upstreams that answer as broken app servers do (`BrokenOriginPeer`), through the real binary to curl over
/// HTTP/1.1 and HTTP/2: what the client gets, that a response never runs into the next one on a reused upstream
/// connection, that memory stays bounded under an event that never ends, and that an event stream on another
/// connection keeps its events.
final class UpstreamAbuseTests: AbuseTestCase {
    private func startProxy() throws -> String {
        let broken = try BrokenOriginPeer()
        track(broken.peer)
        let port = try startProxyWithBystander(
            routes: ["{ match: { path_prefix: /broken/ }, upstream: broken, sse: { heartbeat_interval: 0s } }"],
            upstreams: ["{ name: broken, servers: [\"127.0.0.1:\(broken.port)\"] }"]
        ).port
        return "http://127.0.0.1:\(port)"
    }

    private static let protocols: [(name: String, flag: String)] = [
        ("HTTP/1.1", "--http1.1"), ("HTTP/2", "--http2-prior-knowledge"),
    ]

    /// A cut or invalid head, or 1xx after 1xx without a final one, is 502 (the flood without waiting for the
    /// response-header timeout).
    func testBrokenResponseHeadsGet502() throws {
        let base = try startProxy()
        for path in ["cut-head", "bad-status", "not-http", "interim-flood"] {
            for (name, flag) in Self.protocols {
                let start = Date()
                let response = try Curl.fetch("\(base)/broken/\(path)", [flag])
                XCTAssertEqual(response.status, 502, "\(path) over \(name): \(response.text)")
                print("abuse: upstream \(path) over \(name): \(response.status) in \(Self.milliseconds(Date().timeIntervalSince(start)))")
            }
        }
        assertBystanderFlows()
    }

    /// A body shorter than its Content-Length, or cut by a TCP reset, reaches the client as an incomplete
    /// response (HTTP/1.1: the connection closes early; HTTP/2: RST_STREAM), never as a complete one.
    func testShortAndResetBodiesReachTheClientAsIncomplete() throws {
        let base = try startProxy()
        for (path, sent) in [("short-body", 10), ("reset", 100)] {
            for (name, flag) in Self.protocols {
                let response = try Curl.fetch("\(base)/broken/\(path)", [flag])
                // The head may not reach the client at all when the body fails at once (HTTP/2: RST_STREAM first).
                XCTAssertTrue([0, 200].contains(response.status), "\(path) over \(name): \(response.status)")
                XCTAssertNotEqual(response.exitCode, 0, "\(path) over \(name) looked complete: \(response.stderr)")
                XCTAssertLessThanOrEqual(response.body.count, sent, "\(path) over \(name)")
                let error = response.stderr.split(separator: "\n").last.map(String.init) ?? ""
                print("abuse: upstream \(path) over \(name): \(response.status == 0 ? "no head" : "200") then incomplete (curl exit \(response.exitCode): \(error))")
            }
        }
        assertBystanderFlows()
    }

    /// Bytes after a response's Content-Length are not taken as the next response on a reused upstream
    /// connection (a response-splitting desync).
    func testBytesBeyondContentLengthNeverAnswerTheNextRequest() throws {
        let base = try startProxy()
        for (name, flag) in Self.protocols {
            let long = try Curl.fetch("\(base)/broken/long-body", [flag])
            XCTAssertEqual(long.status, 200)
            XCTAssertEqual(long.text, "hello", "over \(name)")
            for _ in 0..<3 {
                let next = try Curl.fetch("\(base)/broken/hello", [flag])
                XCTAssertEqual(next.status, 200, "over \(name): \(next.text)")
                XCTAssertEqual(next.text, "ok", "over \(name): the next request got the extra bytes")
            }
        }
        print("abuse: upstream body longer than Content-Length: the client gets Content-Length bytes, the next request its own answer")
        assertBystanderFlows()
    }

    /// A chunked body that breaks its framing (a space after a chunk size, data longer than its chunk) ends the
    /// client's response incomplete after the bytes framed before it, and the upstream connection is not used
    /// again: the bytes after the break, shaped like a response, never answer the next request.
    func testBrokenChunkedBodiesEndIncompleteAndAreNotReused() throws {
        let base = try startProxy()
        for (path, framed) in [("bad-chunk-size", "hello"), ("chunk-overrun", "abc")] {
            for (name, flag) in Self.protocols {
                let response = try Curl.fetch("\(base)/broken/\(path)", [flag])
                XCTAssertNotEqual(response.exitCode, 0, "\(path) over \(name) looked complete: \(response.text)")
                XCTAssertTrue(framed.hasPrefix(response.text), "\(path) over \(name): \(response.text)")
                for _ in 0..<3 {
                    let next = try Curl.fetch("\(base)/broken/hello", [flag])
                    XCTAssertEqual(next.status, 200, "after \(path) over \(name): \(next.text)")
                    XCTAssertEqual(next.text, "ok", "after \(path) over \(name): the next request got the extra bytes")
                }
                let error = response.stderr.split(separator: "\n").last.map(String.init) ?? ""
                print("abuse: upstream \(path) over \(name): \(response.text.count) bytes then incomplete (curl exit \(response.exitCode): \(error)); the next requests got their own answers")
            }
        }
        assertBystanderFlows()
    }

    /// One event of 16 MiB that never ends (no blank line, no newline) streams through with bounded memory and
    /// no heartbeat inside it.
    func testAnEventThatNeverEndsStreamsThroughWithBoundedMemory() throws {
        let base = try startProxy()
        let pid = try XCTUnwrap(proxy?.processIdentifier)
        let residentBefore = try ProcessStatus.residentBytes(of: pid)
        for (name, flag) in Self.protocols {
            let sampler = ResidentSampler(pid: pid)
            let response = try Curl.fetch("\(base)/broken/endless-event?mib=16", [flag, "--max-time", "20"], timeout: 30)
            let peak = sampler.stop()
            XCTAssertEqual(response.status, 200)
            XCTAssertGreaterThanOrEqual(response.body.count, 16 << 20, "over \(name)")
            // StreamGate's opening comment (`:` and a blank line) may come first, at a boundary; inside the event
            // nothing is inserted.
            let eventStart = try XCTUnwrap(response.text.range(of: "data: xxx"), "over \(name)")
            XCTAssertTrue(
                response.text[..<eventStart.lowerBound].split(separator: "\n").allSatisfy { $0.hasPrefix(":") },
                "over \(name): \(response.text.prefix(40))"
            )
            XCTAssertFalse(
                response.text[eventStart.lowerBound...].contains("\n"),
                "something was inserted inside the event over \(name)"
            )
            if !Sanitizers.active {  // A sanitizer's shadow memory and quarantine count in RSS.
                XCTAssertLessThan(peak, residentBefore + 48 << 20, "RSS peaked at \(peak >> 20) MiB over \(name)")
            }
            print("abuse: upstream event that never ends (16 MiB) over \(name): streamed, RSS \(residentBefore >> 20) -> peak \(peak >> 20) MiB")
        }
        assertBystanderFlows()
    }
}

/// Polls a process's RSS on a thread of its own until stopped; the peak seen.
private final class ResidentSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var peak = 0
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init(pid: Int32) {
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                let resident = (try? ProcessStatus.residentBytes(of: pid)) ?? 0
                lock.withLock { peak = max(peak, resident) }
                Thread.sleep(forTimeInterval: 0.02)
            }
            done.signal()
        }
    }

    func stop() -> Int {
        lock.withLock { running = false }
        done.wait()
        return lock.withLock { peak }
    }
}
