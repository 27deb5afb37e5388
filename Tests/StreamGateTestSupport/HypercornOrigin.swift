import Foundation

/// A real third-party HTTP/2 server as the origin: an ASGI app under `hypercorn`, which serves HTTP/2 with prior
/// knowledge (h2c) and HTTP/1.1 on one cleartext port. Every request is reported with the client port of its
/// connection, so a test can count the upstream connections StreamGate opened:
///
/// - `GET /events?count=N&interval=S`: `text/event-stream`, `id: i` / `data: event i` every S seconds (default
///   0.1 s, unbounded count), then the end of the response; `stream_open` / `stream_close` (with `disconnected`);
/// - `POST /echo`: the request body back, after `echo` with its length;
/// - websocket `/ws`: every message echoed (hypercorn upgrades HTTP/1.1 only, RFC 6455);
/// - anything else: `200`, `hello over <HTTP version>`.
///
/// `keepAliveMaxRequests` is hypercorn's `keep_alive_max_requests`: after that many requests on a connection it
/// sends GOAWAY and closes it. With `certificate`, the port speaks TLS instead (ALPN `h2` and `http/1.1`, as
/// hypercorn offers them), and `scheme` in each `request` event is `https`. Needs `hypercorn` for `python3` (`.ci/run` installs it with pip).
public final class HypercornOrigin: @unchecked Sendable {
    public let port: Int
    public let peer: PythonPeer

    /// Starts the origin and waits up to 15 s for its port.
    public init(keepAliveMaxRequests: Int = 1000, certificate: TestCertificates.Pair? = nil) throws {
        try PythonPeer.requireModules(["hypercorn", "h2"], install: "hypercorn")
        let (peer, port) = try PythonPeer.startServer(
            source: Self.source,
            fileName: "hypercorn_origin.py",
            arguments: [String(keepAliveMaxRequests)]
                + (certificate.map { [$0.certificate.path, $0.privateKey.path] } ?? []),
            timeout: 15
        )
        self.port = port
        self.peer = peer
    }

    /// The requests served so far.
    public var requests: [PythonPeerEvent] {
        peer.events.named("request")
    }

    /// The distinct client ports (TCP connections) among `requests`, optionally only those for `path`.
    public func connections(path: String? = nil) -> Set<Int> {
        Set(requests.filter { path == nil || $0["path"] == path }.compactMap { $0.int("client_port") })
    }

    /// SIGKILL by PID: the origin dies as a crashed server does, its connections reset, its port refusing.
    public func kill() {
        peer.kill()
    }

    static let source = #"""
        """ASGI origin under hypercorn for StreamGate's tests: see HypercornOrigin.swift."""
        import asyncio
        import json
        import socket
        import sys
        import time

        from hypercorn.asyncio import serve
        from hypercorn.config import Config


        open_streams = 0


        async def lifespan(receive, send):
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return


        async def websocket_echo(receive, send):
            message = await receive()
            if message["type"] != "websocket.connect":
                return
            await send({"type": "websocket.accept"})
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    emit("websocket_closed", code=message.get("code"))
                    return
                reply = {"type": "websocket.send"}
                if message.get("bytes") is not None:
                    reply["bytes"] = message["bytes"]
                else:
                    reply["text"] = message.get("text", "")
                await send(reply)


        async def events(query, receive, send):
            global open_streams
            count = int(query.get("count", "1000000000"))
            interval = float(query.get("interval", "0.1"))
            open_streams += 1
            emit("stream_open", open=open_streams)
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
            gone = asyncio.Event()

            async def watch():
                while (await receive())["type"] != "http.disconnect":
                    pass
                gone.set()

            watcher = asyncio.ensure_future(watch())
            try:
                for index in range(1, count + 1):
                    body = f"id: {index}\ndata: event {index}\n\n".encode()
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                    try:
                        await asyncio.wait_for(gone.wait(), interval if index < count else 0)
                        break
                    except asyncio.TimeoutError:
                        pass
                if not gone.is_set():
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            finally:
                watcher.cancel()
                open_streams -= 1
                emit("stream_close", open=open_streams, disconnected=gone.is_set())


        async def app(scope, receive, send):
            if scope["type"] == "lifespan":
                await lifespan(receive, send)
                return
            client = scope.get("client") or ("", 0)
            emit("request", path=scope["path"], method=scope.get("method", "WEBSOCKET"), type=scope["type"],
                 http_version=scope["http_version"], client_port=client[1], scheme=scope.get("scheme", ""))
            if scope["type"] == "websocket":
                await websocket_echo(receive, send)
                return
            query = dict(pair.split("=", 1) for pair in scope["query_string"].decode().split("&") if "=" in pair)
            path = scope["path"]
            if path == "/events":
                await events(query, receive, send)
            elif path == "/echo":
                body = b""
                while True:
                    message = await receive()
                    body += message.get("body", b"")
                    if not message.get("more_body"):
                        break
                emit("echo", length=len(body))
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-type", b"application/octet-stream")]})
                await send({"type": "http.response.body", "body": body})
            else:
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"hello over " + scope["http_version"].encode()})


        async def main():
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", 0))
            listener.listen(512)
            listener.set_inheritable(True)
            config = Config()
            config.bind = [f"fd://{listener.fileno()}"]
            config.keep_alive_max_requests = int(sys.argv[1])
            config.accesslog = None
            config.graceful_timeout = 1
            if len(sys.argv) > 3:
                config.certfile, config.keyfile = sys.argv[2], sys.argv[3]
            emit("listening", port=listener.getsockname()[1])
            await serve(app, config)


        asyncio.run(main())
        """#
}
