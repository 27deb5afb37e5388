"""CLIENTS EventSource-like clients over HTTP/2 (TLS, ALPN h2), each on its own connection: GET PATH, read the
event stream, and when it ends (end of stream, reset, connection closed) wait the last `retry:` the stream gave
(or RETRY seconds) and reconnect with Last-Event-ID, as a browser does, until each has seen event id UNTIL or
DEADLINE seconds pass. Writes every client's record (ids seen, the instance each event came through, every
connection with its times) to OUT as JSON, and prints "connected" per first response and "done" at the end."""

import argparse
import asyncio
import json
import ssl
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions


def emit(event, **fields):
    record = {"event": event, "time": str(time.time())}
    record.update({key: str(value) for key, value in fields.items()})
    print(json.dumps(record), flush=True)


class EventSourceClient:
    def __init__(self, index, options, context):
        self.index = index
        self.options = options
        self.context = context
        self.last_id = None
        self.retry = options.retry
        self.ids = []
        self.via = []
        self.connections = []
        self.done = False
        self.pending = b""

    async def run(self, deadline):
        while not self.done and time.time() < deadline:
            await self.connect_once(deadline)
            if not self.done:
                await asyncio.sleep(self.retry)

    def take_events(self, record):
        while b"\n\n" in self.pending:
            block, self.pending = self.pending.split(b"\n\n", 1)
            data = None
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    record["comments"] += 1
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "id":
                    self.last_id = value
                elif name == "retry" and value.isdigit():
                    self.retry = int(value) / 1000
                    record["retry_ms"] = int(value)
                elif name == "data":
                    data = value
            if data is None:
                continue
            event = json.loads(data)
            now = time.time()
            record.setdefault("first_event_at", now)
            record["last_event_at"] = now
            record["events"] += 1
            self.ids.append(event["seq"])
            self.via.append(event["via"])
            if event["seq"] >= self.options.until:
                self.done = True

    def without_goaway(self, data, record):
        """The whole frames of `data` (after what an earlier call held back) except GOAWAY, which is recorded:
        RFC 9113 lets the streams up to its last stream id finish, but h2 closes the whole connection on one."""
        self.frames += data
        passed = bytearray()
        while len(self.frames) >= 9:
            length = int.from_bytes(self.frames[0:3], "big")
            if len(self.frames) < 9 + length:
                break
            frame, self.frames = self.frames[:9 + length], self.frames[9 + length:]
            if frame[3] == 0x7:
                record["goaway_error"] = int.from_bytes(frame[13:17], "big")
            else:
                passed += frame
        return bytes(passed)

    async def connect_once(self, deadline):
        record = {"started_at": time.time(), "last_event_id": self.last_id, "events": 0, "comments": 0}
        self.connections.append(record)
        self.pending = b""
        self.frames = b""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.options.host, self.options.port, ssl=self.context,
                                        server_hostname=self.options.authority), 5)
        except (OSError, asyncio.TimeoutError) as error:
            record["error"] = f"connect: {error!r}"
            record["ended_at"] = time.time()
            return
        if writer.get_extra_info("ssl_object").selected_alpn_protocol() != "h2":
            record["error"] = "ALPN did not select h2"
            writer.close()
            return
        connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        connection.initiate_connection()
        headers = [(":method", "GET"), (":scheme", "https"), (":authority", self.options.authority),
                   (":path", self.options.path), ("accept", "text/event-stream")]
        if self.last_id is not None:
            headers.append(("last-event-id", self.last_id))
        stream = connection.get_next_available_stream_id()
        connection.send_headers(stream, headers, end_stream=True)
        writer.write(connection.data_to_send())
        end = None
        try:
            while end is None and not self.done:
                data = await asyncio.wait_for(reader.read(65536), max(0.1, deadline - time.time()))
                if not data:
                    end = "connection closed"
                    break
                for event in connection.receive_data(self.without_goaway(data, record)):
                    if isinstance(event, h2.events.ResponseReceived):
                        record["status"] = dict(event.headers).get(":status")
                        record["headers_at"] = time.time()
                        if len(self.connections) == 1:
                            emit("connected", client=self.index)
                    elif isinstance(event, h2.events.DataReceived):
                        connection.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                        self.pending += event.data
                        self.take_events(record)
                    elif isinstance(event, h2.events.StreamEnded):
                        end = "stream ended"
                    elif isinstance(event, h2.events.StreamReset):
                        end = f"stream reset {event.error_code}"
                writer.write(connection.data_to_send())
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as error:
            end = f"error: {error!r}"
        except h2.exceptions.ProtocolError as error:
            end = f"error: HTTP/2 protocol error {error}"
            record["error"] = end
        record["end"] = "done" if self.done else end
        record["ended_at"] = time.time()
        writer.close()

    def summary(self):
        return {"client": self.index, "ids": self.ids, "via": self.via, "connections": self.connections,
                "done": self.done}


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--authority", default="streamgate.test")
    parser.add_argument("--path", default="/feed")
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--until", type=int, required=True)
    parser.add_argument("--retry", type=float, default=3.0)
    parser.add_argument("--deadline", type=float, default=60)
    parser.add_argument("--out", required=True)
    options = parser.parse_args()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    deadline = time.time() + options.deadline
    clients = [EventSourceClient(index, options, context) for index in range(options.clients)]
    await asyncio.gather(*(client.run(deadline) for client in clients))
    with open(options.out, "w") as file:
        json.dump([client.summary() for client in clients], file)
    emit("done", finished=sum(client.done for client in clients))


asyncio.run(main())
