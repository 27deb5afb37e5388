import Foundation

/// An HTTP/2 origin (h2c with prior knowledge) scripted on the Python `h2` library, for what a general-purpose server
/// will not do on demand: reset one stream with a chosen code, send a graceful GOAWAY while streams are open,
/// refuse a stream. It numbers its connections (`connection_open` / `connection_close`) and reports each request
/// with its connection and stream, and each RST_STREAM it receives (`stream_reset` with the code).
///
/// - `GET /events?count=N&interval=S`: N events (`data: conn C event i`), then END_STREAM (`stream_done`);
/// - `GET /reset?code=N&after=S`: the head and one event, then RST_STREAM with code N after S seconds (`reset_sent`);
/// - `GET /resumable?count=N&reset_after=K`: events `id: i` from after the request's Last-Event-ID (1 without
///   one) to N, then END_STREAM; but a request starting at or before K sends only up to event K, then half of the
///   next event, then RST_STREAM INTERNAL_ERROR (`reset_sent`); `inclusive=1` starts at the Last-Event-ID itself
///   (an origin that resends the last event);
/// - `GET /stall`: no answer at all (`stall`), until the stream is reset or the connection closes;
/// - `GET /bulk?size=N`: N bytes, each DATA frame only as the stream and connection windows allow, so `sent` in its
///   `bulk_progress` events (every MiB) is what went on the wire; `bulk_done` at the end;
/// - `GET /goaway`: `200 goaway sent`, then GOAWAY (NO_ERROR, last stream = this one); the open streams go on and
///   the connection closes after the last (`goaway_sent`);
/// - `GET /refuse-once...`: the first request for the path is refused with REFUSED_STREAM (`refused`), later ones
///   get `200 served after a refusal`;
/// - anything else: `200 conn C`.
public final class ScriptedHTTP2Origin: @unchecked Sendable {
    public let port: Int
    public let peer: PythonPeer

    /// Starts the origin and waits up to 10 s for its port.
    public init() throws {
        (peer, port) = try PythonPeer.startServer(source: Self.source, fileName: "scripted_h2_origin.py")
    }

    /// The events called `name` so far.
    public func events(_ name: String) -> [PythonPeerEvent] {
        peer.events.named(name)
    }

    static let source = #"""
        """Scripted HTTP/2 origin on the h2 library for StreamGate's tests: see ScriptedHTTP2Origin.swift."""
        import asyncio, json, struct, time
        import h2.config, h2.connection, h2.events, h2.errors


        connections = 0
        refused_once = set()

        class Connection:
            def __init__(self, reader, writer, number):
                self.reader, self.writer, self.number = reader, writer, number
                self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
                self.tasks = {}
                self.going_away = False
                self.window_opened = asyncio.Event()

            def flush(self):
                data = self.h2.data_to_send()
                if data:
                    self.writer.write(data)

            async def run(self):
                self.h2.initiate_connection()
                self.flush()
                try:
                    while True:
                        data = await self.reader.read(65536)
                        if not data:
                            break
                        for event in self.h2.receive_data(data):
                            self.handle(event)
                        self.flush()
                        if self.going_away and not self.tasks:
                            break
                except Exception as error:
                    emit("connection_error", conn=self.number, error=repr(error))
                for task in self.tasks.values():
                    task.cancel()
                emit("connection_close", conn=self.number)
                self.writer.close()

            def handle(self, event):
                if isinstance(event, h2.events.RequestReceived):
                    headers = dict(event.headers)
                    path = headers.get(":path", "/")
                    emit("request", conn=self.number, stream=event.stream_id, path=path, method=headers.get(":method"),
                         last_event_id=headers.get("last-event-id", ""))
                    self.tasks[event.stream_id] = asyncio.ensure_future(
                        self.respond(event.stream_id, path, headers.get("last-event-id")))
                elif isinstance(event, h2.events.DataReceived):
                    self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
                    self.window_opened.set()
                elif isinstance(event, h2.events.StreamReset):
                    emit("stream_reset", conn=self.number, stream=event.stream_id, code=int(event.error_code))
                    task = self.tasks.pop(event.stream_id, None)
                    if task:
                        task.cancel()

            def send_headers(self, stream, status=200, content_type="text/event-stream", end=False):
                self.h2.send_headers(stream, [(":status", str(status)), ("content-type", content_type)], end_stream=end)
                self.flush()

