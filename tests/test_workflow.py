"""Checks of the Snakemake workflow itself (lint, config and sample-sheet validation)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_venv_snakemake = Path(sys.executable).with_name("snakemake")
SNAKEMAKE = str(_venv_snakemake) if _venv_snakemake.exists() else shutil.which("snakemake")

pytestmark = pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake not installed")


def run_snakemake(*args, cwd):
    return subprocess.run(
        [SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_lint_clean():
    proc = run_snakemake("--lint", cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def dry_run(tmp_path, rows):
    """Dry-run the workflow on a sample sheet of (sample, vcf) rows, outside the repo."""
    (tmp_path / "x.vcf").touch()
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("sample\tvcf\n" + "".join(f"{s}\tx.vcf\n" for s in rows))
    config = tmp_path / "config.yaml"
    config.write_text(f"samples: {sheet}\ndefinitions: embedded\n")
    return run_snakemake(
        "-n", "-s", str(REPO / "Snakefile"), "--configfile", str(config), cwd=tmp_path
    )


def test_valid_sheet_dry_run(tmp_path):
    proc = dry_run(tmp_path, ["P1", "P2.b"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "merge_calls" in proc.stdout


@pytest.mark.parametrize(
    "rows, message",
    [
        (["P1", "bad/id"], "bad/id"),
        (["P1", "P2", "P1"], "Duplicate sample IDs"),
        (["P1", "cohort"], "reserved"),
    ],
    ids=["slash", "duplicate", "reserved"],
)
def test_invalid_sheet_rejected(tmp_path, rows, message):
    proc = dry_run(tmp_path, rows)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
