extension WebSocketPeers {
    /// `client.py`: client scenarios on the `websockets` library (see its docstring).
    static let clientSource = #"""
    """WebSocket client scenarios on websockets' asyncio API, for StreamGate's end-to-end tests.

    JSON events on stdout, one per line.

    Scenarios: echo (text, binary, 1 MiB, fragmented, extension), close4001, idle (wait for the peer to close), chatty
    (a message every --interval seconds for S seconds, each echo checked), churn (for S seconds: connect, echo a
    few messages, then close cleanly or drop the TCP connection, at random, and connect again; one `churned` event
    per connection with its counts). --connections N runs N at once; every event then carries the connection's
    index.
    """
    import argparse
    import asyncio
    import hashlib
    import os
    import random
    import time

    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from sgframes import client_tls, emit


    def options(arguments):
        kwargs = {"ping_interval": None, "max_size": 16 * 1024 * 1024, "open_timeout": 5, "close_timeout": 2}
        if arguments.url.startswith("wss:"):
            kwargs["ssl"] = client_tls()
        if arguments.origin:
            kwargs["origin"] = arguments.origin
        return kwargs


    async def echo(connection):
        emit("extensions", value=connection.response.headers.get("Sec-WebSocket-Extensions", ""))
        await connection.send("hello through StreamGate")
        reply = await connection.recv()
        emit("echo", kind="text", ok=reply == "hello through StreamGate", length=len(reply))

        binary = bytes(range(256)) * 4
        await connection.send(binary)
        reply = await connection.recv()
        emit("echo", kind="binary", ok=reply == binary, length=len(reply))

        large = os.urandom(1024 * 1024)
        await connection.send(large)
        reply = await connection.recv()
        same = isinstance(reply, bytes) and hashlib.sha256(reply).digest() == hashlib.sha256(large).digest()
        emit("echo", kind="large", ok=same, length=len(reply))

        parts = ["frag-one ", "frag-two ", "frag-three"]
        await connection.send(parts)
        received = []
        async for fragment in connection.recv_streaming():
            received.append(fragment)
        emit("echo", kind="fragmented", ok="".join(received) == "".join(parts), length=len("".join(received)),
             fragments=len(received))
        await connection.close()


    async def close4001(connection):
        await connection.send("close:4001")
        try:
            message = await asyncio.wait_for(connection.recv(), timeout=5)
            emit("unexpected", message=message)
        except ConnectionClosed as error:
            received = error.rcvd
            emit("closed", code=received.code if received else "none", reason=received.reason if received else "")


    async def idle(connection, seconds):
        started = time.monotonic()
        try:
            message = await asyncio.wait_for(connection.recv(), timeout=seconds)
            emit("unexpected", message=message)
        except ConnectionClosed as error:
            received = error.rcvd
            emit("closed", code=received.code if received else "none", reason=received.reason if received else "",
                 after="%.3f" % (time.monotonic() - started))
        except asyncio.TimeoutError:
            emit("still_open", after="%.3f" % (time.monotonic() - started))


    async def chatty(connection, seconds, interval, index):
        started = time.monotonic()
        count = 0
        try:
            while time.monotonic() - started < seconds:
                text = "tick %d" % count
                await connection.send(text)
                reply = await asyncio.wait_for(connection.recv(), timeout=2)
                if reply != text:
                    emit("unexpected", message=reply, connection=index)
                    return
                count += 1
                await asyncio.sleep(interval)
            emit("still_open", after="%.3f" % (time.monotonic() - started), messages=count, connection=index)
            await connection.close()
        except ConnectionClosed as error:
            received = error.rcvd
            emit("closed", code=received.code if received else "none", after="%.3f" % (time.monotonic() - started),
                 messages=count, connection=index)


    async def churn(arguments, index):
        rng = random.Random(index)
        started = time.monotonic()
        counts = {"connects": 0, "echoes": 0, "mismatches": 0, "failures": 0, "drops": 0}
        while time.monotonic() - started < arguments.seconds:
            dropped = False
            try:
                # A generous handshake timeout: the churn runs beside 1,000 event streams, also under sanitizers.
                async with connect(arguments.url, **dict(options(arguments), open_timeout=15)) as connection:
                    counts["connects"] += 1
                    for number in range(rng.randint(1, 20)):
                        text = "churn %d %d" % (index, number)
                        await connection.send(text)
                        reply = await asyncio.wait_for(connection.recv(), timeout=5)
                        if reply == text:
                            counts["echoes"] += 1
                        else:
                            counts["mismatches"] += 1
                        await asyncio.sleep(rng.uniform(0, arguments.interval))
                    if rng.random() < 0.3:
                        counts["drops"] += 1
                        dropped = True
                        connection.transport.abort()
            except (ConnectionClosed, OSError, asyncio.TimeoutError) as error:
                if not dropped:
                    counts["failures"] += 1
                    emit("churn_failure", connection=index, error=repr(error)[:200])
                    await asyncio.sleep(0.2)
        emit("churned", connection=index, **counts)


    async def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("scenario", choices=["echo", "close4001", "idle", "chatty", "churn"])
        parser.add_argument("url")
        parser.add_argument("--origin")
        parser.add_argument("--seconds", type=float, default=5)
        parser.add_argument("--interval", type=float, default=0.5)
        parser.add_argument("--connections", type=int, default=1)
        arguments = parser.parse_args()
        await asyncio.gather(*(run(arguments, index) for index in range(arguments.connections)))
        emit("done")


    async def run(arguments, index):
        if arguments.scenario == "churn":
            await churn(arguments, index)
            return
        async with connect(arguments.url, **options(arguments)) as connection:
            emit("open", status=connection.response.status_code, connection=index)
            if arguments.scenario == "echo":
                await echo(connection)
            elif arguments.scenario == "close4001":
                await close4001(connection)
            elif arguments.scenario == "idle":
                await idle(connection, arguments.seconds)
            else:
                await chatty(connection, arguments.seconds, arguments.interval, index)


    if __name__ == "__main__":
        asyncio.run(main())

    """#
}
