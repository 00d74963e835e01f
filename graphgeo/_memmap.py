"""Page release for results streamed to a np.memmap: finished rows are flushed and
dropped from this process's memory, so an N x N result larger than memory streams to disk."""

import mmap

import numpy as np


def release(out, start, stop):
    """Flush rows [start, stop) of a memmap and drop them from memory (no-op for arrays)."""
    release_runs(out, [(start, stop)])


def release_rows(out, rows):
    """release() for a set of (scattered) rows: one flush, one madvise per run of rows."""
    if not isinstance(out, np.memmap) or len(rows) == 0:
        return
    r = np.unique(np.asarray(rows, dtype=np.int64))
    cut = np.flatnonzero(np.diff(r) != 1) + 1
    starts = r[np.concatenate([[0], cut])]
    stops = r[np.concatenate([cut - 1, [len(r) - 1]])] + 1
    release_runs(out, list(zip(starts.tolist(), stops.tolist())))


def release_runs(out, runs):
    """Flush a memmap and drop the rows of each (start, stop) run from memory."""
    if not isinstance(out, np.memmap):
        return
    out.flush()
    mm = getattr(out, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise") or getattr(out, "mode", None) == "c":
        return  # (a copy-on-write map would lose what it dropped)
    row = out.strides[0]
    offset = out.offset if hasattr(out, "offset") else 0
    for start, stop in runs:
        # a page shared with a neighbouring row is dropped too: harmless for a shared
        # file mapping (its data stays in the page cache, the page is faulted in again)
        lo = (offset + start * row) // mmap.PAGESIZE * mmap.PAGESIZE
        hi = offset + stop * row
        try:
            mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
        except (OSError, ValueError, AttributeError):  # pragma: no cover - platform dependent
            return
