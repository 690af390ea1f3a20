"""How fast this machine is right now, printed with every benchmark's figures.

The machines these benchmarks run on differ, and one machine's speed changes within a
session (shared hosts): the same code measured 0.5 s and 1.5 s for the loop below on
different days. A figure is only comparable with the line printed next to it.
"""

from __future__ import annotations

import time

LOOP = 10_000_000


def python_loop_seconds() -> float:
    """Seconds for ten million additions in pure Python (best of three)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(LOOP):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def speed_line() -> str:
    return (
        f"machine: pure-Python loop of {LOOP:,} additions {python_loop_seconds():.2f} s "
        "(best of 3; earlier sessions' machines: 0.5 s fast, 1.5 s slow)"
    )
