"""The one place numba is configured: every kernel is declared with :func:`numba_jit`.

A kernel is a plain Python function compiled by numba in one of two ways, chosen on its
first call (both compile the same source with the same options: ``cache=True, nogil=True``):

* **ahead of time (AOT)**: kernels that declare ``aot=`` signatures are compiled by
  ``python -m pgx._aot_build`` (``make`` runs it) into the extension module
  ``pgx/_aot/pgx_kernels*.so``. Loading it takes about 1 ms and imports no numba, which
  otherwise costs ~0.35 s per process (import, then the first dispatch). It is used only
  while the kernel sources it was built from are unchanged (sha256 recorded in
  ``pgx_kernels.json``) and only for calls whose arguments match an exported signature
  exactly (dtype, ndim, C order, writeable); any other call goes to the JIT.
* **just in time (JIT)**: ``numba.njit`` with the on-disk cache, compiled on first use.

``PGX_KERNELS=jit`` forces the JIT (for comparisons and debugging); ``PGX_AOT_DIR`` points
the loader at another build directory.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import sys
import threading
from pathlib import Path

import numpy as np

#: Modules whose kernels are compiled ahead of time (their sources are hashed together).
KERNEL_MODULES = ("pgx.io.vcf_numba_fns", "pgx.filtering.expr_numba_fns",
                  "pgx.calling.match_numba_fns", "pgx.calling.not_excluded_numba_fns",
                  "pgx.annotate.transfer_numba_fns", "pgx.annotate.transfer_build_numba_fns",
                  "pgx.annotate.transfer_pieces_numba_fns", "pgx.annotate.csq_numba_fns")
AOT_MODULE = "pgx_kernels"
AOT_DIR = Path(__file__).resolve().parent / "_aot"
JIT_OPTIONS = {"cache": True, "nogil": True}

_lock = threading.RLock()


def numba_jit(func=None, *, aot=(), **options):
    """Declare a kernel (usable bare or with options, like ``numba.njit``).

    ``aot``: argument signatures to compile ahead of time, each a string in numba's type
    syntax such as ``"(Array(uint8, 1, 'C', readonly=True), int64[::1], int64)"``; a
    readonly array type also accepts writeable arrays. ``options`` go to ``numba.njit``.
    """
    opts = {**JIT_OPTIONS, **options}
    sigs = (aot,) if isinstance(aot, str) else tuple(aot)

    def wrap(f):
        return Kernel(f, opts, sigs)

    return wrap(func) if func is not None else wrap


class Kernel:
    """A numba kernel bound on first call to its AOT export or to ``numba.njit``.

    Called from other kernels it is typed as its JIT dispatcher (see ``_register_typeof``).
    ``backend`` is ``None`` until the first call, then ``"aot"`` or ``"jit"``.
    """

    def __init__(self, py_func, options: dict, aot: tuple[str, ...]):
        functools.update_wrapper(self, py_func)
        self.py_func = py_func
        self.targetoptions = options  # read by numba's inliner, as on a numba Dispatcher
        self.aot_signatures = aot
        self.backend = None
        self._impl = None
        self._jit = None

    @property
    def qualified_name(self) -> str:
        return f"{self.py_func.__module__}.{self.py_func.__name__}"

    def __call__(self, *args):
        impl = self._impl
        if impl is None:
            impl = self._bind()
        return impl(*args)

    def __repr__(self):
        return f"<pgx kernel {self.qualified_name} ({self.backend or 'unbound'})>"

    def jit(self):
        """The ``numba.njit`` dispatcher (imports numba on first use)."""
        if self._jit is None:
            with _lock:
                if self._jit is None:
                    import numba

                    _register_typeof()
                    self._jit = numba.njit(**self.targetoptions)(self.py_func)
        return self._jit

    def _bind(self):
        with _lock:
            if self._impl is None:
                exports = _aot_exports().get(self.qualified_name) if self.aot_signatures \
                    else None
                if exports:
                    self._impl = _guarded(self, exports)
                    self.backend = "aot"
                else:
                    self._impl = self.jit()
                    self.backend = "jit"
        return self._impl


def _guarded(kernel: Kernel, exports: list[tuple]):
    """Call the first AOT export whose signature the arguments match, else the JIT."""
    defaults = kernel.py_func.__defaults__ or ()
    n_params = kernel.py_func.__code__.co_argcount

    def call(*args):
        if len(args) < n_params and len(args) + len(defaults) >= n_params:
            args = args + defaults[len(defaults) - (n_params - len(args)):]
        for fn, specs in exports:
            if len(args) == len(specs) and all(map(_matches, args, specs)):
                return fn(*args)
        return kernel.jit()(*args)

    return call


def _matches(arg, spec) -> bool:
    """Does ``arg`` match one exported parameter ``spec``: ("array", dtype, ndim, readonly)
    or ("int" | "float" | "bool",)?"""
    kind = spec[0]
    if kind == "array":
        return (type(arg) is np.ndarray and arg.dtype == spec[1] and arg.ndim == spec[2]
                and arg.flags.c_contiguous and arg.flags.aligned
                and (spec[3] or arg.flags.writeable))
    if kind == "bool":
        return isinstance(arg, (bool, np.bool_))
    if kind == "int":
        return isinstance(arg, (int, np.integer))
    return isinstance(arg, (int, float, np.integer, np.floating))


def sources_digest() -> str:
    """sha256 over the sources of :data:`KERNEL_MODULES` (what an AOT build was made from)."""
    h = hashlib.sha256()
    for name in KERNEL_MODULES:
        h.update(name.encode() + b"\0")
        h.update(Path(importlib.util.find_spec(name).origin).read_bytes())
    return h.hexdigest()


def cpu_fingerprint() -> str:
    """The machine type with this CPU's model and instruction-set flags (Linux
    ``/proc/cpuinfo``, first processor), hashed: AOT code is generated for the build's CPU."""
    parts = [os.uname().machine]
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break
                if line.split(":", 1)[0].strip() in ("model name", "flags", "Features",
                                                     "CPU implementer", "CPU part"):
                    parts.append(" ".join(line.split()))
    except OSError:
        pass
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def aot_dir() -> Path:
    return Path(os.environ.get("PGX_AOT_DIR") or AOT_DIR)


