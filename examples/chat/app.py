"""WebSocket chat with an SSE presence feed on the same origin (FastAPI under uvicorn).

The chat is a WebSocket (`/ws/chat?name=...`): every message is sent to everyone in the room. Who is in the room
is an event stream (`/events/presence`): the list at once, then again on every join and leave. Through StreamGate
over HTTP/2 the browser carries both on the one connection that loaded the page (the WebSocket by RFC 8441).
Every line this app prints on stdout is one JSON object.
"""

import asyncio
import json
from pathlib import Path

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, Response
from sse_starlette.sse import EventSourceResponse

app = FastAPI(title="chat")
PAGE = (Path(__file__).parent / "index.html").read_text()
members: dict[WebSocket, str] = {}
presence_listeners: set[asyncio.Queue] = set()


def log(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def presence():
    return sorted(set(members.values()))


def announce_presence():
    for queue in presence_listeners:
        queue.put_nowait(presence())


@app.get("/", response_class=HTMLResponse)
async def page():
    return PAGE


@app.websocket("/ws/chat")
async def chat(socket: WebSocket, name: str = "anonymous"):
    await socket.accept()
    members[socket] = name[:40]
    log("join", name=name, http_version=socket.scope.get("http_version"))
    announce_presence()
    try:
        while True:
            text = await socket.receive_text()
            log("message", name=name, text=text[:200])
            for member in list(members):
                await member.send_text(json.dumps({"from": name, "text": text[:2000]}))
    except WebSocketDisconnect:
        pass
    finally:
        members.pop(socket, None)
        log("leave", name=name)
        announce_presence()


@app.get("/events/presence")
async def presence_feed():
    queue: asyncio.Queue = asyncio.Queue()
    presence_listeners.add(queue)
    queue.put_nowait(presence())

    async def updates():
        try:
            while True:
                yield {"event": "presence", "data": json.dumps(await queue.get())}
        finally:
            presence_listeners.discard(queue)

    return EventSourceResponse(updates(), ping=3600)


@app.post("/api/report")
async def report(echoed: bool, present: bool, protocol: str):
    """The page reports once its own message came back over the WebSocket and the presence feed lists it."""
    log("report", echoed=echoed, present=present, protocol=protocol)
    return Response(status_code=204)
