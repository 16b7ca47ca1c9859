"""Redaction speed: time per MB of free text, long runs of each character class.

``python -m bench.redact [--mb 4] [--repeat 5] [--json]`` redacts one long run of
each class (a hash, a JWT, an embedded image, a dotted name, whitespace, quotes,
separators) and realistic texts (a query string, an echoed JSON body) with an
account's secrets, and prints the best time per MB of each. Linear redaction
gives about the same figure for every size; a quadratic one grows with ``--mb``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import time

from custom_components.oauth2_rest.redact import Secrets, redact_text

MB = 1_000_000


def _b64(size: int, alphabet: str) -> str:
    raw = os.urandom(size * 3 // 4 + 3)
    text = base64.urlsafe_b64encode(raw) if alphabet == "url" else base64.b64encode(raw)
    return text.decode()[:size]


def texts(size: int) -> dict[str, str]:
    """One text per class, ``size`` characters each."""
    pair = "access_token=abcdef0123&temperature=21.5&"
    echo = json.dumps({"headers": {"Authorization": "Bearer x"}, "n": 1}) + "\n"
    return {
        "hex": os.urandom(size // 2 + 1).hex()[:size],
        "base64url (JWT)": _b64(size, "url"),
        "base64 (image)": _b64(size, "std"),
        "dotted name": ("a.b-c_9" * (size // 7 + 1))[:size],
        "whitespace": "a" + " " * (size - 2) + "b",
        "quoted runs": ('"' + "x" * 998 + '"') * (size // 1000),
        "separators": "=:" * (size // 2),
        "query string": pair * (size // len(pair)),
        "echoed JSON": echo * (size // len(echo)),
    }


def per_mb(text: str, secrets: Secrets, repeat: int) -> float:
    """Best of ``repeat`` runs, in milliseconds per MB."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        redact_text(text, secrets)
        best = min(best, time.perf_counter() - start)
    return best * 1000 * MB / len(text)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=4.0, help="size of each text")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    secrets = Secrets("client-secret-0123456789")
    secrets.add_token(
        {"access_token": "access-" + "a" * 40, "refresh_token": "refresh-" + "r" * 40}
    )
    size = int(args.mb * MB)
    results = {
        name: round(per_mb(text, secrets, args.repeat), 2)
        for name, text in texts(size).items()
    }
    if args.json:
        print(json.dumps({"mb": args.mb, "ms_per_mb": results}))
        return
    print(f"redact_text over {args.mb:g} MB, best of {args.repeat} (ms per MB)")
    for name, figure in results.items():
        print(f"  {name:<18} {figure:>9.2f}")


if __name__ == "__main__":
    main()
