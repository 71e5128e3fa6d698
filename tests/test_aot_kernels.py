"""The ahead-of-time kernels (``pgx._aot_build`` / ``pgx._numba``) against their JIT twins.

What a user would notice: ``pgx filter`` with the AOT build gives byte-identical records and
the same stats as with ``PGX_KERNELS=jit``, and does not import numba at all; a build that no
longer matches the kernel sources (or this CPU) is not used; a call whose arguments do not
match an exported signature gets the JIT's (correct) answer instead of reinterpreted memory.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from pgx import _numba
from pgx.filtering import expr_numba_fns as E
from tests.vcfgen import random_vcf

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def aot_dir(tmp_path_factory) -> Path:
    """The checkout's AOT build when current (``make`` builds it), else a fresh build."""
    if _numba.current_aot_build(_numba.AOT_DIR):
        return _numba.AOT_DIR
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if (shutil.which("cc") is None and shutil.which("gcc") is None) or not headers.is_file():
        pytest.skip("no C compiler or Python headers: the AOT kernels cannot be built here")
    from pgx._aot_build import build

    out = tmp_path_factory.mktemp("aot")
    build(out)
    return out


@pytest.fixture
def exports(aot_dir, monkeypatch):
    """The AOT exports loaded from ``aot_dir`` in this process (loader cache reset after)."""
    monkeypatch.setenv("PGX_AOT_DIR", str(aot_dir))
    monkeypatch.delenv("PGX_KERNELS", raising=False)
    _numba._aot_exports.cache_clear()
    yield _numba._aot_exports()
    _numba._aot_exports.cache_clear()


_RUN = """
import json, sys
from pgx.cli import main
from pgx.io import vcf_numba_fns as V
from pgx.filtering import expr_numba_fns as E
code = main(sys.argv[1:])
kernels = [V.tokenize_records, V.select_records, E.cmp_num, E.arith, E.gt_classes,
           E.filter_match, E.any_samples, E.cmp_fmt_const]
print(json.dumps({"code": code, "numba": "numba" in sys.modules,
                  "backends": {k.__name__: k.backend for k in kernels}}))
"""


def _filter(tmp_path: Path, name: str, env_extra: dict, vcf: Path, *args) -> dict:
    out = tmp_path / f"{name}.vcf.gz"
    env = {k: v for k, v in os.environ.items() if k not in ("PGX_KERNELS", "PGX_AOT_DIR")}
    env.update(env_extra)
    proc = subprocess.run([sys.executable, "-c", _RUN, "filter", "-q", *args, "--threads", "2",
                           "-o", str(out), str(vcf)], capture_output=True, text=True, env=env,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    import gzip

    result["body"] = [line for line in gzip.open(out, "rt") if not line.startswith("##")]
    stats = json.loads(Path(str(out) + ".stats.json").read_text())
    result["stats"] = {k: stats[k] for k in stats if k not in ("output", "seconds")}
    return result


@pytest.mark.parametrize("args", [
    ("-i", "QUAL>=30 && INFO/DP>=10 && FMT/GQ>=20"),
    ("-e", 'GT="het" || TYPE="indel" || FILTER~"q10" || INFO/AF*2>0.5 || N_ALT>1',
     "--set-gt-missing", "FMT/GQ<20 | FMT/DP<8"),
    ("-i", "INFO/AC*3 - 1 >= INFO/DP / 10 || FMT/GQ < INFO/MQ", "--set-gt-missing",
     'FMT/AD>5 && GT="alt"'),
])
def test_filter_with_aot_kernels_matches_jit_and_skips_numba(aot_dir, tmp_path, args):
    vcf = tmp_path / "in.vcf"
    vcf.write_text(random_vcf(seed=7, n_records=3000, n_samples=4))
    aot = _filter(tmp_path, "aot", {"PGX_AOT_DIR": str(aot_dir)}, vcf, *args)
    jit = _filter(tmp_path, "jit", {"PGX_KERNELS": "jit"}, vcf, *args)
    assert aot["code"] == jit["code"] == 0
    assert not aot["numba"], "the AOT path imported numba"
    assert jit["numba"]
    called = {k for k, b in aot["backends"].items() if b is not None}
    assert {"tokenize_records", "select_records"} <= called
    assert all(aot["backends"][k] == "aot" for k in called), aot["backends"]
    assert all(b in (None, "jit") for b in jit["backends"].values())
    assert aot["body"] == jit["body"] and len(aot["body"]) > 1
    assert aot["stats"] == jit["stats"]


_CALL = """
import json, sys
from pgx.cli import main
from pgx.calling import match_numba_fns as M
code = main(sys.argv[1:])
print(json.dumps({"code": code, "numba": "numba" in sys.modules,
                  "backends": [M.allele_candidates.backend, M.consistent_pairs.backend]}))
"""


def test_call_with_aot_kernels_matches_jit(aot_dir, tmp_path):
    """``pgx call`` on the demo patients: the same calls either way, and no numba import."""
    vcfs = sorted(str(p) for p in (REPO / "resources" / "demo").glob("DEMO00*.vcf.gz"))
    results = {}
    for name, extra in (("aot", {"PGX_AOT_DIR": str(aot_dir)}), ("jit", {"PGX_KERNELS": "jit"})):
        env = {k: v for k, v in os.environ.items() if k not in ("PGX_KERNELS", "PGX_AOT_DIR")}
        env.update(extra)
        proc = subprocess.run([sys.executable, "-c", _CALL, "call", "-o", str(tmp_path / name),
                               *vcfs], capture_output=True, text=True, env=env, cwd=REPO)
        assert proc.returncode == 0, proc.stderr
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert results["aot"] == {"code": 0, "numba": False, "backends": ["aot", "aot"]}
    assert results["jit"] == {"code": 0, "numba": True, "backends": ["jit", "jit"]}
    tsv = [(tmp_path / n / "calls.tsv").read_text() for n in ("aot", "jit")]
    assert tsv[0] == tsv[1] and tsv[0].count("\n") > 6 * 20


def _operands(rng, V, S, W, dtype=np.float64):
    vals = rng.integers(-3, 4, size=(V, S, W)).astype(dtype)
    vals[rng.random((V, S, W)) < 0.2] = np.nan
    n = rng.integers(0, W + 1, size=(V, S)).astype(np.int32)
    return vals, n


def test_expression_kernels_aot_equal_jit(exports):
    rng = np.random.default_rng(3)
    V, S = 50, 4
    for k in (E.cmp_num, E.arith, E.cmp_fmt_const, E.gt_classes, E.filter_match,
              E.any_samples, E.any_value):
        assert k.qualified_name in exports, f"{k.qualified_name} was not compiled ahead of time"
    for _ in range(20):
        av, an = _operands(rng, V, S, 3)
        bv, bn = _operands(rng, V, 1, 1)  # a per-record operand broadcast over samples
        for op in range(6):
            args = (av, an, bv, bn, np.int32(op), V, S)
            np.testing.assert_array_equal(_aot(exports, E.cmp_num)(*args), E.cmp_num.jit()(*args))
            c = float(rng.integers(-3, 4))
            got = _aot(exports, E.cmp_fmt_const)(av, an, c, np.int32(op))
            want = E.cmp_fmt_const.jit()(av, an, c, np.int32(op))
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g, w)
        for op in range(4):
            for quirk in (False, True):
                got = _aot(exports, E.arith)(av, an, bv, bn, np.int32(op), V, S, quirk)
                want = E.arith.jit()(av, an, bv, bn, np.int32(op), V, S, quirk)
                np.testing.assert_array_equal(got[0], want[0])
                np.testing.assert_array_equal(got[1], want[1])
        gt = rng.integers(-2, 3, size=(V, S, 2)).astype(np.int8)
        has_gt = rng.random(V) < 0.9
        np.testing.assert_array_equal(_aot(exports, E.gt_classes)(gt, has_gt),
                                      E.gt_classes.jit()(gt, has_gt))
        filters = rng.random((V, 3)) < 0.3
        mask = np.array([True, False, True])
        for op in range(2):
            np.testing.assert_array_equal(
                _aot(exports, E.filter_match)(filters, mask, np.int32(op)),
                E.filter_match.jit()(filters, mask, np.int32(op)))
        m = rng.random((V, S)) < 0.2
        np.testing.assert_array_equal(_aot(exports, E.any_samples)(m), E.any_samples.jit()(m))
        np.testing.assert_array_equal(_aot(exports, E.any_value)(av), E.any_value.jit()(av))


