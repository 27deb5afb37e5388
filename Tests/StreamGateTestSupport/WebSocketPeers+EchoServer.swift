extension WebSocketPeers {
    /// `echo_server.py`: the upstream echo server on the `websockets` library (see its docstring).
    static let echoServerSource = #"""
    """Upstream WebSocket echo server on websockets' asyncio API, for StreamGate's end-to-end tests.

    Echoes text and binary messages fragment for fragment (permessage-deflate on by default); the message "close:4001"
    closes with 4001 "bye". Paths: /ws-reject answers 403 to the upgrade; /flood?seconds=S&size=N sends N-byte binary
    messages for S seconds and reports how many went out; /page-ws serves an HTML page; /report records its query.
    Prints one JSON event per line: listening, open, message, ping, pong, closed, flood, http.
    """
    import argparse
    import asyncio
    import os
    import time
    from http import HTTPStatus
    from urllib.parse import parse_qs, urlsplit

    from websockets.asyncio.server import ServerConnection, serve
    from websockets.exceptions import ConnectionClosed
    from websockets.frames import Frame, Opcode

    from sgframes import emit

    PAGES = {}


    class LoggingConnection(ServerConnection):
        """Reports every Ping and Pong received (websockets answers Pings itself)."""

        def process_event(self, event):
            if isinstance(event, Frame) and event.opcode in (Opcode.PING, Opcode.PONG):
                emit(event.opcode.name.lower(), payload_hex=bytes(event.data).hex(), path=self.request.path)
            super().process_event(event)


    def process_request(connection, request):
        parts = urlsplit(request.path)
        if parts.path == "/ws-reject":
            emit("http", path=request.path, answer=403)
            return connection.respond(HTTPStatus.FORBIDDEN, "upstream refuses this WebSocket\n")
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        emit("http", path=request.path)
        if parts.path in PAGES:
            response = connection.respond(HTTPStatus.OK, PAGES[parts.path])
            response.headers["Content-Type"] = "text/html; charset=utf-8"
            return response
        if parts.path == "/report":
            emit("report", query=parts.query)
            return connection.respond(HTTPStatus.OK, "ok\n")
        return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")


    async def flood(connection, query):
        seconds = float(query.get("seconds", ["5"])[0])
        size = int(query.get("size", [str(64 * 1024)])[0])
        payload = os.urandom(size)
        sent = 0
        deadline = time.monotonic() + seconds
        emit("flood_start", size=size, seconds=seconds)
        while time.monotonic() < deadline:
            try:
                await asyncio.wait_for(connection.send(payload), timeout=max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
            sent += 1
        emit("flood", path=connection.request.path, messages=sent, bytes=sent * size)


    async def echo(connection):
        async for fragment_list in messages(connection):
            fragments, is_text = fragment_list
            total = sum(len(fragment) for fragment in fragments)
            whole = "".join(fragments) if is_text else b"".join(fragments)
            emit("message", type="text" if is_text else "binary", length=total, fragments=len(fragments),
                 preview=whole[:40] if is_text else whole[:20].hex())
            if is_text and whole == "close:4001":
                await connection.close(4001, "bye")
                return
            if len(fragments) == 1:
                await connection.send(whole)
            else:
                await connection.send(fragments)


    async def messages(connection):
        """Each message as (fragments, is_text), fragments as they arrived."""
        while True:
            fragments = []
            is_text = True
            async for fragment in connection.recv_streaming():
                is_text = isinstance(fragment, str)
                fragments.append(fragment)
            yield fragments, is_text


    async def handler(connection):
        parts = urlsplit(connection.request.path)
        extensions = connection.response.headers.get("Sec-WebSocket-Extensions", "")
        emit("open", path=connection.request.path, extensions=extensions,
             forwarded_for=connection.request.headers.get("X-Forwarded-For", ""),
             forwarded_proto=connection.request.headers.get("X-Forwarded-Proto", ""))
        try:
            if parts.path == "/flood":
                await flood(connection, parse_qs(parts.query))
                await connection.wait_closed()
            else:
                await echo(connection)
                await connection.wait_closed()
        except ConnectionClosed:
            pass
        received = connection.protocol.close_rcvd
        emit("closed", path=connection.request.path,
             code=received.code if received else "none", reason=received.reason if received else "")


    async def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("--page", action="append", default=[], help="PATH=FILE: serve FILE's text at PATH")
        arguments = parser.parse_args()
        for entry in arguments.page:
            path, file = entry.split("=", 1)
            with open(file, encoding="utf-8") as handle:
                PAGES[path] = handle.read()
        async with serve(
            handler, "127.0.0.1", 0,
            create_connection=LoggingConnection, process_request=process_request,
            ping_interval=None, max_size=16 * 1024 * 1024,
        ) as server:
            port = server.sockets[0].getsockname()[1]
            emit("listening", port=port)
            await asyncio.Future()


    if __name__ == "__main__":
        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            pass

    """#
}
