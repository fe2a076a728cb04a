"""Torch's intra-op threads, scoped: GP work of a proposal or a graph node runs on one thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def single_threaded_torch() -> Iterator[None]:
    """Run small-GP linear algebra on one torch thread, restoring the caller's setting afterwards.

    Node GPs have at most a few hundred rows; at that size intra-op threading only adds synchronisation, and on
    a busy 2-core machine it cost ~6x the CPU time (measured on the selection tests; `lab propose` of 24 recipes
    from 100 observations took 17 s on two threads beside one busy process, 2.7 s on one). The setting is
    process-wide, so it is scoped to the call and restored.
    """
    previous = torch.get_num_threads()
    if previous == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
