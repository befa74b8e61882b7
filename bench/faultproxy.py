"""A fault-injecting HTTP/1.1 proxy on loopback (asyncio), for `chaos.py`.

Each client connection carries one request (the bench's clients send `Connection: close`).
The proxy reads the whole request (headers and `Content-Length` body), then, by a seeded RNG:

- `drop_request`: closes the client connection without forwarding anything;
- `drop_response`: forwards, waits for the server's whole answer (it was processed), then
  closes the client connection without sending it;
- `delay`: waits 50-800 ms before forwarding;
- `duplicate`: sends the same request to the server twice (the second right after the first
  answered) and gives the client the second answer;
- `reorder`: holds the request until the next request arrives (or 300 ms pass), forwards
  that later one first, then the held one;
- otherwise forwards it untouched.

With several upstream servers the proxy forwards to each in turn (round robin). A server
that is down (killed, restarting) shows up as a closed connection, like the real network. Faults are counted by kind. `enabled = False` turns every fault off (the final
drain and the checks run through a clean proxy).
"""
from __future__ import annotations

import asyncio
import itertools
import random
import threading
from collections import Counter

KINDS = ("drop_request", "drop_response", "delay", "duplicate", "reorder")


class FaultProxy:
    def __init__(self, upstream_port: int | list[int], seed: int, rate: float = 0.25,
                 weights: dict | None = None, host: str = "127.0.0.1"):
        ports = upstream_port if isinstance(upstream_port, list) else [upstream_port]
        # Several app servers: each forward goes to the next in turn (round robin), so a
        # duplicated request reaches two servers, and a killed one is met every other time.
        self.upstreams = [(host, port) for port in ports]
        self._next = itertools.cycle(self.upstreams)
        self.forwarded: Counter = Counter()
        self.host = host
        self.rng = random.Random(seed)
        self.rate = rate
        self.weights = weights or {k: 1.0 for k in KINDS}
        self.faults: Counter = Counter()
        self.requests = 0
        self.enabled = True
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._held: asyncio.Future | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="faultproxy")

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, self.host, 0, backlog=1024))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._server.close()

    # --- one request -----------------------------------------------------------------------
    def _choose(self) -> str | None:
        if not self.enabled or self.rng.random() >= self.rate:
            return None
        kinds = list(self.weights)
        return self.rng.choices(kinds, [self.weights[k] for k in kinds])[0]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            request = await _read_request(reader)
            if request is None:
                return
            self.requests += 1
            fault = self._choose()
            if fault:
                self.faults[fault] += 1
            if fault == "drop_request":
                return
            if fault == "delay":
                await asyncio.sleep(self.rng.uniform(0.05, 0.8))
            if fault == "reorder":
                await self._reorder()
            else:
                self._release_held()
            answer = await self._forward(request)
            if fault == "duplicate" and answer is not None:
                answer = await self._forward(request) or answer
            if answer is None or fault == "drop_response":
                return
            writer.write(answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            writer.close()

    async def _reorder(self) -> None:
        """Hold this request until the next one has gone first (or 300 ms)."""
        previous, self._held = self._held, asyncio.get_running_loop().create_future()
        if previous is not None and not previous.done():
            previous.set_result(None)
        held = self._held
        try:
            await asyncio.wait_for(asyncio.shield(held), 0.3)
        except asyncio.TimeoutError:
            pass
        await asyncio.sleep(0.02)  # let the later request reach the server first

    def _release_held(self) -> None:
        held, self._held = self._held, None
        if held is not None and not held.done():
            held.set_result(None)

    async def _forward(self, request: bytes) -> bytes | None:
        upstream = next(self._next)
        self.forwarded[upstream[1]] += 1
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(*upstream), 5)
        except (OSError, asyncio.TimeoutError):
            return None
        try:
            writer.write(request)
            await writer.drain()
            return await asyncio.wait_for(reader.read(-1), 30)  # the server closes after it
        except (OSError, asyncio.TimeoutError):
            return None
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    length = 0
    lines = head.split(b"\r\n")
    out = [lines[0]]
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"connection":
            continue
        out.append(line)
    out.append(b"Connection: close")
    body = await reader.readexactly(length) if length else b""
    return b"\r\n".join(out) + b"\r\n\r\n" + body
