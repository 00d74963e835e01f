"""A minimal progress bar on stderr (shown only when a caller asks for verbose output)."""

import sys
import time


def progress(iterable, total, desc=""):
    start = time.perf_counter()
    for i, item in enumerate(iterable, 1):
        yield item
        frac = i / max(total, 1)
        elapsed = time.perf_counter() - start
        bar = "#" * int(30 * frac)
        sys.stderr.write(f"\r{desc} [{bar:<30}] {i}/{total} {elapsed:.1f}s")
        sys.stderr.flush()
    sys.stderr.write("\n")
