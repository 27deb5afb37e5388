import Foundation
import StreamGateTestSupport
import XCTest

/// A bounded churn soak against the real binary: 1,000 event streams over 20 HTTP/2 connections and 100
/// WebSockets (a fifth of that under a sanitizer), clients resetting streams, dropping connections and
/// reconnecting at random with Last-Event-ID, the origin restarted twice. Every subscriber must see every event id once, in order, across all its
/// reconnections (the origin replays from Last-Event-ID); afterwards the proxy's descriptors, RSS and admin view
/// return to their baseline. `STREAMGATE_SOAK_SECONDS` sets the length (default 120; the documented long run is
/// 1800).
final class ChurnSoakTests: AdminTestCase {
    // Under a sanitizer the instrumented binary is several times slower, so the soak runs at a fifth of its size
    // and allows more time for the streams to show they still flow.
    private static let connectionCount = Sanitizers.active ? 4 : 20
    private static let streamsPerConnection = 50
    private static let webSockets = Sanitizers.active ? 20 : 100
    private static let flowTimeout: TimeInterval = Sanitizers.active ? 30 : 10

    private static var seconds: Double {
        ProcessInfo.processInfo.environment["STREAMGATE_SOAK_SECONDS"].flatMap(Double.init) ?? 120
    }

    /// One logical event-stream client: the streams it opened one after another, and the last id it has seen.
    private final class Subscriber {
        let connection: Int
        var streamID: UInt32?
        var lastID = 0
        var lost = 0
        var repeated = 0
        var reconnects = 0
        var refused = 0
        /// When a refused stream (502 while the origin is down) may be tried again.
        var retryAt = Date.distantPast

        init(connection: Int) {
            self.connection = connection
        }

        /// Complete events of the current stream already taken.
        private var taken = 0

        /// A new stream begins (from `lastID`, which it sends as Last-Event-ID).
        func streamOpened(_ id: UInt32) {
            streamID = id
            taken = 0
        }

        /// Takes the events of the current stream's `data` that completed since the last call: each must carry the
        /// next id (a higher one means events were lost, a lower one that an event came twice).
        func take(_ data: Data) {
            var blocks = String(decoding: data, as: UTF8.self).components(separatedBy: "\n\n")
            blocks.removeLast()  // An event not yet complete (or the empty tail after the last one).
            guard blocks.count > taken else { return }
            for block in blocks[taken...] {
                guard let line = block.split(separator: "\n").first(where: { $0.hasPrefix("id: ") }),
                    let id = Int(line.dropFirst(4))
                else { continue }
                if id <= lastID {
                    repeated += 1
                } else {
                    lost += id - lastID - 1
                    lastID = id
                }
            }
            taken = blocks.count
        }
    }

