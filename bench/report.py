"""BENCHMARKS.md tables and the docs/bench.png plot, from a run's results."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
import os
from pathlib import Path
import platform
import statistics
import subprocess
import time
from typing import Any

from .ha import ROOT

BEGIN = "<!-- bench:begin (written by scripts/bench; edit around it) -->"
END = "<!-- bench:end -->"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args: str) -> str:
    """A git command's output in the checkout ('' when git fails)."""
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "load_at_start": os.getloadavg()[0],
        "memory_gb": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
        ),
        "python": platform.python_version(),
        "homeassistant": version("homeassistant"),
        "aiohttp": version("aiohttp"),
        "commit": commit + ("+changes" if dirty else ""),
    }


def _f(value: float | None, digits: int = 3) -> str:
    if value is None or value != value:  # noqa: PLR0124 - NaN
        return "—"
    return f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    """A CPU-per-poll figure; one at or below zero is idle noise (N = 1)."""
    if value is not None and value <= 0:
        return "noise"
    return _f(value)


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b or a != a or b != b or a <= 0 or b <= 0:  # noqa: PLR0124
        return "—"
    return f"{a / b:.2f}×"


def _size(results: dict[str, Any], kind: str, values: str, size: str) -> dict[str, Any]:
    return dict(results.get(kind, {}).get(values, {}).get("sizes", {}).get(size, {}))


KINDS = ("floor", "rest", "ours")
LABELS = {"floor": "HA floor", "rest": "core `rest`", "ours": "`oauth2_rest`"}
MEMORY_TABLES = (
    (
        "by_type",
        "by type (objects the garbage collector tracks, their shallow size; "
        "dicts, strings and numbers it does not track are only in the next tables)",
    ),
    ("by_file", "by the file of the line that allocated (tracemalloc)"),
    (
        "by_owner",
        "by owner: the innermost line of the integration's own code in the "
        "allocation's stack (tracemalloc, 30 frames), else the file that allocated",
    ),
)


