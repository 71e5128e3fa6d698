"""Timing helpers shared by the benchmark scripts: wall time and peak RSS of a command."""
from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time

GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_measured(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, peak RSS in MiB of it or any of its children)."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss_file:
        full = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *cmd] if GNU_TIME else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd[:6])} ...\n"
                             f"{err.read().decode(errors='replace')}")
        if GNU_TIME:
            return wall, int(rss_file.read().split()[-1]) / 1024  # KiB
    return wall, usage.ru_maxrss / 1024  # Linux: KiB


def bench(label: str, make_cmd, repeat: int, env=None) -> dict:
    """``make_cmd(k)`` is the command of run ``k`` (0 = the warm-up). Dirty pages are
    written out (``sync``) before each run, so that no run pays for the writes of the one
    before it."""
    os.sync()
    run_measured(make_cmd(0), env)  # warm-up
    walls, rss = [], []
    for k in range(1, repeat + 1):
        os.sync()
        w, r = run_measured(make_cmd(k), env)
        walls.append(w)
        rss.append(r)
    return {"label": label, "median_s": statistics.median(walls), "min_s": min(walls),
            "max_s": max(walls), "runs_s": walls, "peak_rss_mib": max(rss)}


