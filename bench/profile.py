"""Summarise a py-spy raw (collapsed stacks) profile: ``python -m bench.profile FILE``.

Prints the functions with the most samples, inclusive (on the stack) and self (on
top), as a share of all samples (py-spy records only threads that are running).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
import re

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _name(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "custom_components/", "python3.14/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})"


def summarise(path: Path, top: int = 40) -> str:
    """The top functions of a profile, inclusive and self."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        names = [_name(f) for f in stack.split(";")]
        for name in set(names):
            inclusive[name] += count
        own[names[-1]] += count
    out = [f"{path}: {total} samples", "", "inclusive:"]
    out += [f"{n / total:6.1%}  {name}" for name, n in inclusive.most_common(top)]
    out += ["", "self:"]
    out += [f"{n / total:6.1%}  {name}" for name, n in own.most_common(top)]
    return "\n".join(out)


def main() -> None:
    """Print the summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    print(summarise(args.file, args.top))


if __name__ == "__main__":
    main()
