"""Where one poll's CPU goes (scripts/bench --pollpath)."""
