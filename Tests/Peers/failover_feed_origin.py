"""An event-stream origin for the failover tests. Every process started with the same --epoch serves the same feed,
so a second origin, or this one restarted on the same port, carries on where another left off: event n (1..COUNT)
is published at EPOCH + n * INTERVAL as `id: n` and `data: {"seq": n, "via": PORT}`.

GET /feed...  200 text/event-stream (chunked): the events after the request's Last-Event-ID (those published already
              at once, then each one when it falls due); without the header, those published from now on (from 1
              with --from-start). When the feed is over the stream stays open, quiet, until the client goes.
GET /healthz  with --healthz: 200, or 503 once the file --down-file exists.
GET /page     with --page FILE: that file as text/html.

The other options make it misbehave as real origins do: --replay-inclusive replays from the given id itself,
--ignore-last-event-id always from 1, --no-ids sends events without an id line, --exit-mid-event-at N writes only
the first part of event N and then dies with every connection reset, --status CODE answers /feed with CODE.

Prints one JSON line per request (event "request": target, last_event_id, peer, and for the feed the first event it
streams), "listening" (port) when bound and "exit_mid_event" (seq) before dying that way. Stops by itself DEADLINE
seconds after start."""

import argparse
import asyncio
import os
import socket
import struct

from feed_origin_support import ScheduledFeed, add_feed_arguments, chunk, emit, read_fields, response, \
    serve_until_deadline


class Origin(ScheduledFeed):
    def __init__(self, options):
        super().__init__(options)
        self.writers = set()

    def event(self, number, whole=True):
        data = b'data: {"seq": %d, "via": %d}' % (number, self.port)
        if not whole:
            data = b'data: {"seq": %d' % number
        text = data if self.options.no_ids else b"id: %d\n%s" % (number, data)
        return text + b"\n\n" if whole else text

    def first_event(self, last_event_id):
        options = self.options
        if options.ignore_last_event_id:
            return 1
        if options.replay_inclusive and last_event_id is not None and last_event_id.isdigit():
            return max(1, int(last_event_id))
        return self.first_after(last_event_id)

    async def stream(self, writer, number):
        async def die_if_due(first, last):
            if first <= self.options.exit_mid_event_at <= last:
                await self.die_inside(writer, first)

        await self.write_events(writer, number, self.event, before_write=die_if_due)

    async def die_inside(self, writer, number):
        """Writes the events before --exit-mid-event-at whole and only the start of that one, then exits with every
        connection reset (SO_LINGER 0)."""
        broken = self.options.exit_mid_event_at
        whole = b"".join(self.event(n) for n in range(number, broken))
        writer.write(chunk(whole + self.event(broken, whole=False)))
        await writer.drain()
        emit("exit_mid_event", seq=broken)
        await asyncio.sleep(0.1)  # Let the proxy read the partial event before the reset.
        for open_writer in self.writers:
            sock = open_writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        os._exit(1)

    async def serve(self, reader, writer):
        host, port = writer.get_extra_info("peername")[:2]
        self.writers.add(writer)
        try:
            while True:
                target, fields = read_fields(await reader.readuntil(b"\r\n\r\n"))
                last_event_id = fields.get("last-event-id")
                path = target.split("?", 1)[0]
                feed = path.startswith("/feed") and not self.options.status
                first = self.first_event(last_event_id) if feed else ""
                emit("request", target=target, last_event_id=last_event_id or "", peer="%s:%d" % (host, port),
                     first=first)
                if feed:
                    await self.stream(writer, first)
                    await reader.read()  # The feed is over: quiet until the client goes.
                    return
                if path.startswith("/feed"):
                    writer.write(response(self.options.status, b"feed unavailable\n"))
                elif path == "/healthz" and self.options.healthz:
                    down = self.options.down_file and os.path.exists(self.options.down_file)
                    writer.write(response(503, b"down\n") if down else response(200, b"ok\n"))
                elif path == "/page" and self.options.page:
                    with open(self.options.page, "rb") as page:
                        writer.write(response(200, page.read(), "text/html; charset=utf-8"))
                else:
                    writer.write(response(404, b"not found\n"))
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, IndexError):
            pass
        finally:
            self.writers.discard(writer)
            writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_feed_arguments(parser, count=100, interval=0.1)
    parser.add_argument("--replay-inclusive", action="store_true", help="replay from the Last-Event-ID event itself")
    parser.add_argument("--ignore-last-event-id", action="store_true", help="always stream from event 1")
    parser.add_argument("--no-ids", action="store_true", help="events without an id line")
    parser.add_argument("--exit-mid-event-at", type=int, default=0, metavar="N", help="die inside event N")
    parser.add_argument("--status", type=int, default=0, metavar="CODE", help="answer /feed with CODE")
    parser.add_argument("--healthz", action="store_true", help="serve /healthz")
    parser.add_argument("--down-file", default="", metavar="PATH", help="/healthz answers 503 once PATH exists")
    parser.add_argument("--page", default="", metavar="FILE", help="serve FILE as /page")
    options = parser.parse_args()
    await serve_until_deadline(Origin(options), options)


asyncio.run(main())
