"""The one place numba is configured: every kernel uses ``numba_jit`` (cached, nogil)."""
from __future__ import annotations

import numba


def numba_jit(*args, **kwargs):
    kwargs.setdefault("cache", True)
    kwargs.setdefault("nogil", True)
    return numba.njit(*args, **kwargs)
