"""The bench's probe: where a Home Assistant's memory goes (tracemalloc, gc).

Not shipped. Two actions, called by the bench over the REST API:

- ``bench_probe.mark``: start tracemalloc (``frames`` deep) if it is not running,
  collect garbage, and keep a baseline: a snapshot and the count and size of every
  type of object the garbage collector tracks.
- ``bench_probe.report`` (with a response): collect garbage, snapshot again and
  answer what was added since the mark, top ``top`` rows of each table:
  ``by_type`` (objects the collector tracks: count and shallow size; dicts, strings
  and numbers it does not track are in the tracemalloc tables only), ``by_file``
  (tracemalloc: the file of the line that allocated), ``by_owner`` (the innermost
  line of an integration's own code, ``owners`` naming the directories, with the
  file that allocated; else that file alone) and the traced total.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
import gc
import linecache
import sys
import tracemalloc
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall, SupportsResponse
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType
from homeassistant.util.hass_dict import HassKey
import voluptuous as vol

DOMAIN = "bench_probe"
CONFIG_SCHEMA = cv.empty_config_schema(DOMAIN)
_BASELINE: HassKey[tuple[tracemalloc.Snapshot, dict[str, list[int]]]] = HassKey(DOMAIN)
_FILTERS = [
    tracemalloc.Filter(inclusive=False, filename_pattern=tracemalloc.__file__),
    tracemalloc.Filter(
        inclusive=False, filename_pattern="<frozen importlib._bootstrap*"
    ),
    tracemalloc.Filter(inclusive=False, filename_pattern="<unknown>"),
    tracemalloc.Filter(inclusive=False, filename_pattern=__file__),
]


def _short(filename: str) -> str:
    """A file's path from its package root (site-packages, custom_components...)."""
    for marker in ("/site-packages/", "/custom_components/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _types() -> dict[str, list[int]]:
    """Every type of object the garbage collector tracks: [count, shallow bytes]."""
    out: dict[str, list[int]] = {}
    for obj in gc.get_objects():
        kind = type(obj)
        name = f"{kind.__module__}.{kind.__qualname__}"
        row = out.setdefault(name, [0, 0])
        row[0] += 1
        row[1] += sys.getsizeof(obj, 0)
    return out


def _owner(trace: tracemalloc.Trace, owners: tuple[str, ...]) -> str:
    """Who allocated: the innermost line in an owner's code (and the file that allocated).

    Without an owner's line in the stack, the file that allocated.
    """
    frames = list(trace.traceback)  # oldest first
    allocating = _short(frames[-1].filename)
    for frame in reversed(frames):
        if any(owner in frame.filename for owner in owners):
            code = linecache.getline(frame.filename, frame.lineno).strip()
            line = f"{_short(frame.filename)}:{frame.lineno} {code[:50]}"
            if frame is frames[-1]:
                return line
            return f"{line} » {allocating}"
    return f"{allocating} (no integration line)"


def _sizes(
    snapshot: tracemalloc.Snapshot, owners: tuple[str, ...]
) -> tuple[Counter[str], Counter[str]]:
    """Bytes and blocks per owner."""
    sizes: Counter[str] = Counter()
    blocks: Counter[str] = Counter()
    cache: dict[tracemalloc.Traceback, str] = {}
    for trace in snapshot.traces:
        key = cache.get(trace.traceback)
        if key is None:
            key = cache[trace.traceback] = _owner(trace, owners)
        sizes[key] += trace.size
        blocks[key] += 1
    return sizes, blocks


def _top(rows: Iterable[tuple[str, int, int]], top: int) -> list[dict[str, Any]]:
    ordered = sorted(rows, key=lambda row: -row[1])
    return [
        {"name": name, "bytes": size, "count": count}
        for name, size, count in ordered[:top]
    ]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the two actions."""

    async def mark(call: ServiceCall) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(int(call.data.get("frames", 30)))
        gc.collect()
        # Types first: sizing some objects fills lazy ones (pytz's time zone
        # lists), which the snapshot must already hold.
        types = _types()
        hass.data[_BASELINE] = (
            tracemalloc.take_snapshot().filter_traces(_FILTERS),
            types,
        )

    async def report(call: ServiceCall) -> dict[str, Any]:
        top = int(call.data.get("top", 15))
        owners = tuple(call.data.get("owners", ()))
        before, types_before = hass.data[_BASELINE]
        gc.collect()
        types_after = _types()  # before this snapshot's own objects exist
        after = tracemalloc.take_snapshot().filter_traces(_FILTERS)
        by_type = [
            (
                name,
                size - types_before.get(name, [0, 0])[1],
                count - types_before.get(name, [0, 0])[0],
            )
            for name, (count, size) in types_after.items()
        ]
        by_file = [
            (_short(str(stat.traceback[-1].filename)), stat.size_diff, stat.count_diff)
            for stat in after.compare_to(before, "filename")
        ]
        (now, now_n), (then, then_n) = _sizes(after, owners), _sizes(before, owners)
        by_owner = [
            (name, now[name] - then[name], now_n[name] - then_n[name])
            for name in now.keys() | then.keys()
        ]
        traced = sum(s.size for s in after.statistics("filename")) - sum(
            s.size for s in before.statistics("filename")
        )
        return {
            "traced_bytes": traced,
            "by_type": _top(by_type, top),
            "by_file": _top(by_file, top),
            "by_owner": _top(by_owner, top),
        }

    hass.services.async_register(
        DOMAIN, "mark", mark, vol.Schema({vol.Optional("frames"): int})
    )
    hass.services.async_register(
        DOMAIN,
        "report",
        report,
        vol.Schema({vol.Optional("top"): int, vol.Optional("owners"): [str]}),
        supports_response=SupportsResponse.ONLY,
    )
    return True