def _cell(text: str) -> str:
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def memory_tables(results: dict[str, Any]) -> list[str]:
    """Where the bytes of an endpoint go (the tracemalloc pass), ours beside core rest."""
    memory = results.get("memory") or {}
    if not memory:
        return []
    any_run = next(iter(memory.values()))
    size = any_run["size"]
    added = any_run.get("added", size)
    lines = [
        "",
        f"### Where an endpoint's memory goes (tracemalloc, N = {size})",
        "",
        "Fresh Home Assistants (tracing slows every allocation, so not those measured "
        "above), each with one endpoint (what is paid once: modules, platforms, "
        "caches), marked (tracemalloc started), brought to N endpoints as above (ours "
        "through the flows, then reloaded), polling for one interval; then what was "
        "added divided by the N − 1 endpoints added: live Python allocations, which "
        "RSS exceeds by the allocator's free space and fragmentation.",
        "",
        "Core `rest` as above has no `unique_id`: its sensors are not in the entity "
        "registry. Ours always are (each value has a unique id, each endpoint is a "
        "device), so core `rest` with a `unique_id` on every sensor (as users give them "
        "to manage the sensors in the UI) is measured too.",
        "",
        "| values | floor KB/endpoint | core `rest` KB/endpoint "
        "| core `rest` with unique ids KB/endpoint | ours KB/endpoint "
        "| ours / floor | ours / core `rest` | ours / core `rest` with unique ids |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for values, run in memory.items():
        kb = {
            kind: run[kind]["traced_bytes"] / added / 1024 if kind in run else None
            for kind in (*KINDS, "rest_uid")
        }
        lines.append(
            f"| {values} | {_f(kb['floor'], 1)} | {_f(kb['rest'], 1)} | "
            f"{_f(kb['rest_uid'], 1)} | {_f(kb['ours'], 1)} | "
            f"{_ratio(kb['ours'], kb['floor'])} | {_ratio(kb['ours'], kb['rest'])} | "
            f"{_ratio(kb['ours'], kb['rest_uid'])} |"
        )
    for values, run in memory.items():
        for table, title in MEMORY_TABLES:
            lines += [
                "",
                f"{values} value(s), top 15 {title}: bytes (and objects or blocks) "
                "per endpoint.",
                "",
                "| ours | B | n | core `rest` | B | n |",
                "| --- | ---: | ---: | --- | ---: | ---: |",
            ]
            ours = run.get("ours", {}).get(table, [])[:15]
            rest = run.get("rest", {}).get(table, [])[:15]
            for index in range(max(len(ours), len(rest))):
                cells = []
                for rows in (ours, rest):
                    if index < len(rows):
                        row = rows[index]
                        cells += [
                            _cell(row["name"]),
                            f"{row['bytes'] / added:.0f}",
                            f"{row['count'] / added:.1f}",
                        ]
                    else:
                        cells += ["", "", ""]
                lines.append("| " + " | ".join(cells) + " |")
    return lines


def tables(results: dict[str, Any]) -> str:
    """The generated part of BENCHMARKS.md."""
    m = results["machine"]
    sizes = results["sizes"]
    lines = [
        BEGIN,
        "",
        f"Run of {m['date']}: `{results['command']}` at commit `{m['commit']}`, "
        f"{results.get('duration_s', '?')} s.",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB "
        f"(load average {m['load_at_start']:.1f} at the start: shared with other work). "
        f"Python {m['python']}, Home Assistant {m['homeassistant']}, aiohttp {m['aiohttp']}.",
        "The floor integration (`bench_floor`: the least a Home Assistant integration "
        "does for the same polls), core `rest` and ours run side by side, each in its "
        "own Home Assistant, measured over the same windows. Every endpoint polls every "
        f"{results['interval_s']} s; CPU per poll is the median of {results['windows']} "
        f"windows of {results['window_s']:.0f} s: the HA process's CPU time (all its "
        "threads, from the scheduler) minus its own idle rate measured before any "
        "endpoint existed, divided by the API requests the server counted for it.",
        "",
    ]
    for mode, title in (
        ("static", "an unchanged document (no ETag: a full 200 every poll)"),
        ("changing", "a document that changes between polls (every value moves)"),
    ):
        lines += [
            f"### CPU per poll (ms): {title}",
            "",
            "| N × values | bare aiohttp | HA floor | core `rest` | `oauth2_rest` "
            "| ours / floor | ours / core `rest` |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for values in ("1", "5"):
            for size in sizes:
                key = str(size)
                bare = results.get("bare", {}).get(f"{size}x{values}", {}).get("ms")
                floor = _size(results, "floor", values, key).get(mode, {}).get("ms")
                rest = _size(results, "rest", values, key).get(mode, {}).get("ms")
                ours = _size(results, "ours", values, key).get(mode, {}).get("ms")
                lines.append(
                    f"| {size} × {values} | {_ms(bare)} | {_ms(floor)} | {_ms(rest)} | "
                    f"{_ms(ours)} | {_ratio(ours, floor)} | {_ratio(ours, rest)} |"
                )
        lines.append("")
    lines += [
        "With N = 1 a window holds one poll, so the idle noise dominates: read the "
        "larger N.",
        "",
        "### 304 (ETag) poll vs a full poll, ours",
        "",
        "A 304 against two full polls of ours: a 200 carrying a new document (parsed, "
        "rendered, states written) and a 200 repeating the unchanged body (which we "
        "recognise without parsing, so it costs what a 304 costs).",
        "",
        "| values | N | full poll, new document (ms) | full poll, unchanged body (ms) "
        "| 304 poll (ms) | 304 / new document | 304 / unchanged body |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    biggest = str(sizes[-1])
    for values in ("1", "5"):
        figures = _size(results, "ours", values, biggest)
        full = figures.get("static", {}).get("ms")
        new = figures.get("changing", {}).get("ms")
        nm = results["ours"].get(values, {}).get("not_modified", {}).get("ms")
        lines.append(
            f"| {values} | {biggest} | {_f(new)} | {_f(full)} | {_f(nm)} | "
            f"{_ratio(nm, new)} | {_ratio(nm, full)} |"
        )
    lines += [
        "",
        "### Setup and memory",
        "",
        "Setup: core `rest` and the floor = their `reload` action until the last "
        "sensor has a state; ours = reloading the account entry (median of 2) until it "
        "returned (every endpoint fetched once). Memory: (RSS with N endpoints − RSS "
        "before any) / N.",
        "",
        "| N × values | floor setup (s) | core `rest` setup (s) | ours setup (s) "
        "| floor KB/endpoint | core `rest` KB/endpoint | ours KB/endpoint "
        "| ours / floor | ours / core `rest` |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for values in ("1", "5"):
        for size in sizes:
            floor = _size(results, "floor", values, str(size))
            rest = _size(results, "rest", values, str(size))
            ours = _size(results, "ours", values, str(size))
            kb = {
                name: figures.get("mem_kb_per_endpoint")
                for name, figures in (("floor", floor), ("rest", rest), ("ours", ours))
            }
            lines.append(
                f"| {size} × {values} | {_f(floor.get('setup_s'), 2)} | "
                f"{_f(rest.get('setup_s'), 2)} | {_f(ours.get('setup_s'), 2)} | "
                f"{_f(kb['floor'], 0)} | {_f(kb['rest'], 0)} | {_f(kb['ours'], 0)} | "
                f"{_ratio(kb['ours'], kb['floor'])} | {_ratio(kb['ours'], kb['rest'])} |"
            )
    lines += memory_tables(results)
    lines += [
        "",
        "### Adding the k-th endpoint through the UI flow (ours)",
        "",
        "From starting the subentry flow (request form, preview, values, finish) to the "
        "new endpoint's first sensor having a state.",
        "",
        "| values | k = 1 | k = 50 | k = 200 | k = 500 | last 10 / first 10 (median) | "
        "'entry not loaded' retries |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for values in ("1", "5"):
        ours = results["ours"].get(values, {})
        adds = ours.get("add_s", [])
        cells = [
            _f(adds[k - 1], 2) if len(adds) >= k else "—" for k in (1, 50, 200, 500)
        ]
        # Medians of the first and last ten adds: one add is one noisy sample.
        ratio = (
            _ratio(statistics.median(adds[-10:]), statistics.median(adds[:10]))
            if adds
            else "—"
        )
        lines.append(
            f"| {values} | {' | '.join(cells)} | {ratio} | {ours.get('add_retries', '—')} |"
        )
    steady = {
        kind: results[kind].get("5", {}).get("steady")
        for kind in KINDS
        if results.get(kind, {}).get("5", {}).get("steady")
    }
    if steady:
        any_run = next(iter(steady.values()))
        lines += [
            "",
            f"### Steady state: {any_run['endpoints']} endpoints × "
            f"{any_run['values']} values every {any_run['interval_s']} s",
            "",
            "The whole Home Assistant process (every thread, idle included), "
            f"median of {results['windows']} windows of one interval each, the "
            "document changing between polls.",
            "",
            "| | CPU, % of one core | of which idle HA | polls per minute |",
            "| --- | ---: | ---: | ---: |",
        ]
        for kind, label in LABELS.items():
            if kind in steady:
                run = steady[kind]
                lines.append(
                    f"| {label} | {run['cpu_pct']:.2f} % | {run['idle_pct']:.2f} % | "
                    f"{run['polls_per_min']:.0f} |"
                )
    conc = results["ours"].get("1", {}).get("concurrent")
    if conc:
        lines += [
            "",
            "### Concurrent actions when the token dies",
            "",
            f"Every access token made invalid at the server, then {conc['calls']} "
            "`oauth2_rest.request` actions sent at once (one websocket): "
            f"**{conc['succeeded']} succeeded, {conc['token_requests']} token "
            f"request(s)**, all answered in {conc['seconds']:.2f} s.",
        ]
    if results.get("profiles"):
        lines += [
            "",
            "Profiles (py-spy, raw collapsed stacks; not committed, "
            "`python -m bench.profile FILE` summarises one): "
            + ", ".join(f"`{path}`" for path in results["profiles"].values()),
        ]
    lines += ["", "![CPU per poll, add time, setup, memory](docs/bench.png)", "", END]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Six panels: CPU per poll (two documents), 304, add time, setup, memory."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    sizes = results["sizes"]
    # CPU per poll only where a window holds many polls (N = 1 is idle noise).
    poll_sizes = [s for s in sizes if s > 1] or sizes
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    styles = {"1": "-", "5": "--"}
    kinds = (
        ("floor", "tab:green", "HA floor"),
        ("rest", "tab:orange", "core rest"),
        ("ours", "tab:blue", "oauth2_rest"),
    )

    def per_size(
        ax: Any, key: Callable[[dict[str, Any]], Any], floor: bool, sizes: list[int]
    ) -> None:
        for values in ("1", "5"):
            if floor:
                ax.plot(
                    sizes,
                    [
                        results.get("bare", {}).get(f"{s}x{values}", {}).get("ms")
                        for s in sizes
                    ],
                    "k" + styles[values],
                    marker="o",
                    label=f"bare aiohttp, {values} value(s)",
                )
            for kind, color, label in kinds:
                ax.plot(
                    sizes,
                    [key(_size(results, kind, values, str(s))) for s in sizes],
                    styles[values],
                    color=color,
                    marker="o",
                    label=f"{label}, {values} value(s)",
                )
        ax.set_xscale("log")
        ax.set_xlabel("endpoints N")
        ax.legend(fontsize=7)

    for ax, mode, title in (
        (axes[0][0], "static", "CPU per poll, unchanged document"),
        (axes[0][1], "changing", "CPU per poll, changing document"),
    ):
        per_size(
            ax,
            lambda d, mode=mode: d.get(mode, {}).get("ms"),
            floor=True,
            sizes=poll_sizes,
        )
        ax.set_ylabel("CPU ms per poll (idle subtracted)")
        ax.set_ylim(bottom=0)
        ax.set_title(title)

    ax = axes[0][2]
    biggest = str(sizes[-1])
    labels, bars = [], []
    for values in ("1", "5"):
        ours = results["ours"].get(values, {})
        figures = _size(results, "ours", values, biggest)
        labels += [
            f"new, {values} v.",
            f"same, {values} v.",
            f"304, {values} v.",
        ]
        bars += [
            figures.get("changing", {}).get("ms") or 0,
            figures.get("static", {}).get("ms") or 0,
            ours.get("not_modified", {}).get("ms") or 0,
        ]
    ax.bar(labels, bars, color=["tab:blue", "tab:purple", "tab:cyan"] * 2)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_ylabel("CPU ms per poll")
    ax.set_title(f"oauth2_rest: 304 vs full polls (N={biggest})")

    ax = axes[1][0]
    for values in ("1", "5"):
        adds = results["ours"].get(values, {}).get("add_s", [])
        ax.plot(
            range(1, len(adds) + 1), adds, styles[values], label=f"{values} value(s)"
        )
    ax.set_xlabel("k")
    ax.set_ylabel("seconds")
    ax.set_title("oauth2_rest: adding the k-th endpoint (UI flow)")
    ax.legend(fontsize=7)

    per_size(axes[1][1], lambda d: d.get("setup_s"), floor=False, sizes=sizes)
    axes[1][1].set_ylabel("seconds")
    axes[1][1].set_title("Setup with N endpoints")
    per_size(
        axes[1][2],
        lambda d: d.get("mem_kb_per_endpoint"),
        floor=False,
        sizes=poll_sizes,
    )
    axes[1][2].set_ylabel("KB (RSS) per endpoint")
    axes[1][2].set_title("Memory per endpoint")
    m = results["machine"]
    fig.suptitle(
        f"scripts/bench, {m['date']}, {m['cores']} cores, HA {m['homeassistant']}, "
        f"commit {m['commit']}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def write(results: dict[str, Any], publish: bool) -> list[Path]:
    """Write the tables and the plot: into the repository, or (quick) artifacts/bench."""
    if publish:
        doc, png = ROOT / "BENCHMARKS.md", ROOT / "docs" / "bench.png"
    else:
        doc = ROOT / "artifacts" / "bench" / "BENCHMARKS.md"
        png = ROOT / "artifacts" / "bench" / "bench.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    plot(results, png)
    generated = tables(results)
    if not publish:
        generated = generated.replace("docs/bench.png", "bench.png")
    text = doc.read_text() if doc.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + generated + tail
    else:
        text = text.rstrip() + "\n\n" + generated + "\n"
    doc.write_text(text)
    return [doc, png]
