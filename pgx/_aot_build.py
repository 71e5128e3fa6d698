"""Compile the kernels that declare ``aot=`` signatures into one extension module.

    python -m pgx._aot_build [--out DIR]      (``make`` runs it; about 15 s)

Writes ``DIR/pgx_kernels.<abi>.so`` and ``DIR/pgx_kernels.json`` (default ``pgx/_aot/``): the
exported symbols with their parameter types, the sha256 of the kernel sources and a
fingerprint of this CPU. :mod:`pgx._numba` uses the module only while both still match, so
an edited kernel, another Python or another CPU model falls back to the JIT. Code is
generated for this CPU (``host``), as numba's JIT does; the kernels release the GIL like
their ``nogil=True`` JIT twins. Needs a C compiler and the Python headers.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

from pgx._numba import AOT_MODULE, KERNEL_MODULES, Kernel, _register_typeof, aot_dir, \
    cpu_fingerprint, sources_digest


def _param_spec(t) -> list:
    """A numba argument type as a JSON parameter spec for ``pgx._numba._matches``."""
    from numba.core import types

    if isinstance(t, types.Array):
        if t.layout != "C":
            raise ValueError(f"AOT signature: array {t} must be C-contiguous (use [::1])")
        return ["array", str(t.dtype) if t.dtype != types.boolean else "bool", t.ndim,
                bool(not t.mutable)]
    if isinstance(t, types.Boolean):
        return ["bool"]
    if isinstance(t, types.Integer):
        return ["int"]
    if isinstance(t, types.Float):
        return ["float"]
    raise ValueError(f"AOT signature: unsupported parameter type {t}")


def aot_kernels() -> list[Kernel]:
    """Every kernel of :data:`KERNEL_MODULES` that declares AOT signatures."""
    found = []
    for name in KERNEL_MODULES:
        module = importlib.import_module(name)
        found += [k for k in vars(module).values()
                  if isinstance(k, Kernel) and k.aot_signatures and k.py_func.__module__ == name]
    return found


def build(out: Path | None = None, verbose: bool = False) -> Path:
    """Compile and install the AOT module into ``out``; returns the JSON path."""
    import numba
    from numba.core import compiler as numba_compiler, sigutils

    with warnings.catch_warnings():  # pycc is "pending deprecation" with no replacement yet
        warnings.simplefilter("ignore")
        from numba.pycc import CC
        import numba.pycc.compiler as pycc_compiler

    out = Path(out or aot_dir())
    out.mkdir(parents=True, exist_ok=True)
    _register_typeof()

    class _ReleaseGil(numba_compiler.Flags):
        """pycc's wrappers otherwise hold the GIL; ours run on worker threads."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.release_gil = True

    exports: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="pgx-aot-", dir=out) as tmp:
        cc = CC(AOT_MODULE, source_module=__name__)
        cc.output_dir = tmp
        cc.target_cpu = "host"
        cc.verbose = verbose
        for kernel in aot_kernels():
            for i, sig in enumerate(kernel.aot_signatures):
                args, _ = sigutils.normalize_signature(sig)
                symbol = f"{kernel.py_func.__module__.rsplit('.', 1)[-1]}__{kernel.__name__}__{i}"
                cc.export(symbol, args)(kernel.py_func)
                exports.setdefault(kernel.qualified_name, []).append(
                    {"symbol": symbol, "params": [_param_spec(a) for a in args]})
        saved = pycc_compiler.Flags
        pycc_compiler.Flags = _ReleaseGil
        try:
            cc.compile()
        finally:
            pycc_compiler.Flags = saved
        so_name = cc.output_file
        meta = {
            "file": so_name,
            "sources_sha256": sources_digest(),
            "cpu": cpu_fingerprint(),
            "python": sys.implementation.cache_tag,
            "numba": numba.__version__,
            "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "exports": exports,
        }
        os.replace(Path(tmp) / so_name, out / so_name)
        meta_tmp = Path(tmp) / "meta.json"
        meta_tmp.write_text(json.dumps(meta, indent=1) + "\n")
        os.replace(meta_tmp, out / f"{AOT_MODULE}.json")
    return out / f"{AOT_MODULE}.json"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pgx._aot_build", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help=f"output directory (default {aot_dir()})")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    meta = build(a.out, a.verbose)
    n = sum(len(v) for v in json.loads(meta.read_text())["exports"].values())
    print(f"pgx: compiled {n} kernels ahead of time into {meta.parent} "
          f"in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
