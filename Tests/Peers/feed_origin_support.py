"""What the event-stream test origins share: their JSON lines, HTTP/1.1 framing, the feed's schedule (event n is
published at EPOCH + n * INTERVAL, the same in every process started with the same --epoch), the options that set
it, and the serving loop that stops by itself DEADLINE seconds after start."""

import asyncio
import json
import time

REASONS = {200: "OK", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}

EVENT_STREAM_HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
                     b"transfer-encoding: chunked\r\n\r\n")


def emit(event, **fields):
    """One JSON line on standard output: the event, the time, and the fields as strings."""
    record = {"event": event, "time": str(time.time())}
    record.update({key: str(value) for key, value in fields.items()})
    print(json.dumps(record), flush=True)


def chunk(payload):
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def response(status, body, content_type="text/plain"):
    head = "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n" % (
        status, REASONS.get(status, "Status"), content_type, len(body))
    return head.encode() + body


def read_fields(head):
    """The request target and the header fields (lower-case names) of a request head."""
    lines = head.decode("latin-1").split("\r\n")
    target = lines[0].split(" ")[1]
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            fields[name.strip().lower()] = value.strip()
    return target, fields


def add_feed_arguments(parser, count, interval):
    """The options every scheduled feed takes, with this origin's defaults for COUNT and INTERVAL."""
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--epoch", type=float, default=time.time(), help="unix time of event 0 (default: now)")
    parser.add_argument("--count", type=int, default=count)
    parser.add_argument("--interval", type=float, default=interval, help="seconds between events")
    parser.add_argument("--from-start", action="store_true", help="without Last-Event-ID, stream from event 1")
    parser.add_argument("--deadline", type=float, default=60, help="seconds until the origin stops by itself")


class ScheduledFeed:
    """The feed's schedule from the options: which events are out, and writing them as they fall due."""

    def __init__(self, options):
        self.options = options
        self.port = 0

    def published(self):
        """How many events of the feed are out by now."""
        elapsed = time.time() - self.options.epoch
        return min(self.options.count, max(0, int(elapsed // self.options.interval)))

    def first_after(self, last_event_id):
        """The first event for a request: the one after its Last-Event-ID, else the next to be published (or 1 with
        --from-start)."""
        if last_event_id is not None and last_event_id.isdigit():
            return int(last_event_id) + 1
        return 1 if self.options.from_start else self.published() + 1

    async def write_events(self, writer, number, render, before_write=None):
        """The event-stream head, then events from `number` on (`render(n)` gives event n's bytes): those out
        already at once, the others as they fall due, in one chunk per wakeup. `before_write(first, last)` is awaited
        before each chunk."""
        writer.write(EVENT_STREAM_HEAD)
        await writer.drain()
        while number <= self.options.count:
            await asyncio.sleep(max(0.0, self.options.epoch + number * self.options.interval - time.time()))
            upto = max(number, self.published())
            if before_write is not None:
                await before_write(number, upto)
            writer.write(chunk(b"".join(render(n) for n in range(number, upto + 1))))
            await writer.drain()
            number = upto + 1


async def serve_until_deadline(origin, options):
    """Serves `origin.serve` on the options' address and port, prints "listening" with the port (also set as
    `origin.port`), and stops after the options' deadline."""
    server = await asyncio.start_server(origin.serve, options.address, options.port, backlog=1024)
    origin.port = server.sockets[0].getsockname()[1]
    emit("listening", port=origin.port)
    try:
        await asyncio.wait_for(server.serve_forever(), options.deadline)
    except asyncio.TimeoutError:
        pass
