"""An SSE origin that replays: one feed of COUNT events (ids 1..COUNT, one every INTERVAL seconds from start) for
every client; a request with Last-Event-ID N gets N+1.. from its history first, then live events, as an app
server that keeps a log of its events does. Each event's data names the peer address the request came from (the
proxy instance that relayed it). Prints one JSON line per request (event "request") and "listening" when bound.
Stops by itself DEADLINE seconds after start."""

import argparse
import asyncio
import json
import time


def emit(event, **fields):
    record = {"event": event, "time": str(time.time())}
    record.update({key: str(value) for key, value in fields.items()})
    print(json.dumps(record), flush=True)


class Feed:
    def __init__(self, count, interval):
        self.count = count
        self.interval = interval
        self.published = 0
        self.changed = asyncio.Condition()

    async def publish(self):
        start = time.monotonic()
        for number in range(1, self.count + 1):
            await asyncio.sleep(max(0.0, start + number * self.interval - time.monotonic()))
            async with self.changed:
                self.published = number
                self.changed.notify_all()

    async def wait_past(self, number):
        async with self.changed:
            await self.changed.wait_for(lambda: self.published > number)
            return self.published


async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    fields = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            fields[name.strip().lower()] = value.strip()
    return method, target, fields


def chunk(payload):
    return b"%x\r\n%s\r\n" % (len(payload), payload)


async def serve(feed, reader, writer):
    peer = writer.get_extra_info("peername")[0]
    try:
        method, target, fields = await read_head(reader)
    except (asyncio.IncompleteReadError, ValueError, ConnectionError):
        writer.close()
        return
    last = fields.get("last-event-id")
    emit("request", peer=peer, target=target, last_event_id=last if last is not None else "")
    if not target.startswith("/feed"):
        writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
        return
    sent = int(last) if last and last.isdigit() else 0
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
        b"transfer-encoding: chunked\r\n\r\n"
    )
    try:
        while sent < feed.count:
            upto = await feed.wait_past(sent)
            block = b"".join(
                b'id: %d\ndata: {"seq": %d, "via": "%s"}\n\n' % (number, number, peer.encode())
                for number in range(sent + 1, upto + 1)
            )
            writer.write(chunk(block))
            await writer.drain()
            sent = upto
        # The feed is over: hold the stream open (quiet) until the client goes.
        await reader.read()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--count", type=int, default=150)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--deadline", type=float, default=120)
    options = parser.parse_args()
    feed = Feed(options.count, options.interval)
    server = await asyncio.start_server(lambda r, w: serve(feed, r, w), options.address, options.port, backlog=1024)
    emit("listening", port=server.sockets[0].getsockname()[1])
    publisher = asyncio.create_task(feed.publish())
    try:
        await asyncio.wait_for(server.serve_forever(), options.deadline)
    except asyncio.TimeoutError:
        pass
    publisher.cancel()


asyncio.run(main())
