"""A python-socketio client: connects through StreamGate (long-polling first), waits for the upgrade to a
WebSocket, sends a chat message and waits for it to come back. Prints one JSON line per step; exits 0 when every
step worked.

    python3 client.py http://127.0.0.1:8080
"""

import asyncio
import json
import sys

import socketio


def log(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


async def main(url):
    sio = socketio.AsyncClient(reconnection=False)
    echoed = asyncio.Event()

    @sio.on("chat")
    async def on_chat(message):
        log("echo", text=message["text"], transport=message["transport"])
        echoed.set()

    await sio.connect(url, transports=["polling", "websocket"])
    log("connected", transport=sio.transport())
    for _ in range(100):
        if sio.transport() == "websocket":
            break
        await asyncio.sleep(0.05)
    log("upgraded", transport=sio.transport())
    await sio.emit("chat", {"text": "hello through StreamGate"})
    await asyncio.wait_for(echoed.wait(), timeout=5)
    await sio.disconnect()
    log("done")


asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"))
