"""The Python floor: a bare aiohttp loop that polls the API and reads values from the JSON.

(Home Assistant's floor, an integration doing the least for the same polls, is
``bench/custom_components/bench_floor``.)

Prints ``{"cpu_s": ..., "polls": ...}``: the CPU time of the polling loop alone (no
start-up), N endpoints polled concurrently round after round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from aiohttp import ClientSession, ClientTimeout
import orjson

from .flows import VALUES
from .server import STATIC_TOKEN

PATHS = tuple(path for _, _, path, _ in VALUES)


async def poll_once(session: ClientSession, url: str, values: int) -> list[str]:
    """One poll: GET with the bearer token, parse, read ``values`` values."""
    async with session.get(
        url,
        headers={"Authorization": f"Bearer {STATIC_TOKEN}"},
        timeout=ClientTimeout(total=30),
    ) as resp:
        resp.raise_for_status()
        data = orjson.loads(await resp.read())
    out = []
    for path in PATHS[:values]:
        node: Any = data
        for key in path:
            node = node[key]
        out.append(str(node))
    return out


async def run(url: str, endpoints: int, values: int, polls: int) -> dict[str, float]:
    """Poll ``endpoints`` at a time until ``polls`` polls were made."""
    async with ClientSession() as session:
        await poll_once(session, url, values)  # warm up the connection pool
        done = 0
        start = time.process_time()
        while done < polls:
            await asyncio.gather(
                *(poll_once(session, url, values) for _ in range(endpoints))
            )
            done += endpoints
        return {"cpu_s": time.process_time() - start, "polls": done}


def main() -> None:
    """Run and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--endpoints", type=int, default=1)
    parser.add_argument("--values", type=int, default=1)
    parser.add_argument("--polls", type=int, default=1000)
    args = parser.parse_args()
    print(
        json.dumps(asyncio.run(run(args.url, args.endpoints, args.values, args.polls)))
    )


if __name__ == "__main__":
    main()
