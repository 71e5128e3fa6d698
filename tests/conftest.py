"""Shared fixtures: repo paths, the ../shared reference data (skip cleanly when absent)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PGX = [sys.executable, "-m", "pgx"]


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared reference data is absent")
    return SHARED


@pytest.fixture(scope="session")
def pharmcat_definitions(shared) -> Path:
    path = shared / "oracle" / "pharmcat" / "definitions"
    if not path.is_dir():
        pytest.skip("PharmCAT definitions absent from ../shared")
    return path


@pytest.fixture
def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def _make_demo():
    """resources/demo/make_demo.py as a module (its Patient model writes VCFs from the panel)."""
    import importlib.util

    name = "pgx_make_demo"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "resources" / "demo" /
                                                      "make_demo.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def patient_vcf(tmp_path):
    """``patient_vcf(sample, design={gene: alleles}, absent={gene: [rsid]}, nocall=...,
    filtered=..., phased=False, sex="F")`` -> path of a bgzipped, indexed VCF with a record at
    every defined position of the embedded panel (minus ``absent``), genotypes built from the
    named alleles as the demo patients are."""
    md = _make_demo()
    from pgx.definitions import load_definitions

    defs = load_definitions()

    def make(sample: str, **kwargs) -> Path:
        patient = md.Patient(sample, **kwargs)
        path = tmp_path / f"{sample}.vcf.gz"
        md.write_vcf_gz(md.vcf_text(patient, defs), path)
        return path

    return make
