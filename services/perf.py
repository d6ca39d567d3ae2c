"""Holding the cyclic garbage collector during bulk work that creates no reference cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector for the duration of a bulk read or ingest.

    Building hundreds of thousands of short-lived tuples, dicts and models triggers repeated
    full collections that scan the whole heap: a 10,000-event timeline goes from 30 ms to
    150 ms, and parsing 200,000 log lines spends more time collecting than validating. Nothing
    built in these blocks forms reference cycles; reference counting frees it all.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
