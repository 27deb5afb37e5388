import Logging
import NIOCore
import NIOPosix
import StreamGateConfig
import StreamGateTestSupport
import XCTest

@testable import StreamGateProxy

/// The live registry as the admin view will read it, through the proxy's real code path: a `ProxyServer` in this
/// process on real loopback sockets, a real origin, curl over HTTP/1.1 and HTTP/2 (prior knowledge) and a Python
/// `websockets` client through it. Bounds are wide (seconds); what is asserted is kinds, routes and counts.
final class LiveRegistryTests: XCTestCase {
    func testSnapshotShowsEachStreamWithItsKindRouteUpstreamAndGrowingCounters() async throws {
        try WebSocketPeers.requireWebSocketsLibrary()
        let origin = try TestOrigin()
        defer { origin.stop() }
        let echo = try WebSocketPeers.startServer(.echoServer)
        defer { echo.peer.stop() }

        let yaml = """
            version: 1
            listeners:
              - { name: plain, address: "127.0.0.1:0" }
            upstreams:
              - { name: app, servers: ["127.0.0.1:\(origin.port)"] }
              - { name: ws, servers: ["127.0.0.1:\(echo.port)"] }
            routes:
              - { match: { path_prefix: /sse-resume }, upstream: app, sse: { heartbeat_interval: 500ms } }
              - { match: { path_prefix: / }, upstream: ws }
            """
        try await InProcessProxy.run(yaml, name: "registry-test") { server in
            try await exercise(server, origin: origin, echoPort: echo.port)
        }
    }

    private func exercise(_ server: ProxyServer, origin: TestOrigin, echoPort: Int) async throws {
        guard let address = await server.listeningAddresses()["plain"], let port = address.port else {
            return XCTFail("the listener did not bind")
        }
        let base = "http://127.0.0.1:\(port)"

        let h1 = try CurlStream(["-N", "--http1.1", "\(base)/sse-resume?gap=100"])
        defer { h1.kill() }
        let h2 = try CurlStream(["-N", "--http2-prior-knowledge", "\(base)/sse-resume?gap=100"])
        defer { h2.kill() }
        let webSocket = try WebSocketPeers.start(.client, ["chatty", "ws://127.0.0.1:\(port)/chat", "--seconds", "20"])
        defer { webSocket.stop() }

        let first = try await waitForSnapshot(server) { $0.streams.count == 3 && $0.streams.allSatisfy { $0.events + $0.bytesIn > 0 } }
        let connections = Dictionary(grouping: first.connections, by: { $0.protocolName ?? "?" })
        XCTAssertEqual(connections["http/1.1"]?.count, 2, "curl and the WebSocket client: \(first.connections)")
        XCTAssertEqual(connections["h2"]?.count, 1)

        let events = first.streams.filter { $0.kind == .sse }
        XCTAssertEqual(events.count, 2)
        for stream in events {
            XCTAssertEqual(stream.route, "*/sse-resume")
            XCTAssertEqual(stream.upstream, "app")
            XCTAssertEqual(stream.upstreamAddress, "127.0.0.1:\(origin.port)")
            XCTAssertEqual(stream.method, "GET")
            XCTAssertEqual(stream.path, "/sse-resume?gap=100")
            XCTAssertEqual(stream.phase, .streaming)
        }
        let h2Stream = first.connections.first { $0.protocolName == "h2" }?.streams.first
        XCTAssertEqual(h2Stream?.id, 1, "the HTTP/2 stream id")

        guard let tunnel = first.streams.first(where: { $0.kind == .websocket }) else {
            return XCTFail("no WebSocket stream: \(first.streams)")
        }
        XCTAssertEqual(tunnel.route, "*/")
        XCTAssertEqual(tunnel.upstream, "ws")
        XCTAssertEqual(tunnel.upstreamAddress, "127.0.0.1:\(echoPort)")
        XCTAssertEqual(tunnel.path, "/chat")

        // Counters grow while the origin sends and the client chats.
        let later = try await waitForSnapshot(server) { snapshot in
            snapshot.streams.count == 3
                && zip(Self.ordered(first), Self.ordered(snapshot)).allSatisfy { before, after in
                    after.bytesOut > before.bytesOut && after.bytesIn >= before.bytesIn
                        && (after.kind != .sse || after.events > before.events)
                        && (after.kind != .websocket || after.bytesIn > before.bytesIn)
                }
        }
        for stream in later.streams where stream.kind == .sse {
            XCTAssertNotNil(stream.lastEventID)
            XCTAssertEqual(stream.lastEventID, "\(stream.events)", "ids count from 1 on /sse-resume")
        }

        // The HTTP/1.1 client leaves: its stream leaves the registry and counts as client_gone.
        h1.kill()
        // The stream ends as the connection goes inactive; the connection leaves once its close completes.
        let after = try await waitForSnapshot(server) { $0.totals[.sse, .clientGone] == 1 && $0.connections.count == 2 }
        XCTAssertEqual(after.streams.filter { $0.kind == .sse }.count, 1)
        XCTAssertEqual(after.connections.count, 2)
    }

    private static func ordered(_ snapshot: LiveSnapshot) -> [StreamSnapshot] {
        snapshot.connections.sorted { $0.id < $1.id }.flatMap(\.streams)
    }

    /// Snapshots every 100 ms until `condition` holds (at most 10 s); the last snapshot either way, failing the
    /// test when the condition never held.
    private func waitForSnapshot(
        _ server: ProxyServer,
        file: StaticString = #filePath,
        line: UInt = #line,
        _ condition: (LiveSnapshot) -> Bool
    ) async throws -> LiveSnapshot {
        let deadline = ContinuousClock.now + .seconds(10)
        var snapshot = await server.registry.snapshot()
        while !condition(snapshot) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            snapshot = await server.registry.snapshot()
        }
        XCTAssertTrue(condition(snapshot), "condition never held; last snapshot: \(snapshot)", file: file, line: line)
        return snapshot
    }
}
