"""Run the benchmark: ``scripts/bench [--quick] [--profile]`` (see scripts/bench)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
import shutil
import signal
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
STEADY_INTERVAL = 60  # seconds: the steady-state figure of issue 13 (500 x 5 values)
PYTHON = sys.executable
# Each Home Assistant measured side by side: its YAML, and the server's name for
# its requests (core rest and the floor send static tokens, ours issued ones).
KINDS = ("floor", "rest", "ours")
# The tracemalloc pass also has core rest with unique ids (its sensors then in the
# entity registry, as ours are).
MEMORY_KINDS = (*KINDS, "rest_uid")
CLIENTS = {"floor": "floor", "rest": "static", "ours": "oauth", "rest_uid": "static"}
YAML = {
    "floor": "bench_floor:\nsensor: !include floor.yaml\n",
    "rest": "rest: !include rest.yaml\n",
    "ours": "",
    "rest_uid": "rest: !include rest_uid.yaml\n",
}
# Whose code allocated (tracemalloc, by owner): the innermost frame in these.
MEMORY_OWNERS = (
    "/custom_components/oauth2_rest/",
    "/homeassistant/components/rest/",
    "/custom_components/bench_floor/",
)
TRACEMALLOC_FRAMES = 30


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
    """CPU of one Home Assistant, against the polls the server counted for its client."""

    def __init__(self, name: str, ha: HomeAssistant, client: str) -> None:
        """Measure ``ha``; its polls are the server's ``client`` requests."""
        self.name = name
        self.ha = ha
        self.client = client
        self.idle_rate = 0.0

    def polls(self, stats: dict[str, int]) -> int:
        """API requests answered 200 or 304 to this client so far."""
        return stats[f"{self.client}_200"] + stats[f"{self.client}_304"]


async def sample_windows(
    server: Server, meters: list[Meter], windows: int, seconds: float
) -> list[dict[str, tuple[float, float, int]]]:
    """Per window of wall time, per meter: (CPU seconds, wall seconds, polls)."""
    out = []
    for _ in range(windows):
        s0 = await server.stats()
        c0 = {m.name: m.ha.cpu() for m in meters}
        t0 = time.monotonic()
        await asyncio.sleep(seconds)
        c1 = {m.name: m.ha.cpu() for m in meters}
        wall = time.monotonic() - t0
        s1 = await server.stats()
        out.append(
            {
                m.name: (c1[m.name] - c0[m.name], wall, m.polls(s1) - m.polls(s0))
                for m in meters
            }
        )
    return out


async def measure(
    server: Server,
    meters: list[Meter],
    windows: int,
    seconds: float,
    idle: bool = False,
) -> dict[str, dict[str, float]]:
    """Side by side: every meter over the same windows of wall time.

    ``idle``: set each meter's idle rate (CPU s per s, median). Otherwise return,
    per meter, CPU ms per poll with the idle rate subtracted (median of windows).
    """
    samples: dict[str, list[float]] = {m.name: [] for m in meters}
    polls: dict[str, int] = dict.fromkeys(samples, 0)
    for window in await sample_windows(server, meters, windows, seconds):
        for m in meters:
            cpu, wall, n = window[m.name]
            if idle:
                samples[m.name].append(cpu / wall)
                continue
            polls[m.name] += n
            if n:
                samples[m.name].append((cpu - m.idle_rate * wall) / n * 1000)
    out: dict[str, dict[str, float]] = {}
    for m in meters:
        values = samples[m.name]
        if idle:
            m.idle_rate = statistics.median(values)
            out[m.name] = {"ms_per_s": m.idle_rate * 1000}
            continue
        out[m.name] = {
            "ms": statistics.median(values) if values else float("nan"),
            "min": min(values, default=float("nan")),
            "max": max(values, default=float("nan")),
            "polls": polls[m.name],
        }
    return out


