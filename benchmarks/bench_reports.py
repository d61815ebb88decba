"""Wall time of `persona run` with one job and with several: prints JSON.

Runs every notebook of a preset twice, each time from an empty world cache (as a fresh clone's
``make reports`` does): ``--jobs 1`` and ``--jobs N`` (default 2). Reports the run's wall
seconds, per notebook its execute seconds from run.json, the process-tree CPU seconds of the
whole run (``RUSAGE_CHILDREN``, each run in its own subprocess so the figures are its own), and
whether the two runs wrote byte-identical metrics files. Run with
``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_reports.py [--preset default] [--jobs 2]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed_run(preset: str, seed: int, jobs: int, root: Path) -> dict:
    """One `persona run` in a subprocess from an empty cache: wall, CPU and per-notebook times."""
    out, cache = root / f"reports-{jobs}", root / f"cache-{jobs}"
    command = [sys.executable, "-m", "persona_lib.report.cli", "run", "--preset", preset,
               "--seed", str(seed), "--out", str(out), "--no-progress", "--jobs", str(jobs),
               "-p", "DATA_DIR", str(cache)]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    record = json.loads((out / "run.json").read_text())
    return {
        "jobs": jobs,
        "exit_code": done.returncode,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "notebooks": {nb["name"]: nb["execute_s"] for nb in record["notebooks"]},
        "failed": record["failed"],
        "metrics": {p.name: p.read_bytes() for p in sorted(out.glob("*.metrics.json"))},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="persona-bench-reports-") as tmp:
        serial = timed_run(args.preset, args.seed, 1, Path(tmp))
        parallel = timed_run(args.preset, args.seed, args.jobs, Path(tmp))
    same = serial.pop("metrics") == parallel.pop("metrics")
    print(json.dumps({
        "preset": args.preset, "seed": args.seed, "serial": serial, "parallel": parallel,
        "speedup": round(serial["wall_s"] / parallel["wall_s"], 2),
        "metrics_identical": same,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
