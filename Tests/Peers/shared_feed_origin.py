"""An event-stream origin for the shared-subscription tests. One feed, the same on every path and in every process
started with the same --epoch: event n (1..COUNT) is published at EPOCH + n * INTERVAL as `id: n` and
`data: {"seq": n, "via": PORT, "stream": K}`, where K numbers the requests this process answered (so the clients of
one upstream stream read the very same data, and those of another stream different data), padded to about --size
bytes with a `pad` field.

GET any target  200 text/event-stream (chunked): the events after the request's Last-Event-ID (those published
                already at once, then each one when it falls due); without the header, those published from now on
                (from 1 with --from-start). When the feed is over the stream stays open, quiet, until the client goes.
                With --status CODE: CODE with a --content-type body `answer K to TARGET` instead.
                --head-delay SECONDS waits that long before answering.

Prints one JSON line per request (event "request": target, last_event_id, cookie, authorization, peer, stream (K) and
first, the first event it streams), "closed" (peer) when a client connection closes, and "listening" (port) when
bound. Stops by itself DEADLINE seconds after start."""

import argparse
import asyncio
import json
import time

REASONS = {200: "OK", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}


def emit(event, **fields):
    record = {"event": event, "time": str(time.time())}
    record.update({key: str(value) for key, value in fields.items()})
    print(json.dumps(record), flush=True)


def chunk(payload):
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def response(status, body, content_type):
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


class Origin:
    def __init__(self, options):
        self.options = options
        self.port = 0
        self.streams = 0

    def published(self):
        """How many events of the feed are out by now."""
        elapsed = time.time() - self.options.epoch
        return min(self.options.count, max(0, int(elapsed // self.options.interval)))

    def event(self, number, stream):
        data = b'{"seq": %d, "via": %d, "stream": %d' % (number, self.port, stream)
        padding = self.options.size - len(data) - 24
        if padding > 0:
            data += b', "pad": "%s"' % (b"x" * padding)
        return b"id: %d\ndata: %s}\n\n" % (number, data)

    def first_event(self, last_event_id):
        if last_event_id is not None and last_event_id.isdigit():
            return int(last_event_id) + 1
        return 1 if self.options.from_start else self.published() + 1

    async def feed(self, writer, number, stream):
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
                     b"transfer-encoding: chunked\r\n\r\n")
        await writer.drain()
        while number <= self.options.count:
            await asyncio.sleep(max(0.0, self.options.epoch + number * self.options.interval - time.time()))
            upto = max(number, self.published())
            writer.write(chunk(b"".join(self.event(n, stream) for n in range(number, upto + 1))))
            await writer.drain()
            number = upto + 1
        await asyncio.Event().wait()  # The feed is over: quiet until the client goes.

    async def serve(self, reader, writer):
        host, port = writer.get_extra_info("peername")[:2]
        peer = "%s:%d" % (host, port)
        try:
            while True:
                target, fields = read_fields(await reader.readuntil(b"\r\n\r\n"))
                self.streams += 1
                stream = self.streams
                last_event_id = fields.get("last-event-id")
                first = "" if self.options.status else self.first_event(last_event_id)
                emit("request", target=target, last_event_id=last_event_id or "", cookie=fields.get("cookie", ""),
                     authorization=fields.get("authorization", ""), peer=peer, stream=stream, first=first)
                if self.options.head_delay > 0:
                    await asyncio.sleep(self.options.head_delay)
                if self.options.status:
                    body = b"answer %d to %s\n" % (stream, target.encode())
                    writer.write(response(self.options.status, body, self.options.content_type))
                    await writer.drain()
                    continue
                # The feed goes on until the client closes the connection (seen at once by reading to its end).
                feeding = asyncio.ensure_future(self.feed(writer, first, stream))
                gone = asyncio.ensure_future(reader.read())
                await asyncio.wait({feeding, gone}, return_when=asyncio.FIRST_COMPLETED)
                for task in (feeding, gone):
                    if task.done() and not task.cancelled():
                        task.exception()
                    task.cancel()
                return
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, IndexError):
            pass
        finally:
            emit("closed", peer=peer)
            writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--epoch", type=float, default=time.time(), help="unix time of event 0 (default: now)")
    parser.add_argument("--count", type=int, default=100000)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between events")
    parser.add_argument("--size", type=int, default=0, help="pad each event to about this many bytes")
    parser.add_argument("--from-start", action="store_true", help="without Last-Event-ID, stream from event 1")
    parser.add_argument("--status", type=int, default=0, metavar="CODE", help="answer every request with CODE")
    parser.add_argument("--content-type", default="text/plain", help="of the --status answers")
    parser.add_argument("--head-delay", type=float, default=0, metavar="SECONDS", help="wait before answering")
    parser.add_argument("--deadline", type=float, default=60, help="seconds until the origin stops by itself")
    options = parser.parse_args()
    origin = Origin(options)
    server = await asyncio.start_server(origin.serve, options.address, options.port, backlog=1024)
    origin.port = server.sockets[0].getsockname()[1]
    emit("listening", port=origin.port)
    try:
        await asyncio.wait_for(server.serve_forever(), options.deadline)
    except asyncio.TimeoutError:
        pass


asyncio.run(main())
