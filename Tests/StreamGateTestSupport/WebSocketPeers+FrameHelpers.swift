extension WebSocketPeers {
    /// `sgframes.py`: helpers every peer imports: JSON events on stdout, RFC 6455 framing by hand, a raw handshake.
    static let frameHelpersSource = #"""
    """Shared helpers of StreamGate's WebSocket test peers: JSON event lines on stdout and raw RFC 6455 framing."""
    import asyncio
    import base64
    import hashlib
    import json
    import os
    import ssl
    import struct
    import sys
    import time
    from urllib.parse import urlsplit

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    OPCODES = {0x0: "continuation", 0x1: "text", 0x2: "binary", 0x8: "close", 0x9: "ping", 0xA: "pong"}


    def emit(event, **fields):
        """Prints one event as a JSON object on one line, every value a string."""
        record = {"event": event, "time": "%.3f" % time.time()}
        record.update({key: str(value) for key, value in fields.items()})
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()


    def accept_value(key):
        return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


    def apply_mask(payload, key):
        if not payload:
            return b""
        count = len(payload)
        repeated = (key * (count // 4 + 1))[:count]
        return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(count, "big")


    def encode_frame(opcode, payload, masked, fin=True):
        head = bytearray([(0x80 if fin else 0) | opcode])
        length = len(payload)
        mask_bit = 0x80 if masked else 0
        if length < 126:
            head.append(mask_bit | length)
        elif length < 65536:
            head.append(mask_bit | 126)
            head += struct.pack("!H", length)
        else:
            head.append(mask_bit | 127)
            head += struct.pack("!Q", length)
        if masked:
            key = os.urandom(4)
            head += key
            payload = apply_mask(payload, key)
        return bytes(head) + payload


    def close_payload(code, reason=""):
        return struct.pack("!H", code) + reason.encode()


    def parse_close(payload):
        if len(payload) < 2:
            return None, ""
        return struct.unpack("!H", payload[:2])[0], payload[2:].decode(errors="replace")


    async def read_frame(reader):
        """(fin, opcode, masked, payload) of the next frame, unmasked."""
        first, second = await reader.readexactly(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", await reader.readexactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await reader.readexactly(8))[0]
        masked = bool(second & 0x80)
        key = await reader.readexactly(4) if masked else None
        payload = await reader.readexactly(length)
        if key:
            payload = apply_mask(payload, key)
        return bool(first & 0x80), first & 0x0F, masked, payload


    def describe(payload):
        """Fields for an event about a frame payload: hex, and text when it is printable ASCII."""
        fields = {"payload_hex": payload.hex(), "length": len(payload)}
        if payload and all(32 <= byte < 127 for byte in payload):
            fields["text"] = payload.decode()
        return fields


    async def read_head(reader):
        """The status line or request line and the header fields of an HTTP/1.1 head."""
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        return lines[0], headers


    def client_tls():
        """A TLS client context that accepts the test's self-signed certificates and offers only http/1.1."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["http/1.1"])
        return context


    async def open_raw(url, origin=None):
        """Opens a WebSocket by hand to ws:// or wss:// `url`: (reader, writer, status, headers) once answered."""
        parts = urlsplit(url)
        secure = parts.scheme == "wss"
        port = parts.port or (443 if secure else 80)
        context = client_tls() if secure else None
        reader, writer = await asyncio.open_connection(parts.hostname, port, ssl=context)
        key = base64.b64encode(os.urandom(16)).decode()
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        lines = [
            "GET %s HTTP/1.1" % target,
            "Host: %s:%d" % (parts.hostname, port),
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: " + key,
            "Sec-WebSocket-Version: 13",
        ]
        if origin:
            lines.append("Origin: " + origin)
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        status, headers = await read_head(reader)
        code = int(status.split()[1])
        if code == 101 and headers.get("sec-websocket-accept") != accept_value(key):
            raise RuntimeError("bad Sec-WebSocket-Accept: %r" % headers.get("sec-websocket-accept"))
        return reader, writer, code, headers

    """#
}