    func testChurnLosesNoEventAndReturnsToBaseline() throws {
        var origin = try startOrigin()
        let originPort = origin.port
        let echo = try startEchoServer()
        let yaml = """
            version: 1
            listeners:
              - { name: plain, address: "127.0.0.1:0" }
            admin: { address: "127.0.0.1:0" }
            upstreams:
              - { name: app, servers: ["127.0.0.1:\(originPort)"] }
              - { name: echo, servers: ["127.0.0.1:\(echo.port)"] }
            routes:
              - { match: { path_prefix: /sse }, upstream: app, sse: { heartbeat_interval: 0s } }
              - { match: { path_prefix: /ws }, upstream: echo }

            """
        let proxy = try startWebSocketProxy(yaml, listeners: ["plain", "admin"])
        adminBase = "http://127.0.0.1:\(try proxy.port(of: "admin"))"
        self.proxy = proxy
        let port = try proxy.port(of: "plain")
        let pid = proxy.processIdentifier
        // The baseline: the process after one request of each kind, as an operator's warm proxy.
        _ = try Curl.fetch("http://127.0.0.1:\(port)/sse-resume?count=1&pause=0")
        let descriptorsBefore = try ProcessStatus.openDescriptors(of: pid)
        let residentBefore = try ProcessStatus.residentBytes(of: pid)

        var clients = try (0..<Self.connectionCount).map { _ in try RawHTTP2Client(port: port) }
        defer { clients.forEach { $0.close() } }
        let subscribers = (0..<Self.connectionCount * Self.streamsPerConnection).map {
            Subscriber(connection: $0 / Self.streamsPerConnection)
        }
        func open(_ subscriber: Subscriber) {
            let client = clients[subscriber.connection]
            let headers = subscriber.lastID > 0 ? [("last-event-id", String(subscriber.lastID))] : []
            subscriber.streamOpened(client.get("/sse-resume?gap=500", headers: headers))
        }
        subscribers.forEach(open)
        // Streams the proxy ended (the origin went away) open again; those it refused (502 while the origin was
        // down) a little later.
        func reopenEndedStreams() {
            let now = Date()
            for subscriber in subscribers {
                guard let id = subscriber.streamID else {
                    if now >= subscriber.retryAt { open(subscriber) }
                    continue
                }
                let state = clients[subscriber.connection].stream(id)
                guard state.ended || state.resetCode != nil else { continue }
                subscriber.take(state.data)
                subscriber.reconnects += 1
                if state.status == 200 {
                    open(subscriber)
                } else {
                    subscriber.refused += 1
                    subscriber.streamID = nil
                    subscriber.retryAt = now.addingTimeInterval(0.3)
                }
            }
        }
        let sockets = try startClient(
            .client,
            ["churn", "\(try proxy.webSocketBase())/ws/churn", "--connections", "\(Self.webSockets)",
             "--interval", "0.3", "--seconds", "\(Int(Self.seconds))"]
        )

        var generator = SystemRandomNumberGenerator()
        var resets = 0
        var droppedConnections = 0
        var originRestarts = 0
        var originDownUntil: Date?
        var peakResident = residentBefore
        let start = Date()
        let restarts = [Self.seconds / 3, 2 * Self.seconds / 3]
        while Date().timeIntervalSince(start) < Self.seconds {
            let elapsed = Date().timeIntervalSince(start)
            // The origin goes away for a second, twice; clients keep churning (and are refused) meanwhile.
            if let until = originDownUntil {
                if Date() >= until {
                    origin = try startOrigin(port: originPort)
                    originDownUntil = nil
                    originRestarts += 1
                }
            } else if originRestarts < restarts.count, elapsed >= restarts[originRestarts] {
                origin.stop()
                originDownUntil = Date().addingTimeInterval(1)
            }
            // About 20 stream resets a second, and a whole connection dropped every 5 seconds or so.
            for _ in 0..<2 {
                let subscriber = subscribers.randomElement(using: &generator)!
                if let id = subscriber.streamID {
                    subscriber.take(clients[subscriber.connection].stream(id).data)
                    clients[subscriber.connection].reset(id)
                    resets += 1
                    subscriber.reconnects += 1
                    open(subscriber)
                }
            }
            if Int.random(in: 0..<50, using: &generator) == 0 {
                let index = Int.random(in: 0..<Self.connectionCount, using: &generator)
                for subscriber in subscribers where subscriber.connection == index {
                    if let id = subscriber.streamID {
                        subscriber.take(clients[index].stream(id).data)
                    }
                }
                clients[index].close()
                clients[index] = try RawHTTP2Client(port: port)
                droppedConnections += 1
                for subscriber in subscribers where subscriber.connection == index {
                    subscriber.reconnects += 1
                    open(subscriber)
                }
            }
            reopenEndedStreams()
            peakResident = max(peakResident, (try? ProcessStatus.residentBytes(of: pid)) ?? 0)
            Thread.sleep(forTimeInterval: 0.1)
        }

        // After the churn every subscriber's stream still flows: each gets two more events.
        let marks = subscribers.map { $0.lastID }
        let flowing = Wait.until(timeout: Self.flowTimeout, interval: 0.1) {
            reopenEndedStreams()
            return subscribers.enumerated().allSatisfy { index, subscriber in
                guard let id = subscriber.streamID else { return false }
                let state = clients[subscriber.connection].stream(id)
                subscriber.take(state.data)
                return subscriber.lastID >= marks[index] + 2
            }
        }
        let stalled = subscribers.indices.filter { subscribers[$0].lastID < marks[$0] + 2 }
        let described = stalled.prefix(5).map { index -> String in
            let subscriber = subscribers[index]
            guard let id = subscriber.streamID else { return "#\(index): no stream (retrying)" }
            let state = clients[subscriber.connection].stream(id)
            return "#\(index): stream \(id) status \(state.status.map(String.init) ?? "none") ended \(state.ended) "
                + "reset \(state.resetCode.map(String.init) ?? "-") bytes \(state.data.count) last id \(subscriber.lastID)"
        }
        XCTAssertTrue(flowing, "\(stalled.count) subscribers stalled after the churn: \(described)")
        XCTAssertNotNil(sockets.waitForEvent("done", timeout: 30), sockets.transcript)
        let churned = sockets.events.named("churned")
        XCTAssertEqual(churned.count, Self.webSockets, sockets.transcript)
        let total = { (key: String) in churned.compactMap { $0.int(key) }.reduce(0, +) }

        let lost = subscribers.map(\.lost).reduce(0, +)
        let repeated = subscribers.map(\.repeated).reduce(0, +)
        let events = subscribers.map(\.lastID).reduce(0, +)
        XCTAssertEqual(lost, 0, "events lost across reconnections")
        XCTAssertEqual(repeated, 0, "events delivered twice on one stream")
        XCTAssertEqual(total("mismatches"), 0, "WebSocket echoes that did not match")
        XCTAssertEqual(total("failures"), 0, "WebSocket sessions that failed: \(sockets.events.named("churn_failure").prefix(5))")
        XCTAssertGreaterThan(total("echoes"), Self.webSockets * 10)

        // Everything closed: the process returns to its baseline.
        clients.forEach { $0.close() }
        XCTAssertTrue(
            Wait.until(timeout: 15) { (try? ProcessStatus.openDescriptors(of: pid)) ?? .max <= descriptorsBefore + 2 },
            "descriptors \(descriptorsBefore) before, \((try? ProcessStatus.openDescriptors(of: pid)) ?? -1) after"
        )
        XCTAssertTrue(Wait.until(timeout: 10) { (try? self.connections().total) == 0 }, "connections left in the admin view")
        let descriptorsAfter = try ProcessStatus.openDescriptors(of: pid)
        let residentAfter = try ProcessStatus.residentBytes(of: pid)
        if !Sanitizers.active {  // A sanitizer's shadow memory and quarantine count in RSS.
            XCTAssertLessThan(residentAfter, residentBefore + 64 << 20, "RSS grew from \(residentBefore) to \(residentAfter)")
        }
        XCTAssertTrue(proxy.isRunning)
        let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        print(
            "soak: \(Int(Self.seconds)) s, \(subscribers.count) event streams over \(Self.connectionCount) h2 connections, "
                + "\(events) events, \(subscribers.map(\.reconnects).reduce(0, +)) reconnects (\(resets) resets, "
                + "\(droppedConnections) connections dropped, \(subscribers.map(\.refused).reduce(0, +)) refused while the "
                + "origin was down), \(originRestarts) origin restarts, lost \(lost), repeated \(repeated); "
                + "\(Self.webSockets) WebSockets: \(total("connects")) sessions, \(total("echoes")) echoes, "
                + "\(total("drops")) dropped; descriptors \(descriptorsBefore) -> \(descriptorsAfter), "
                + "RSS \(mib(residentBefore)) -> peak \(mib(peakResident)) -> \(mib(residentAfter))"
        )
    }
}
