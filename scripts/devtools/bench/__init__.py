"""Benchmarks of batches_ext against the official openai SDK and a bare-httpx floor: `scripts/bench`."""
