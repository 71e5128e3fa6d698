"""Per-patient reports (HTML, JSON, TSV, optional PDF) from calls + recommendations JSON."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from pgx.errors import InputError, UsageError
from pgx.naming import check_sample_name
from pgx.report.model import REPORT_SCHEMA, build_report, read_recommendations, report_validator
from pgx.report.render import render_html, render_tsv

__all__ = ["REPORT_SCHEMA", "build_report", "read_recommendations", "report_validator",
           "render_html", "render_tsv", "report_files", "find_chromium", "print_pdf",
           "CHROMIUM_INSTALL"]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_INSTALL = ("install Chromium for --pdf: `sudo apt-get install chromium` (Debian/Ubuntu; "
                    "or `make sysdeps` as root), or put chromium on PATH")


def report_files(outdir: Path, doc: dict) -> dict[Path, str]:
    """``{path: text}`` of the HTML, JSON and TSV reports of one patient."""
    sample = check_sample_name(doc["sample"], fix="rename the sample in the VCF")
    return {
        outdir / f"{sample}.report.html": render_html(doc),
        outdir / f"{sample}.report.json": json.dumps(doc, indent=1, ensure_ascii=False) + "\n",
        outdir / f"{sample}.report.tsv": render_tsv(doc),
    }


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_args(binary: str, profile: str) -> list[str]:
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-default-apps", "--mute-audio",
            f"--user-data-dir={profile}"]


def print_pdf(html: str, dest: Path, timeout: float = 120) -> None:
    """Print ``html`` to ``dest`` with headless Chromium (written atomically)."""
    binary = find_chromium()
    if binary is None:
        raise InputError(f"--pdf: Chromium not found; {CHROMIUM_INSTALL}")
    with tempfile.TemporaryDirectory(prefix="pgx-report-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        pdf = Path(tmp) / "report.pdf"
        cmd = chromium_args(binary, str(Path(tmp) / "profile")) + [
            "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise InputError(f"--pdf: Chromium did not finish within {timeout:.0f} s; retry "
                             f"without --pdf and print the HTML report") from None
        if not pdf.is_file() or pdf.stat().st_size == 0:
            last = (r.stderr or r.stdout or "").strip().splitlines()[-1:] or [""]
            raise InputError(f"--pdf: Chromium ({binary}) wrote no PDF (exit {r.returncode}: "
                             f"{last[0][:200]}); retry without --pdf and print the HTML report")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp_dest = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            shutil.copyfile(pdf, tmp_dest)
            os.replace(tmp_dest, dest)
        except OSError as exc:
            if tmp_dest.exists():
                tmp_dest.unlink()
            raise UsageError(f"{dest}: cannot write the PDF ({exc.strerror or exc}); choose a "
                             f"writable location with -o") from exc
