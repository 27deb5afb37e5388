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

from feed_origin_support import ScheduledFeed, add_feed_arguments, emit, read_fields, response, serve_until_deadline


class Origin(ScheduledFeed):
    def __init__(self, options):
        super().__init__(options)
        self.streams = 0

    def event(self, number, stream):
        data = b'{"seq": %d, "via": %d, "stream": %d' % (number, self.port, stream)
        padding = self.options.size - len(data) - 24
        if padding > 0:
            data += b', "pad": "%s"' % (b"x" * padding)
        return b"id: %d\ndata: %s}\n\n" % (number, data)

    async def feed(self, writer, number, stream):
        await self.write_events(writer, number, lambda n: self.event(n, stream))
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
                first = "" if self.options.status else self.first_after(last_event_id)
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
    add_feed_arguments(parser, count=100000, interval=0.05)
    parser.add_argument("--size", type=int, default=0, help="pad each event to about this many bytes")
    parser.add_argument("--status", type=int, default=0, metavar="CODE", help="answer every request with CODE")
    parser.add_argument("--content-type", default="text/plain", help="of the --status answers")
    parser.add_argument("--head-delay", type=float, default=0, metavar="SECONDS", help="wait before answering")
    options = parser.parse_args()
    await serve_until_deadline(Origin(options), options)


asyncio.run(main())
