"""A python-socketio chat server (ASGI, under uvicorn) for the StreamGate example.

Clients start on HTTP long-polling and upgrade to a WebSocket, as socket.io does by default; both pass through
StreamGate. Every line this app prints on stdout is one JSON object.
"""

import json

import socketio

sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=[])
app = socketio.ASGIApp(sio)


def log(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


@sio.event
async def connect(sid, environ):
    log("connect", sid=sid, transport=sio.transport(sid))


@sio.event
async def chat(sid, message):
    """Broadcasts a chat message to every client, with the transport it came over."""
    transport = sio.transport(sid)
    log("chat", sid=sid, transport=transport, text=message.get("text", ""))
    await sio.emit("chat", {"from": sid, "text": message.get("text", ""), "transport": transport})


@sio.event
async def disconnect(sid):
    log("disconnect", sid=sid)
