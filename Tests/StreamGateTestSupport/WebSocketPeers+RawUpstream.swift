extension WebSocketPeers {
    /// `raw_upstream.py`: an upstream that does the handshake by hand and reports every frame it receives.
    static let rawUpstreamSource = #"""
    """Upstream that does the WebSocket handshake by hand and reports every frame it receives (opcode, payload), for
    StreamGate's end-to-end tests. Answers Pings with Pongs, echoes text and binary frames, answers Close with Close.
    Answers 101 to every request, even one that did not ask to upgrade; a path with "bad-accept" in it gets a
    Sec-WebSocket-Accept that does not match its key. Prints one JSON event per line: listening, open, frame, closed.
    """
    import asyncio

    from sgframes import (
        OPCODES, accept_value, close_payload, describe, emit, encode_frame, parse_close, read_frame, read_head,
    )


    async def serve_connection(reader, writer):
        try:
            request, headers = await read_head(reader)
            key = headers.get("sec-websocket-key", "")
            accept = "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" if "bad-accept" in request else accept_value(key)
            writer.write((
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: %s\r\n\r\n" % accept
            ).encode())
            await writer.drain()
            emit("open", request=request, extensions=headers.get("sec-websocket-extensions", ""))
            while True:
                fin, opcode, masked, payload = await read_frame(reader)
                emit("frame", opcode=OPCODES.get(opcode, opcode), fin=fin, masked=masked, **describe(payload))
                if opcode == 0x9:
                    writer.write(encode_frame(0xA, payload, masked=False))
                elif opcode in (0x1, 0x2, 0x0):
                    writer.write(encode_frame(opcode, payload, masked=False, fin=fin))
                elif opcode == 0x8:
                    code, reason = parse_close(payload)
                    emit("closed", code=code, reason=reason)
                    writer.write(encode_frame(0x8, close_payload(code) if code else b"", masked=False))
                    await writer.drain()
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            emit("connection_lost", error=type(error).__name__)
        finally:
            writer.close()


    async def main():
        server = await asyncio.start_server(serve_connection, "127.0.0.1", 0)
        emit("listening", port=server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()


    if __name__ == "__main__":
        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            pass

    """#
}