def bare(server: Server, endpoints: int, values: int, polls: int) -> float:
    """The bare aiohttp loop's CPU ms per poll (median of 3 runs)."""
    samples = []
    for _ in range(3):
        out = subprocess.run(
            [
                PYTHON,
                "-m",
                "bench.bare",
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
        "1000",
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


class Bench:
    """One run: every figure, into ``self.results``."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Settings of this run."""
        self.quick: bool = args.quick
        self.sizes: list[int] = args.sizes or (
            [1, 10] if args.quick else [1, 50, 200, 500]
        )
        self.only: set[str] = set(args.only or ("bare", *KINDS, "memory"))
        self.memory_of: set[str] = set(args.memory_of or MEMORY_KINDS)
        self.values: list[int] = args.values or [1, 5]
        self.out: Path = args.out
        self.windows = args.windows or (2 if args.quick else 5)
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
            "bare": {},
            "floor": {},
            "rest": {},
            "ours": {},
            "memory": {},
            "profiles": {},
            "integration": str(args.integration),
        }

    async def run(self) -> None:
        """Everything on one server; the floor, core rest and ours side by side."""
        started = time.monotonic()
        await self.server.start()
        try:
            if "bare" in self.only:
                self.measure_bare()
                self.save()
            for values in self.values:
                if self.only & set(KINDS):
                    await self.measure_side_by_side(values)
                    self.save()
            if "memory" in self.only:
                for values in self.values:
                    await self.measure_memory(values)
                    self.save()
        finally:
            await self.server.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.results["duration_s"] = round(time.monotonic() - started)

    def save(self) -> None:
        """Write the results so far (a run that fails later keeps them)."""
        self.out.write_text(json.dumps(self.results, indent=1))

    def measure_bare(self) -> None:
        """The bare loop, at every size."""
        for values in self.values:
            for size in self.sizes:
                ms = bare(self.server, size, values, max(1000, size * 4))
                self.results["bare"][f"{size}x{values}"] = {"ms": ms}
                log(f"bare {size}x{values}: {ms:.3f} ms/poll")

    def instances(
        self, name: str, kinds: set[str], extra_yaml: str = ""
    ) -> dict[str, HomeAssistant]:
        """A Home Assistant for each of ``kinds``, in config dirs under ``name``."""
        instances = {}
        for kind in MEMORY_KINDS:
            if kind in kinds:
                config_dir = self.tmp / f"{kind}-{name}"
                config_dir.mkdir(parents=True)
                (config_dir / f"{kind}.yaml").write_text("[]")
                instances[kind] = HomeAssistant(
                    config_dir, self.integration, YAML[kind] + extra_yaml
                )
        return instances

    async def set_yaml_size(
        self, kind: str, ha: HomeAssistant, size: int, values: int, interval: int
    ) -> float:
        """Core rest or the floor reloaded with ``size`` resources.

        Returns the seconds until the last one has a state.
        """
        url = self.server.url
        if kind in ("rest", "rest_uid"):
            text = flows.rest_yaml(
                url, size, values, interval, unique_ids=kind == "rest_uid"
            )
            domain, prefix = "rest", "r"
        else:
            text = flows.floor_yaml(url, size, values, interval)
            domain, prefix = "bench_floor", "f"
        (ha.dir / f"{kind}.yaml").write_text(text)
        t0 = time.monotonic()
        await ha.call_service(domain, "reload")
        await ha.wait_state(f"sensor.{prefix}{size:04d}_v1")
        return time.monotonic() - t0

    async def measure_side_by_side(self, values: int) -> None:
        """The floor, core rest and ours, each in its own Home Assistant, measured together."""
        instances = self.instances(str(values), self.only)
        meters = [Meter(kind, ha, CLIENTS[kind]) for kind, ha in instances.items()]
        out: dict[str, dict[str, Any]] = {
            name: {"sizes": {}, "add_s": [], "add_retries": 0} for name in instances
        }
        try:
            await asyncio.gather(*(ha.start() for ha in instances.values()))
            await asyncio.gather(*(ha.wait_running() for ha in instances.values()))
            log(f"{values} value(s): Home Assistant up: {', '.join(instances)}")
            await asyncio.sleep(3)  # let start-up work settle
            idle = await measure(
                self.server, meters, self.windows, self.window_s, idle=True
            )
            for name, figures in idle.items():
                out[name]["idle_ms_per_s"] = figures["ms_per_s"]
            log(f"idle: {idle}")
            rss0 = {name: ha.rss() for name, ha in instances.items()}
            tokens0 = (await self.server.stats())["token"]
            entry_id = ""
            if "ours" in instances:
                entry_id = await flows.link_account(instances["ours"], self.server.url)
            count = 0
            for size in self.sizes:
                sizes: dict[str, dict[str, Any]] = {name: {} for name in instances}
                for kind in ("rest", "floor"):
                    if kind in instances:
                        sizes[kind]["setup_s"] = await self.set_yaml_size(
                            kind, instances[kind], size, values, flows.INTERVAL
                        )
                if "ours" in instances:
                    while count < size:
                        count += 1
                        seconds, retries = await flows.add_endpoint(
                            instances["ours"], entry_id, count, values
                        )
                        out["ours"]["add_s"].append(seconds)
                        out["ours"]["add_retries"] += retries
                if "ours" in instances:
                    # Setup time; and like core rest's (just reloaded), every
                    # endpoint's timer now starts together.
                    setups = [
                        await flows.reload_entry(instances["ours"], entry_id)
                        for _ in range(2)
                    ]
                    sizes["ours"]["setup_s"] = statistics.median(setups)
                await asyncio.sleep(self.window_s + 2)
                static = await measure(self.server, meters, self.windows, self.window_s)
                await self.server.post("/bench/mode", {"mode": "changing"})
                await asyncio.sleep(1)
                changing = await measure(
                    self.server, meters, self.windows, self.window_s
                )
                await self.server.post("/bench/mode", {"mode": "static"})
                for name, ha in instances.items():
                    rss = ha.rss()
                    sizes[name].update(
                        static=static[name],
                        changing=changing[name],
                        rss_mb=rss / 2**20,
                        mem_kb_per_endpoint=(rss - rss0[name]) / size / 1024,
                    )
                for name in instances:
                    out[name]["sizes"][str(size)] = sizes[name]
                log(
                    f"{values} value(s), N={size}: "
                    + "; ".join(
                        f"{name} {sizes[name]['static']['ms']:.3f} (unchanged) / "
                        f"{sizes[name]['changing']['ms']:.3f} (changing) ms/poll, "
                        f"setup {sizes[name].get('setup_s', float('nan')):.2f} s"
                        for name in instances
                    )
                )
            if "ours" in instances:
                await self.measure_ours_extra(
                    instances["ours"], meters, entry_id, values, out["ours"]
                )
                out["ours"]["token_requests"] = (await self.server.stats())[
                    "token"
                ] - tokens0
            if self.profile:
                await self.server.post("/bench/mode", {"mode": "changing"})
                await asyncio.sleep(2)
                paths = await asyncio.gather(
                    *(
                        profile(ha, 30, f"{name}-{values}-changing")
                        for name, ha in instances.items()
                    )
                )
                await self.server.post("/bench/mode", {"mode": "static"})
                for name, path in zip(instances, paths, strict=True):
                    self.results["profiles"][f"{name}-{values}-changing"] = path
            # Last: it sets every endpoint to a longer interval.
            if values == 5 and not self.quick:
                await self.measure_steady(instances, meters, entry_id, out)
        finally:
            await asyncio.gather(*(ha.stop() for ha in instances.values()))
            for name, ha in instances.items():
                ha.keep_logs(ART / "logs" / f"{name}-{values}")
        for name, figures in out.items():
            self.results[name][str(values)] = figures

    async def measure_steady(
        self,
        instances: dict[str, HomeAssistant],
        meters: list[Meter],
        entry_id: str,
        out: dict[str, dict[str, Any]],
    ) -> None:
        """The largest N polling every minute: the whole process's CPU, % of a core.

        Core rest and the floor are reloaded with the new interval; ours has every
        endpoint edited through its reconfigure flow, then the account reloaded (as
        after a restart). Measured side by side over windows of one interval.
        """
        size = self.sizes[-1]
        values = 5
        for kind in ("rest", "floor"):
            if kind in instances:
                await self.set_yaml_size(
                    kind, instances[kind], size, values, STEADY_INTERVAL
                )
        if "ours" in instances:
            await flows.set_interval(instances["ours"], entry_id, STEADY_INTERVAL)
            await flows.reload_entry(instances["ours"], entry_id)
        await self.server.post("/bench/mode", {"mode": "changing"})
        await asyncio.sleep(STEADY_INTERVAL + 2)
        windows = await sample_windows(
            self.server, meters, self.windows, STEADY_INTERVAL
        )
        await self.server.post("/bench/mode", {"mode": "static"})
        for m in meters:
            figures = [window[m.name] for window in windows]
            out[m.name]["steady"] = {
                "endpoints": size,
                "values": values,
                "interval_s": STEADY_INTERVAL,
                "cpu_pct": statistics.median(
                    cpu / wall * 100 for cpu, wall, _ in figures
                ),
                "idle_pct": m.idle_rate * 100,
                "polls_per_min": sum(n for _, _, n in figures) / self.windows,
            }
            log(f"steady {m.name}: {out[m.name]['steady']}")

    async def measure_memory(self, values: int) -> None:
        """Where memory goes at the largest N: tracemalloc and gc, in fresh Home Assistants.

        Tracing slows every allocation down, so these instances are not the ones
        whose CPU is measured. Each gets its first endpoint (what is paid once:
        modules, platforms, caches), polls for an interval, is marked (tracemalloc
        started, a baseline), then gets the others as in the CPU run (ours: one by
        one through the flows, then the account reloaded), polls for one interval
        and reports what was added, divided by the endpoints added.
        """
        size = self.sizes[-1]
        instances = self.instances(f"memory-{values}", self.memory_of, "bench_probe:\n")
        out: dict[str, Any] = {"size": size, "added": size - 1}
        try:
            await asyncio.gather(*(ha.start() for ha in instances.values()))
            await asyncio.gather(*(ha.wait_running() for ha in instances.values()))
            entry_id = ""
            if "ours" in instances:
                entry_id = await flows.link_account(instances["ours"], self.server.url)
            # The first endpoint: what is paid once (modules, platforms, caches).
            for kind, ha in instances.items():
                if kind == "ours":
                    await flows.add_endpoint(ha, entry_id, 1, values)
                else:
                    await self.set_yaml_size(kind, ha, 1, values, flows.INTERVAL)
            await asyncio.sleep(self.window_s + 2)
            for ha in instances.values():
                await ha.call_service(
                    "bench_probe", "mark", {"frames": TRACEMALLOC_FRAMES}
                )
            log(f"memory, {values} value(s): marked; adding {size - 1} endpoints")
            # Ours first (its flows take longest), so that the others do not
            # poll N endpoints under tracing meanwhile.
            for kind, ha in sorted(
                instances.items(), key=lambda item: item[0] != "ours"
            ):
                if kind == "ours":
                    for index in range(2, size + 1):
                        await flows.add_endpoint(ha, entry_id, index, values)
                    await flows.reload_entry(ha, entry_id)
                else:
                    await self.set_yaml_size(kind, ha, size, values, flows.INTERVAL)
            await asyncio.sleep(self.window_s + 2)
            added = size - 1
            for kind, ha in instances.items():
                answer = await ha.api(
                    "POST",
                    "/api/services/bench_probe/report?return_response",
                    {"top": 40, "owners": list(MEMORY_OWNERS)},
                    # The snapshot of 500 x 5 entities under tracing took over 300 s
                    # on a busy 2-core machine.
                    timeout=1800,
                )
                out[kind] = answer["service_response"]
                log(
                    f"memory, {values} value(s), N={size}: {kind} "
                    f"{out[kind]['traced_bytes'] / added / 1024:.1f} KB/endpoint traced"
                )
        finally:
            await asyncio.gather(*(ha.stop() for ha in instances.values()))
            for name, ha in instances.items():
                ha.keep_logs(ART / "logs" / f"{name}-memory-{values}")
        self.results["memory"][str(values)] = out

    async def measure_ours_extra(
        self,
        ha: HomeAssistant,
        meters: list[Meter],
        entry_id: str,
        values: int,
        out: dict[str, Any],
    ) -> None:
        """304 polls (same document, with an ETag), profiles, concurrent actions."""
        ours = [m for m in meters if m.name == "ours"]
        await self.server.post("/bench/mode", {"mode": "etag"})
        await asyncio.sleep(2 * self.window_s + 2)  # one 200 with the ETag, then 304s
        out["not_modified"] = (
            await measure(self.server, ours, self.windows, self.window_s)
        )["ours"]
        log(f"ours, {values} value(s): 304 poll {out['not_modified']['ms']:.3f} ms")
        if self.profile:
            self.results["profiles"][f"ours-{values}-304"] = await profile(
                ha, 30, f"ours-{values}-304"
            )
        await self.server.post("/bench/mode", {"mode": "static"})
        await asyncio.sleep(self.window_s + 2)
        if self.profile:
            self.results["profiles"][f"ours-{values}-unchanged"] = await profile(
                ha, 30, f"ours-{values}-unchanged"
            )
        if values == 1:
            out["concurrent"] = await self.concurrent(ha, entry_id)

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


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # asyncio.run cancels the run: every finally stops its HA


def main() -> None:
    """Parse the arguments, run, write the results."""
    signal.signal(signal.SIGTERM, _interrupt)
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
        choices=("bare", *KINDS, "memory"),
        help="measure only these (repeatable): the bare loop, the floor integration, "
        "core rest, ours (side by side), the tracemalloc pass (see --memory-of); "
        "a partial run writes artifacts/bench/",
    )
    parser.add_argument(
        "--values",
        type=lambda text: [int(n) for n in text.split(",")],
        choices=([1], [5], [1, 5]),
        help="values per endpoint: 1, 5 or 1,5 (default)",
    )
    parser.add_argument(
        "--memory-of",
        action="append",
        choices=MEMORY_KINDS,
        help="the Home Assistants of the tracemalloc pass (repeatable; default all; "
        "rest_uid: core rest with unique ids)",
    )
    parser.add_argument(
        "--windows",
        type=int,
        help="measurement windows per figure, the median is kept (default 5; --quick 2)",
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
        bench.save()
    results = json.loads(results_file.read_text())
    complete = not (
        args.quick
        or args.sizes
        or args.only
        or args.memory_of
        or args.values
        or args.out != ART / "results.json"
    )
    written = report.write(results, publish=complete and not results["quick"])
    for path in written:
        log(f"wrote {path}")


if __name__ == "__main__":
    main()
