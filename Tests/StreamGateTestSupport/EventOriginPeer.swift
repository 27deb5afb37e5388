import Foundation

/// An event-stream origin in a process of its own (Python 3, standard library only), for the tests that kill an
/// origin mid-stream: balancing, passive ejection and active health checks. It names itself in every response,
/// so a client can tell which server it reached:
///
/// - `GET /events...`: `text/event-stream`, `id: N` and `data: <name>` at once and then every second, until the
///   client goes away (`stream_open` / `stream_close` events with the count of open streams);
/// - `GET /hello`: `200` with the name as body;
/// - `GET /healthz`: `200 ok`, or the status set by `GET /set-health?status=N` (each check prints `health_check`).
public final class EventOriginPeer: @unchecked Sendable {
    public let name: String
    public let port: Int
    public let peer: PythonPeer

    /// Starts the origin and waits up to 10 s for its port.
    public init(name: String) throws {
        let (peer, port) = try PythonPeer.startServer(
            source: Self.source, fileName: "event_origin.py", arguments: [name], timeout: 10
        )
        self.name = name
        self.port = port
        self.peer = peer
    }

    public var address: String { "127.0.0.1:\(port)" }

    /// Streams open on this origin now, as it last reported.
    public var openStreams: Int {
        peer.events.last { $0.name == "stream_open" || $0.name == "stream_close" }?.int("open") ?? 0
    }

    /// How many event streams this origin has been asked for so far.
    public var streamsOpened: Int {
        peer.events.named("stream_open").count
    }

    /// Health checks answered so far.
    public var healthChecks: Int {
        peer.events.named("health_check").count
    }

    /// SIGKILL by PID: the origin dies as a crashed server does, its connections reset, its port refusing.
    public func kill() {
        peer.kill()
    }

    static let source = #"""
        """Event-stream origin for StreamGate's tests: see EventOriginPeer.swift."""
        import asyncio
        import json
        import sys
        import time

        NAME = sys.argv[1]
        state = {"health": 200, "open": 0}


        def response(status, body, content_type="text/plain"):
            head = "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
                status, "OK" if status == 200 else "Status", content_type, len(body))
            return head.encode() + body


        async def event_stream(writer):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                         b"Connection: close\r\n\r\n")
            state["open"] += 1
            emit("stream_open", open=state["open"])
            sequence = 0
            try:
                while True:
                    sequence += 1
                    writer.write(("id: %d\ndata: %s\n\n" % (sequence, NAME)).encode())
                    await writer.drain()
                    await asyncio.sleep(1.0)
            except (ConnectionError, OSError):
                pass
            finally:
                state["open"] -= 1
                emit("stream_close", open=state["open"])


        async def handle(reader, writer):
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1")
                    path, _, query = target.partition("?")
                    if path.startswith("/events"):
                        await event_stream(writer)
                        return
                    if path == "/healthz":
                        emit("health_check", status=state["health"])
                        body = b"ok\n" if state["health"] == 200 else b"unhealthy\n"
                        writer.write(response(state["health"], body))
                    elif path == "/set-health":
                        state["health"] = int(query.partition("=")[2])
                        writer.write(response(200, b"set\n"))
                    elif path == "/hello":
                        writer.write(response(200, NAME.encode()))
                    else:
                        writer.write(response(404, b"not found\n"))
                    await writer.drain()
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError, IndexError):
                pass
            finally:
                writer.close()


        asyncio.run(serve_tcp(handle, backlog=1024))
        """#
}
