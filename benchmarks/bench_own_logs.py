"""Notebooks on a team's own logs against the simulated run of the same world: prints JSON.

Exports a preset's world (default: ``default``, about 14 M events) without its truth as the
day-partitioned store layout (`persona export --layout store`), then runs every notebook twice,
each in its own ``persona run --only NN`` process: on the simulated world (``--preset``) and on
the export (``--data``). Per notebook it reports wall seconds and the peak resident memory of
the whole process tree (the runner and its kernel, polled every 0.1 s with psutil), and whether
the run on the store used no more memory than the simulated run.

Notebooks whose main world is not the preset's (they enlarge or cap it) read the exported
preset world with ``--data``, so their two runs see different data; ``same_world`` says which.

Run with ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_own_logs.py [--preset default]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PERSONA = [sys.executable, "-m", "persona_lib.report.cli"]


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def measured(command: list[str]) -> dict:
    """Run `command`; wall seconds, peak RSS of its process tree (MiB) and the exit code."""
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    process, peak, done = psutil.Process(child.pid), 0, threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, _tree_rss(process))
            except psutil.Error:
                pass
            time.sleep(0.1)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    _, stderr = child.communicate()
    done.set()
    watcher.join()
    result = {
        "wall_s": round(time.perf_counter() - start, 1),
        "peak_rss_mib": round(peak / 2**20, 1),
        "exit_code": child.returncode,
    }
    if child.returncode:
        result["error"] = stderr.decode(errors="replace").strip().splitlines()[-1:]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=["01", "02", "03", "04", "05", "06", "07"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="persona-own-logs-") as tmp:
        tmp = Path(tmp)
        cache = ROOT / "data" / "synthetic"
        logs = tmp / "logs"
        export = measured([
            *PERSONA, "export", "--preset", args.preset, "--seed", str(args.seed),
            "--out", str(logs), "--layout", "store", "--data-dir", str(cache),
        ])  # fmt: skip
        if export["exit_code"]:
            print(json.dumps({"export": export}))
            raise SystemExit(1)
        events = json.loads((logs / "export.json").read_text())["tables"]["events"]["rows"]
        rows = []
        for nb in args.only:
            common = ["run", "--preset", args.preset, "--seed", str(args.seed), "--only", nb,
                      "--no-progress", "-p", "DATA_DIR", str(cache)]  # fmt: skip
            simulated = measured([*PERSONA, *common, "--out", str(tmp / f"sim-{nb}")])
            own = measured(
                [*PERSONA, *common, "--out", str(tmp / f"logs-{nb}"), "--data", str(logs)]
            )
            rows.append({
                "notebook": nb,
                "simulated": simulated,
                "own_logs_store": own,
                "memory_not_higher": own["peak_rss_mib"] <= simulated["peak_rss_mib"],
            })  # fmt: skip
    print(json.dumps({
        "preset": args.preset, "seed": args.seed, "events": events, "export": export,
        "notebooks": rows,
        "every_store_run_at_most_simulated_memory": all(r["memory_not_higher"] for r in rows),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
