"""Pick list memory: peak allocation while the endpoint flow lists a response's values.

``python -m bench.picklist [--mb 1 5] [--json]`` builds answers of each shape at
each size (deep lists, a wide object, long keys, long ids, long strings), parses
them as the flow does, then measures with ``tracemalloc`` the peak of what the
flow does with them: decide whether to offer "pick values", then build the list
(labels and templates, samples redacted with an account's secrets). Printed as
MB and as a multiple of the answer's size.
"""

from __future__ import annotations

import argparse
import json
import tracemalloc
from typing import Any

from custom_components.oauth2_rest.redact import Secrets
from custom_components.oauth2_rest.suggest import has_leaves, pick_list

MB = 1_000_000


def _deep_lists(size: int) -> Any:
    """Series nested in lists ten deep: ``[[[…[1.5, 2.5, …]…]]]``."""
    leaf = [round(i * 0.5, 1) for i in range(64)]
    count = max(1, size // len(json.dumps(leaf)))
    # Ten levels of lists, the leaves spread over the last one.
    node: Any = [leaf] * count
    for _ in range(9):
        node = [node]
    return {"series": node}


def _wide_object(size: int) -> Any:
    """One object with many stations, each keyed by a 60-character identifier."""
    station = {"temperature": 21.5, "humidity": 55, "status": "open"}
    count = size // 120
    return {
        "stations": {f"urn:example:station:{i:040d}": station for i in range(count)}
    }


def _long_keys(size: int) -> Any:
    """Four objects under keys a quarter of the answer long, 100 values each."""
    values = {f"v{i}": i for i in range(100)}
    return {
        "maps": {
            f"{n}:" + "k" * (size // 4 - 150 * 10): {"values": values} for n in range(4)
        }
    }


def _long_ids(size: int) -> Any:
    """A list of objects found by their id: ids of 20 kB (as base64 cursors are)."""
    count = max(1, size // 20_500)
    return {
        "items": [
            {"id": f"{i}-" + "c" * 20_000, "value": i, "ok": True, "name": "x"}
            for i in range(count)
        ]
    }


def _long_strings(size: int) -> Any:
    """Values that are long strings (embedded documents, images)."""
    return {"documents": [{"body": "d" * (size // 8)} for _ in range(8)]}


SHAPES = {
    "deep lists": _deep_lists,
    "wide object": _wide_object,
    "long keys": _long_keys,
    "long ids": _long_ids,
    "long strings": _long_strings,
}


def answer(shape: str, size: int) -> tuple[Any, int]:
    """The parsed answer of ``shape`` at about ``size`` bytes, and its exact size."""
    text = json.dumps(SHAPES[shape](size))
    return json.loads(text), len(text)


def peak(data: Any, secrets: Secrets) -> tuple[int, int, bool]:
    """Peak bytes allocated while listing ``data``, the options and whether cut."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    offered = has_leaves(data, secrets)
    listed = pick_list(data, secrets) if offered else None
    labels = [leaf.shown for leaf in listed.options] if listed else []
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top, len(labels), bool(listed and listed.cut)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    secrets = Secrets("client-secret-0123456789")
    secrets.add_token({"access_token": "access-" + "a" * 40})
    results: list[dict[str, Any]] = []
    for mb in args.mb:
        for shape in SHAPES:
            data, size = answer(shape, int(mb * MB))
            top, options, cut = peak(data, secrets)
            results.append(
                {
                    "shape": shape,
                    "answer_mb": round(size / MB, 2),
                    "peak_mb": round(top / MB, 3),
                    "ratio": round(top / size, 3),
                    "options": options,
                    "cut": cut,
                }
            )
    if args.json:
        print(json.dumps(results))
        return
    print("pick list: peak allocation (tracemalloc) over the parsed answer")
    print(f"  {'shape':<14} {'answer MB':>9} {'peak MB':>9} {'x answer':>9}  options")
    for r in results:
        mark = " (cut)" if r["cut"] else ""
        print(
            f"  {r['shape']:<14} {r['answer_mb']:>9} {r['peak_mb']:>9}"
            f" {r['ratio']:>9}  {r['options']}{mark}"
        )


if __name__ == "__main__":
    main()
