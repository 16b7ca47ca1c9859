"""The benchmark behind ``scripts/bench``: ours vs core ``rest`` vs a bare aiohttp loop."""