def _aot(exports, kernel):
    """Call only the AOT export (fail rather than fall back to the JIT)."""
    (fn, specs), = exports[kernel.qualified_name]

    def call(*args):
        assert all(map(_numba._matches, args, specs)), "arguments do not match the export"
        return fn(*args)

    return call


def test_mismatched_arguments_fall_back_to_the_jit(exports):
    """float32 values, a non-contiguous view or a read-only output would be reinterpreted by
    the compiled module; the guard sends them to the JIT, which gets them right."""
    guarded = _numba._guarded(E.cmp_num, exports[E.cmp_num.qualified_name])
    av = np.array([[[1.0], [5.0]]], np.float32)          # 1 record x 2 samples, W = 1
    an = np.ones((1, 2), np.int32)
    bv = np.array([[[3.0]]])
    bn = np.ones((1, 1), np.int32)
    got = guarded(av, an, bv, bn, np.int32(E.OP_GT), 1, 2)
    assert got.tolist() == [[False, True]]
    wide = np.array([[[1.0, 0.0], [5.0, 0.0]]])[:, :, :1]  # not C-contiguous
    assert not wide.flags.c_contiguous
    assert guarded(wide, an, bv, bn, np.int32(E.OP_GT), 1, 2).tolist() == [[False, True]]
    assert not _numba._matches(np.zeros(3, np.float32), ("array", np.dtype("float64"), 1, False))
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    assert not _numba._matches(frozen, ("array", np.dtype("float64"), 1, False))
    assert _numba._matches(frozen, ("array", np.dtype("float64"), 1, True))
    # a default argument (arith's site_quirk) is filled in, so the export still applies
    assert _numba._guarded(E.arith, exports[E.arith.qualified_name])(
        bv, bn, bv, bn, np.int32(E.OP_ADD), 1, 1)[0].tolist() == [[[6.0]]]


@pytest.mark.parametrize("field, value", [("sources_sha256", "0" * 64), ("cpu", "another"),
                                          ("python", "cpython-27")])
def test_stale_or_foreign_build_is_not_used(aot_dir, tmp_path, monkeypatch, field, value):
    meta = json.loads((aot_dir / f"{_numba.AOT_MODULE}.json").read_text())
    shutil.copy(aot_dir / meta["file"], tmp_path / meta["file"])
    meta[field] = value
    (tmp_path / f"{_numba.AOT_MODULE}.json").write_text(json.dumps(meta))
    monkeypatch.setenv("PGX_AOT_DIR", str(tmp_path))
    _numba._aot_exports.cache_clear()
    try:
        assert _numba._aot_exports() == {}
        monkeypatch.setenv("PGX_AOT_DIR", str(aot_dir))
        _numba._aot_exports.cache_clear()
        assert _numba._aot_exports(), "the unmodified build should load"
        monkeypatch.setenv("PGX_KERNELS", "jit")
        _numba._aot_exports.cache_clear()
        assert _numba._aot_exports() == {}
    finally:
        _numba._aot_exports.cache_clear()