            def send(self, stream, data, end=False):
                self.h2.send_data(stream, data, end_stream=end)
                self.flush()

            async def respond(self, stream, path, last_event_id=None):
                name, _, query = path.partition("?")
                params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                try:
                    if name == "/events":
                        count, interval = int(params.get("count", "10")), float(params.get("interval", "0.1"))
                        self.send_headers(stream)
                        for i in range(1, count + 1):
                            self.send(stream, f"id: {i}\ndata: conn {self.number} event {i}\n\n".encode(), end=i == count)
                            if i < count:
                                await asyncio.sleep(interval)
                        emit("stream_done", conn=self.number, stream=stream)
                    elif name == "/resumable":
                        count, reset_after = int(params.get("count", "10")), int(params.get("reset_after", "5"))
                        last = int(last_event_id) if last_event_id else 0
                        first = last if params.get("inclusive") == "1" and last > 0 else last + 1
                        self.send_headers(stream)
                        upto = reset_after if last < reset_after else count
                        for i in range(first, upto + 1):
                            self.send(stream, f"id: {i}\ndata: event {i}\n\n".encode(), end=i == count)
                            await asyncio.sleep(0.05)
                        if upto < count:
                            self.send(stream, f"id: {upto + 1}\ndata: half of event".encode())
                            await asyncio.sleep(0.05)
                            self.h2.reset_stream(stream, error_code=2)
                            self.flush()
                            emit("reset_sent", conn=self.number, stream=stream, code=2)
                        else:
                            emit("stream_done", conn=self.number, stream=stream)
                    elif name == "/reset":
                        self.send_headers(stream)
                        self.send(stream, b"data: before reset\n\n")
                        await asyncio.sleep(float(params.get("after", "0.2")))
                        code = int(params.get("code", "2"))
                        self.h2.reset_stream(stream, error_code=code)
                        self.flush()
                        emit("reset_sent", conn=self.number, stream=stream, code=code)
                    elif name == "/stall":
                        emit("stall", conn=self.number, stream=stream)
                        await asyncio.sleep(3600)
                    elif name == "/bulk":
                        size, mib = int(params.get("size", "1048576")), 1 << 20
                        self.h2.send_headers(stream, [(":status", "200"), ("content-type", "application/octet-stream"),
                                                      ("content-length", str(size))])
                        self.flush()
                        chunk, sent = bytes(range(256)) * 64, 0
                        while sent < size:
                            room = min(self.h2.local_flow_control_window(stream), self.h2.max_outbound_frame_size,
                                       len(chunk), size - sent)
                            if room <= 0:
                                self.window_opened.clear()
                                await self.window_opened.wait()
                                continue
                            self.send(stream, chunk[:room], end=sent + room == size)
                            if (sent + room) // mib > sent // mib:
                                emit("bulk_progress", conn=self.number, sent=sent + room)
                            sent += room
                            await self.writer.drain()
                        emit("bulk_done", conn=self.number, sent=sent)
                    elif name == "/goaway":
                        self.send_headers(stream, content_type="text/plain")
                        self.send(stream, b"goaway sent", end=True)
                        # A graceful GOAWAY written by hand: the h2 library's close_connection() also stops the open streams.
                        self.writer.write(struct.pack(">I", 8)[1:] + b"\x07\x00" + struct.pack(">III", 0, stream, 0))
                        self.going_away = True
                        emit("goaway_sent", conn=self.number, last_stream=stream)
                    elif name == "/refuse-once":
                        if path in refused_once:
                            self.send_headers(stream, content_type="text/plain")
                            self.send(stream, b"served after a refusal", end=True)
                        else:
                            refused_once.add(path)
                            self.h2.reset_stream(stream, error_code=h2.errors.ErrorCodes.REFUSED_STREAM)
                            self.flush()
                            emit("refused", conn=self.number, stream=stream)
                    else:
                        self.send_headers(stream, content_type="text/plain")
                        self.send(stream, f"conn {self.number}".encode(), end=True)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    emit("respond_error", stream=stream, error=repr(error))
                finally:
                    self.tasks.pop(stream, None)
                    if self.going_away and not self.tasks:
                        self.writer.close()

        async def accept(reader, writer):
            global connections
            connections += 1
            emit("connection_open", conn=connections)
            await Connection(reader, writer, connections).run()

        asyncio.run(serve_tcp(accept))
        """#
}
