"""Server benchmarks of opentms (see bench/README.md)."""
