"""The soak test: an hour (or N minutes) of a real Home Assistant under fire."""
