"""Run the benchmark: ``scripts/bench [--quick] [--profile]`` (see scripts/bench)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
import json
from pathlib import Path
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from aiohttp import ClientSession

from . import flows, report
from .ha import ROOT, HomeAssistant, free_port

ART = ROOT / "artifacts" / "bench"
PYTHON = sys.executable


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Server:
    """The API/OAuth server, in its own process (its CPU is nobody's)."""

    def __init__(self) -> None:
        """Pick a port."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.session: ClientSession | None = None

    async def start(self) -> None:
        """Start and wait until it answers."""
        self.proc = subprocess.Popen(  # noqa: ASYNC220
            [PYTHON, "-m", "bench.server", "--port", str(self.port)], cwd=ROOT
        )
        self.session = ClientSession()
        for _ in range(100):
            try:
                await self.stats()
                return
            except OSError:
                await asyncio.sleep(0.1)
        raise RuntimeError("the bench server did not start")

    async def stop(self) -> None:
        """Stop it."""
        if self.session is not None:
            await self.session.close()
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()

    async def stats(self) -> dict[str, int]:
        """Request counters."""
        assert self.session is not None
        async with self.session.get(f"{self.url}/bench/stats") as resp:
            return dict(await resp.json())

    async def post(self, path: str, payload: Any = None) -> None:
        """Steer it."""
        assert self.session is not None
        async with self.session.post(f"{self.url}{path}", json=payload or {}) as resp:
            resp.raise_for_status()


class Meter:
    """CPU of one Home Assistant over windows of wall time, against the server's counts."""

    def __init__(self, ha: HomeAssistant, server: Server) -> None:
        """Measure ``ha``; count polls at ``server``."""
        self.ha = ha
        self.server = server
        self.idle_rate = 0.0

    async def window(self, seconds: float) -> tuple[float, float, int]:
        """CPU seconds, wall seconds and API requests (200 + 304) over one window."""
        s0 = await self.server.stats()
        c0, t0 = self.ha.cpu(), time.monotonic()
        await asyncio.sleep(seconds)
        c1, t1 = self.ha.cpu(), time.monotonic()
        s1 = await self.server.stats()
        polls = (s1["api_200"] + s1["api_304"]) - (s0["api_200"] + s0["api_304"])
        return c1 - c0, t1 - t0, polls

    async def idle(self, windows: int, seconds: float) -> float:
        """The idle CPU rate (CPU seconds per second): median over windows."""
        rates = []
        for _ in range(windows):
            cpu, wall, _ = await self.window(seconds)
            rates.append(cpu / wall)
        self.idle_rate = statistics.median(rates)
        return self.idle_rate

    async def per_poll(self, windows: int, seconds: float) -> dict[str, float]:
        """CPU ms per poll, idle subtracted: median over windows (and the spread)."""
        samples = []
        polls_total = 0
        for _ in range(windows):
            cpu, wall, polls = await self.window(seconds)
            polls_total += polls
            if polls:
                samples.append((cpu - self.idle_rate * wall) / polls * 1000)
        return {
            "ms": statistics.median(samples) if samples else float("nan"),
            "min": min(samples, default=float("nan")),
            "max": max(samples, default=float("nan")),
            "polls": polls_total,
        }


def floor(server: Server, endpoints: int, values: int, polls: int) -> float:
    """The bare aiohttp loop's CPU ms per poll (median of 3 runs)."""
    samples = []
    for _ in range(3):
        out = subprocess.run(
            [
                PYTHON,
                "-m",
                "bench.floor",
                f"--url={server.url}/api/data",
                f"--endpoints={endpoints}",
                f"--values={values}",
                f"--polls={polls}",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout)
        samples.append(result["cpu_s"] / result["polls"] * 1000)
    return statistics.median(samples)


async def profile(ha: HomeAssistant, seconds: int, name: str) -> str:
    """py-spy samples of Home Assistant while it polls (collapsed stacks file)."""
    assert ha.proc is not None
    out = ART / f"profile-{name}.txt"
    proc = await asyncio.create_subprocess_exec(
        str(Path(PYTHON).parent / "py-spy"),
        "record",
        "--pid",
        str(ha.proc.pid),
        "--duration",
        str(seconds),
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        str(out),
        "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await proc.wait()
    return str(out.relative_to(ROOT))


type Step = Callable[[], Coroutine[Any, Any, None]]


class Bench:
    """One run: every figure, into ``self.results``."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Settings of this run."""
        self.quick: bool = args.quick
        self.sizes: list[int] = args.sizes or (
            [1, 10] if args.quick else [1, 50, 200, 500]
        )
        self.only: set[str] = set(args.only or ("floor", "rest", "ours"))
        self.windows = 2 if args.quick else 3
        self.window_s = float(flows.INTERVAL)
        self.concurrent_calls = 200 if args.quick else 1000
        self.profile: bool = args.profile
        self.integration: Path = args.integration.resolve()
        self.tmp = Path(tempfile.mkdtemp(prefix="oauth2-rest-bench-"))
        self.server = Server()
        self.results: dict[str, Any] = {
            "quick": self.quick,
            "sizes": self.sizes,
            "interval_s": flows.INTERVAL,
            "windows": self.windows,
            "window_s": self.window_s,
            "floor": {},
            "rest": {},
            "ours": {},
            "profiles": {},
            "integration": str(args.integration),
        }

    async def run(self) -> None:
        """Everything, one after the other, on one server."""
        started = time.monotonic()
        await self.server.start()
        try:
            if "floor" in self.only:
                self.measure_floor()
            for values in (1, 5):
                if "rest" in self.only:
                    await self.measure_rest(values)
                if "ours" in self.only:
                    await self.measure_ours(values)
        finally:
            await self.server.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.results["duration_s"] = round(time.monotonic() - started)

    def measure_floor(self) -> None:
        """The bare loop, at every size."""
        for values in (1, 5):
            for size in self.sizes:
                ms = floor(self.server, size, values, max(1000, size * 4))
                self.results["floor"][f"{size}x{values}"] = {"ms": ms}
                log(f"floor {size}x{values}: {ms:.3f} ms/poll")

    async def _ha(self, name: str, extra_yaml: str = "") -> tuple[HomeAssistant, Meter]:
        ha = HomeAssistant(self.tmp / name, self.integration, extra_yaml)
        startup = await ha.start()
        await ha.wait_running()
        log(f"{name}: Home Assistant up in {startup:.1f} s (pid {ha.ps and ha.ps.pid})")
        await asyncio.sleep(3)  # let start-up work settle
        meter = Meter(ha, self.server)
        idle = await meter.idle(self.windows, self.window_s)
        log(f"{name}: idle {idle * 1000:.2f} ms CPU per s")
        return ha, meter

    async def measure_rest(self, values: int) -> None:
        """Core rest: N resources with a static bearer header, ``values`` sensors each."""
        name = f"rest-{values}"
        config = self.tmp / name
        config.mkdir(parents=True)
        (config / "rest.yaml").write_text("[]")
        ha, meter = await self._ha(name, "rest: !include rest.yaml\n")
        out: dict[str, Any] = {"idle_ms_per_s": meter.idle_rate * 1000, "sizes": {}}
        try:
            rss0 = ha.rss()
            for size in self.sizes:
                (config / "rest.yaml").write_text(
                    flows.rest_yaml(self.server.url, size, values)
                )
                t0 = time.monotonic()
                await ha.call_service("rest", "reload")
                await ha.wait_state(f"sensor.r{size:04d}_v1")
                setup = time.monotonic() - t0
                await asyncio.sleep(self.window_s + 2)
                poll = await meter.per_poll(self.windows, self.window_s)
                rss = ha.rss()
                out["sizes"][str(size)] = {
                    "poll": poll,
                    "setup_s": setup,
                    "rss_mb": rss / 2**20,
                    "mem_kb_per_endpoint": (rss - rss0) / size / 1024,
                }
                log(f"{name} N={size}: {poll['ms']:.3f} ms/poll, setup {setup:.2f} s")
            if self.profile:
                self.results["profiles"][name] = await profile(ha, 20, name)
        finally:
            await ha.stop()
        self.results["rest"][str(values)] = out

    async def measure_ours(self, values: int) -> None:
        """Ours: one account, N endpoints added one by one through the subentry flow."""
        name = f"ours-{values}"
        ha, meter = await self._ha(name)
        out: dict[str, Any] = {
            "idle_ms_per_s": meter.idle_rate * 1000,
            "sizes": {},
            "add_s": [],
            "add_retries": 0,
        }
        try:
            rss0 = ha.rss()
            tokens0 = (await self.server.stats())["token"]
            entry_id = await flows.link_account(ha, self.server.url)
            count = 0
            for size in self.sizes:
                while count < size:
                    count += 1
                    seconds, retries = await flows.add_endpoint(
                        ha, entry_id, count, values
                    )
                    out["add_s"].append(seconds)
                    out["add_retries"] += retries
                log(f"{name}: {count} endpoints; last added in {seconds:.2f} s")
                await asyncio.sleep(self.window_s + 2)
                poll = await meter.per_poll(self.windows, self.window_s)
                rss = ha.rss()
                setups = [await flows.reload_entry(ha, entry_id) for _ in range(2)]
                out["sizes"][str(size)] = {
                    "poll": poll,
                    "setup_s": statistics.median(setups),
                    "rss_mb": rss / 2**20,
                    "mem_kb_per_endpoint": (rss - rss0) / size / 1024,
                }
                log(
                    f"{name} N={size}: {poll['ms']:.3f} ms/poll, "
                    f"setup {out['sizes'][str(size)]['setup_s']:.2f} s"
                )
                await asyncio.sleep(self.window_s + 2)
            # The same endpoints, the document unchanged: 304s.
            await self.server.post("/bench/mode", {"mode": "etag"})
            await asyncio.sleep(2 * self.window_s + 2)
            out["not_modified"] = await meter.per_poll(self.windows, self.window_s)
            log(f"{name}: 304 poll {out['not_modified']['ms']:.3f} ms")
            if self.profile:
                self.results["profiles"][f"{name}-304"] = await profile(
                    ha, 20, f"{name}-304"
                )
            await self.server.post("/bench/mode", {"mode": "full"})
            await asyncio.sleep(self.window_s + 2)
            if self.profile:
                self.results["profiles"][name] = await profile(ha, 20, name)
            if values == 1:
                out["concurrent"] = await self.concurrent(ha, entry_id)
            out["token_requests"] = (await self.server.stats())["token"] - tokens0
        finally:
            await ha.stop()
        self.results["ours"][str(values)] = out

    async def concurrent(self, ha: HomeAssistant, entry_id: str) -> dict[str, Any]:
        """Every access token dies at once, then many actions call the API together."""
        await self.server.post("/bench/expire")
        before = (await self.server.stats())["token"]
        ok, seconds = await flows.concurrent_requests(
            ha, entry_id, self.concurrent_calls
        )
        tokens = (await self.server.stats())["token"] - before
        log(
            f"{self.concurrent_calls} concurrent actions after the token died: "
            f"{ok} ok, {tokens} token request(s), {seconds:.2f} s"
        )
        return {
            "calls": self.concurrent_calls,
            "succeeded": ok,
            "token_requests": tokens,
            "seconds": seconds,
        }


def main() -> None:
    """Parse the arguments, run, write the results."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small N, one window: a smoke run"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also record py-spy profiles (artifacts/bench/profile-*.txt)",
    )
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        help="endpoint counts, e.g. 50,200 (default 1,50,200,500; --quick 1,10)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=("floor", "rest", "ours"),
        help="measure only these (repeatable); a partial run writes artifacts/bench/",
    )
    parser.add_argument(
        "--integration",
        type=Path,
        default=ROOT / "custom_components" / "oauth2_rest",
        help="the oauth2_rest to measure (e.g. an older version exported elsewhere)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ART / "results.json",
        help="where the results go (default artifacts/bench/results.json)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite the report from artifacts/bench/results.json",
    )
    args = parser.parse_args()
    ART.mkdir(parents=True, exist_ok=True)
    results_file: Path = args.out
    if not args.report_only:
        bench = Bench(args)
        bench.results["machine"] = report.machine()
        bench.results["command"] = " ".join(["scripts/bench", *sys.argv[1:]])
        asyncio.run(bench.run())
        results_file.write_text(json.dumps(bench.results, indent=1))
    results = json.loads(results_file.read_text())
    complete = not (
        args.quick or args.sizes or args.only or args.out != ART / "results.json"
    )
    written = report.write(results, publish=complete and not results["quick"])
    for path in written:
        log(f"wrote {path}")


if __name__ == "__main__":
    main()
