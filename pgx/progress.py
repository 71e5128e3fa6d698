"""Progress bars for long steps (tqdm on stderr; silent when disabled or not a terminal)."""
from __future__ import annotations

import sys


def progress(iterable, desc: str, enabled: bool = True, total: int | None = None):
    if not enabled or not sys.stderr.isatty():
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, unit=desc.split()[-1], leave=False)
