extension WebSocketPeers {
    /// `raw_client.py`: a client that frames by hand, to see the Pings a library would answer silently.
    static let rawClientSource = #"""
    """WebSocket client that frames by hand, to see what libraries hide (Pings, Pongs), for StreamGate's end-to-end
    tests. JSON events on stdout.

    Scenarios:
      pings URL --seconds S: for S seconds reports every frame and answers each Ping with a Pong of the same payload;
          then sends its own Ping "app" and reports the Pong that answers it; then closes.
      stall URL --seconds S: does the handshake, then reads nothing for S seconds.
      drain URL --seconds S: reads and counts bytes for S seconds.
    """
    import argparse
    import asyncio
    import time

    from sgframes import OPCODES, close_payload, describe, emit, encode_frame, open_raw, parse_close, read_frame


    async def pings(reader, writer, seconds):
        deadline = time.monotonic() + seconds

        async def frames_until(stop):
            while True:
                remaining = deadline - time.monotonic() if stop is None else 3
                if remaining <= 0:
                    return None
                try:
                    fin, opcode, masked, payload = await asyncio.wait_for(read_frame(reader), timeout=remaining)
                except asyncio.TimeoutError:
                    return None
                emit("frame", opcode=OPCODES.get(opcode, opcode), fin=fin, masked=masked, **describe(payload))
                if opcode == 0x9:
                    writer.write(encode_frame(0xA, payload, masked=True))
                    await writer.drain()
                    emit("sent", opcode="pong", **describe(payload))
                if stop is not None and stop(opcode, payload):
                    return payload
                if opcode == 0x8:
                    return None

        await frames_until(None)
        writer.write(encode_frame(0x9, b"app", masked=True))
        await writer.drain()
        emit("sent", opcode="ping", **describe(b"app"))
        answer = await frames_until(lambda opcode, payload: opcode == 0xA and payload == b"app")
        emit("app_pong", received=answer is not None)
        writer.write(encode_frame(0x8, close_payload(1000), masked=True))
        await writer.drain()
        try:
            while True:
                fin, opcode, masked, payload = await asyncio.wait_for(read_frame(reader), timeout=3)
                if opcode == 0x8:
                    emit("closed", code=parse_close(payload)[0])
                    break
        except (asyncio.TimeoutError, asyncio.IncompleteReadError):
            emit("closed", code="none")


    async def stall(reader, writer, seconds):
        emit("stalling", seconds=seconds)
        await asyncio.sleep(seconds)
        emit("stalled")


    async def drain(reader, writer, seconds):
        deadline = time.monotonic() + seconds
        total = 0
        while time.monotonic() < deadline:
            try:
                chunk = await asyncio.wait_for(reader.read(1 << 20), timeout=max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
            if not chunk:
                break
            total += len(chunk)
        emit("drained", bytes=total)


    async def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("scenario", choices=["pings", "stall", "drain"])
        parser.add_argument("url")
        parser.add_argument("--seconds", type=float, default=3.5)
        parser.add_argument("--origin")
        arguments = parser.parse_args()
        reader, writer, status, headers = await open_raw(arguments.url, arguments.origin)
        emit("open", status=status)
        if status != 101:
            return
        if arguments.scenario == "pings":
            await pings(reader, writer, arguments.seconds)
        elif arguments.scenario == "stall":
            await stall(reader, writer, arguments.seconds)
        else:
            await drain(reader, writer, arguments.seconds)
        writer.close()
        emit("done")


    if __name__ == "__main__":
        asyncio.run(main())

    """#
}
