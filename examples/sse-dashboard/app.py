"""A live price dashboard: FastAPI + sse-starlette, one event stream per ticker symbol.

Run it under uvicorn (``uvicorn app:app --port 8000``) and put StreamGate in front of it (see README.md). Every
line this app prints on stdout is one JSON object, so a log collector (or a test) can follow what happened.
"""

import asyncio
import json
import random
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from sse_starlette.sse import EventSourceResponse

app = FastAPI(title="sse-dashboard")
PAGE = (Path(__file__).parent / "index.html").read_text()


def log(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


@app.get("/", response_class=HTMLResponse)
async def page():
    return PAGE


@app.get("/api/prices/{symbol}")
async def prices(symbol: str, request: Request):
    """One price tick a second for ``symbol``; ``Last-Event-ID`` resumes the tick count after a reconnect."""
    start = int(request.headers.get("last-event-id", "0") or 0)
    log("stream_open", symbol=symbol, resumed_from=start)

    async def ticks():
        price = 100 + random.random() * 50
        tick = start
        try:
            while True:
                tick += 1
                price = max(1.0, price + random.uniform(-1, 1))
                yield {"id": str(tick), "event": "price", "data": json.dumps({"symbol": symbol, "price": round(price, 2)})}
                await asyncio.sleep(1)
        finally:
            log("stream_close", symbol=symbol, ticks=tick - start)

    return EventSourceResponse(ticks())


@app.post("/api/report")
async def report(live: int, protocol: str):
    """The page reports once every one of its streams has received a tick, with the protocol it loaded over."""
    log("report", live=live, protocol=protocol)
    return Response(status_code=204)
