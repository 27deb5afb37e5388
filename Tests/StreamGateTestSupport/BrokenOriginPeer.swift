import Foundation

/// An origin that answers as broken app servers do, in a process of its own (Python 3, standard library only),
/// one misbehaviour per path (also under `/broken/`, so one route can send them all here):
///
/// - `/cut-head`: half a response head, then the connection closes;
/// - `/bad-status`: `HTTP/1.1 2000 Weird`; `/not-http`: a line that is no status line;
/// - `/short-body`: `Content-Length: 100`, 10 bytes, then the connection closes;
/// - `/long-body`: `Content-Length: 5` and 25 bytes (the extra 20 look like the next response), connection kept;
/// - `/reset`: a head and part of a body, then a TCP reset (SO_LINGER 0);
/// - `/interim-flood`: 1,000 `103 Early Hints` and no final response (the connection closes after 30 s);
/// - `/endless-event?mib=N`: `text/event-stream` and one `data:` line of N MiB (default 16) that never ends: the
///   connection closes after it, mid-event;
/// - `/bad-chunk-size`: a chunked body whose second chunk size has a space after it (`5 `), then bytes that look
///   like the next response, connection kept;
/// - `/chunk-overrun`: a chunk of size 3 carrying more bytes, the extra ones shaped like the next response,
///   connection kept;
/// - `/hello`: `200` and `ok` (the connection is kept).
///
/// Each request prints a `request` event with its path.
public final class BrokenOriginPeer: @unchecked Sendable {
    public let port: Int
    public let peer: PythonPeer

    /// Starts the origin and waits up to 10 s for its port.
    public init() throws {
        (peer, port) = try PythonPeer.startServer(source: Self.source, fileName: "broken_origin.py")
    }

    /// The paths requested so far, in order.
    public var requestedPaths: [String] {
        peer.events.named("request").compactMap { $0["path"] }
    }

    static let source = #"""
        """An origin that misbehaves on purpose, for StreamGate's tests: see BrokenOriginPeer.swift."""
        import asyncio
        import json
        import socket
        import struct
        import time
        from urllib.parse import urlsplit, parse_qs


        async def serve(reader, writer):
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    target = head.split(b" ", 2)[1].decode()
                    parts = urlsplit(target)
                    path = parts.path[len("/broken"):] if parts.path.startswith("/broken/") else parts.path
                    emit("request", path=path)
                    if not await answer(path, parse_qs(parts.query), writer):
                        break
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()


        # Answers written whole, after which the connection closes.
        CLOSING_ANSWERS = {
            "/cut-head": b"HTTP/1.1 200 OK\r\nContent-Type: text/pl",
            "/bad-status": b"HTTP/1.1 2000 Weird\r\nContent-Length: 2\r\n\r\nok",
            "/not-http": b"SURPRISE this is no status line\r\n\r\n",
            "/short-body": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
        }


        # Answers written whole, after which the connection is kept: each breaks its framing, with bytes after the
        # break shaped like a next response.
        KEPT_ANSWERS = {
            "/long-body": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" b"HTTP/1.1 200 OK\r\n\r\nX",
            "/bad-chunk-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
                               b"5 \r\nworld\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nX",
            "/chunk-overrun": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"3\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nX\r\n0\r\n\r\n",
        }


        async def answer(path, query, writer):
            """Writes the answer for path; False when the connection must end after it."""
            if path in CLOSING_ANSWERS:
                writer.write(CLOSING_ANSWERS[path])
                await writer.drain()
                return False
            if path == "/interim-flood":
                writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" * 1000)
                await writer.drain()
                await asyncio.sleep(30)
                return False
            if path in KEPT_ANSWERS:
                writer.write(KEPT_ANSWERS[path])
                await writer.drain()
                return True
            if path == "/reset":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"r" * 100)
                await writer.drain()
                await asyncio.sleep(0.1)
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return False
            if path == "/endless-event":
                mib = int(query.get("mib", ["16"])[0])
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n")
                piece = b"x" * 65536
                chunk = b"%x\r\n" % (len(piece) + 6) + b"data: " + piece + b"\r\n"
                writer.write(chunk)
                for _ in range(mib * 16 - 1):
                    writer.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                    await writer.drain()
                emit("endless_event_sent", mib=mib)
                await asyncio.sleep(0.5)
                return False
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            return True


        asyncio.run(serve_tcp(serve))
        """#
}
