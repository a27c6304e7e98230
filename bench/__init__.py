"""Benchmarks: accuracy, speed and size of the host, measured on this machine.

`python -m bench` runs every measurement it can and writes a JSON and a markdown result;
docs/BENCHMARKS.md explains the method. Nothing here is imported by the host.
"""
