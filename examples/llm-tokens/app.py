"""A stand-in for an LLM chat endpoint: POST a JSON prompt, get the answer as a text/event-stream of tokens.

It answers the way model APIs do (OpenAI-style `data:` chunks ending with `[DONE]`): a `start` event at once, then
silence while the "model thinks" (`think_seconds`, as long as a real model may take before its first token), then
one `token` event per word. StreamGate's heartbeats fill the silence, so no proxy or load balancer in between cuts
the stream for being idle. Every line this app prints on stdout is one JSON object.
"""

import asyncio
import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

app = FastAPI(title="llm-tokens")
PAGE = (Path(__file__).parent / "index.html").read_text()


class Prompt(BaseModel):
    prompt: str = Field(min_length=1, max_length=4000)
    think_seconds: float = Field(default=2.0, ge=0, le=60)
    token_interval: float = Field(default=0.05, ge=0, le=5)


def log(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def answer(prompt: str) -> list[str]:
    words = prompt.split()
    text = f"You asked about {' '.join(words[:12])}. Here is the answer, streamed one token at a time, as a model would."
    return [word + " " for word in text.split()]


@app.get("/", response_class=HTMLResponse)
async def page():
    return PAGE


@app.post("/v1/chat")
async def chat(body: Prompt):
    tokens = answer(body.prompt)
    log("chat", tokens=len(tokens), think_seconds=body.think_seconds)

    async def stream():
        yield {"event": "start", "data": json.dumps({"model": "stand-in-1", "tokens": len(tokens)})}
        await asyncio.sleep(body.think_seconds)
        for index, token in enumerate(tokens, start=1):
            yield {"id": str(index), "event": "token", "data": json.dumps({"text": token})}
            await asyncio.sleep(body.token_interval)
        yield {"event": "done", "data": "[DONE]"}
        log("chat_done", tokens=len(tokens))

    # sse-starlette's own keep-alive comments are turned off (an hour): the heartbeats on the wire are StreamGate's.
    return EventSourceResponse(stream(), ping=3600)


@app.post("/api/report")
async def report(tokens: int, heartbeats: int, protocol: str):
    """The page reports what its fetch() reader saw once the answer is done."""
    log("report", tokens=tokens, heartbeats=heartbeats, protocol=protocol)
    return Response(status_code=204)