def current_aot_build(directory: Path) -> dict | None:
    """The metadata of the AOT build in ``directory`` if it can be used here: built from the
    current kernel sources, for this Python and this CPU; else None."""
    try:
        meta = json.loads((directory / f"{AOT_MODULE}.json").read_text())
    except (OSError, ValueError):
        return None
    ok = (meta.get("sources_sha256") == sources_digest()
          and meta.get("python") == sys.implementation.cache_tag
          and meta.get("cpu") == cpu_fingerprint()
          and (directory / str(meta.get("file"))).is_file())
    return meta if ok else None


@functools.lru_cache(maxsize=1)
def _aot_exports() -> dict[str, list[tuple]]:
    """{kernel qualified name: [(compiled function, parameter specs), ...]} from a current AOT
    build, or {} (no build, stale build, PGX_KERNELS=jit, or it fails to load)."""
    if os.environ.get("PGX_KERNELS", "auto") == "jit":
        return {}
    directory = aot_dir()
    meta = current_aot_build(directory)
    if meta is None:
        return {}
    try:
        spec = importlib.util.spec_from_file_location(AOT_MODULE, directory / meta["file"])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return {name: [(getattr(module, e["symbol"]),
                        [(p[0], np.dtype(p[1]), p[2], p[3]) if p[0] == "array" else tuple(p)
                         for p in e["params"]])
                       for e in entries]
                for name, entries in meta["exports"].items()}
    except (OSError, ValueError, KeyError, ImportError, AttributeError, TypeError):
        return {}


_typeof_registered = False


def _register_typeof() -> None:
    """Let numba type a :class:`Kernel` (a global in another kernel's body) as its JIT
    dispatcher, so kernels call each other as plain numba functions."""
    global _typeof_registered
    if _typeof_registered:
        return
    from numba.extending import typeof_impl

    @typeof_impl.register(Kernel)
    def _typeof_kernel(val, c):
        return typeof_impl(val.jit(), c)

    _typeof_registered = True
