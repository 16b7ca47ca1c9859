"""Why polls share ticks: what waking the event loop per request costs.

``python -m bench.wakeups`` starts the bench API server and, in one process, polls
it the way N coordinators would: every endpoint once per interval, in groups of G
endpoints that fall due at the same moment (G = 1: every poll has its own timer,
as Home Assistant's coordinators do). Prints the CPU per poll for each G, with the
same aiohttp session and JSON parsing throughout: only the grouping changes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

from aiohttp import ClientSession, ClientTimeout
import orjson

from .ha import ROOT, free_port
from .server import STATIC_TOKEN


async def measure(
    url: str, endpoints: int, group: int, interval: float, seconds: float, limit: int
) -> float:
    """CPU ms per poll with ``endpoints`` polling in groups of ``group``."""
    loop = asyncio.get_running_loop()
    headers = {"Authorization": f"Bearer {STATIC_TOKEN}"}
    in_flight = asyncio.Semaphore(limit)
    polls = 0
    stopped = False

    async with ClientSession() as session:

        async def poll() -> None:
            nonlocal polls
            async with (
                in_flight,
                session.get(
                    url, headers=headers, timeout=ClientTimeout(total=30)
                ) as resp,
            ):
                body = await resp.read()
            orjson.loads(body)
            polls += 1

        tasks: set[asyncio.Task[None]] = set()

        def fire(when: float) -> None:
            if stopped:
                return
            task = loop.create_task(poll())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            loop.call_at(when + interval, fire, when + interval)

        await poll()  # a connection in the pool
        start = loop.time() + 0.5
        for n in range(endpoints):
            # Groups of ``group`` share a due time; groups spread over the interval.
            when = start + (n // group) * group * interval / endpoints
            loop.call_at(when, fire, when)
        await asyncio.sleep(interval + 1)  # every endpoint has polled once
        cpu0, polls0 = time.process_time(), polls
        await asyncio.sleep(seconds)
        cpu1, polls1 = time.process_time(), polls
        stopped = True
        await asyncio.gather(*tasks)
    return (cpu1 - cpu0) / max(1, polls1 - polls0) * 1000


def main() -> None:
    """Start the server, measure each group size, print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoints", type=int, default=200)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--limit", type=int, default=16, help="requests in flight")
    parser.add_argument(
        "--groups",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2, 5, 10, 25, 50, 200],
    )
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(  # its CPU is not ours
        [sys.executable, "-m", "bench.server", "--port", str(port)], cwd=ROOT
    )
    try:
        time.sleep(2)
        url = f"http://127.0.0.1:{port}/api/data"
        results = {
            group: asyncio.run(
                measure(
                    url,
                    args.endpoints,
                    group,
                    args.interval,
                    args.seconds,
                    args.limit,
                )
            )
            for group in args.groups
        }
    finally:
        server.terminate()
        server.wait()
    print("| polls due together | CPU per poll (ms) |")
    print("| ---: | ---: |")
    for group, ms in results.items():
        print(f"| {group} | {ms:.3f} |")
    print(json.dumps({"endpoints": args.endpoints, "ms_per_poll": results}))


if __name__ == "__main__":
    main()
