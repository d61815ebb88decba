"""Benchmark of homepage scoring: one member's page (latency) and batches (throughput).

Simulates a world with the default preset's catalog (2,000 titles) and fewer members, fits ALS
on its logs, precomputes a `HomepageScorer` and prints one JSON line: p50/p99 milliseconds per
single page (``scorer.page``, the real-time path, also with a just-played title folded in),
and pages per second of the batch builder (``scorer.pages``, the serving policy's path) on
batches of the size the simulator requests. Each timing is wall clock on one BLAS thread;
the ``cpu_`` figures beside it are process time, per page for the percentiles (a busy shared
machine inflates wall clock, mostly in its tail, while a page's CPU time stays what the code
costs). Run with
``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_scoring.py [--users 5000 --days 30]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _percentiles(values: list[float], prefix: str = "") -> dict[str, float]:
    ms = 1000 * np.asarray(values)
    return {f"{prefix}p50_ms": round(float(np.percentile(ms, 50)), 3),
            f"{prefix}p99_ms": round(float(np.percentile(ms, 99)), 3),
            f"{prefix}max_ms": round(float(ms.max()), 3)}  # fmt: skip


def _time_pages(call, members) -> tuple[dict, float]:
    wall, cpu, total = [], [], time.process_time()
    for u in members:
        start, start_cpu = time.perf_counter(), time.process_time()
        call(u)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    cpu_ms = 1000 * (time.process_time() - total) / len(members)
    return {**_percentiles(wall), **_percentiles(cpu, "cpu_")}, round(cpu_ms, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--cols", type=int, default=9)
    parser.add_argument("--pages", type=int, default=2000, help="single pages timed")
    parser.add_argument("--batch", type=int, default=1250, help="members per batch")
    args = parser.parse_args()

    from persona_lib.models import ALSRecommender
    from persona_lib.models.homepage import HomepageScorer
    from persona_lib.sim import load_preset, simulate

    config = load_preset("default").replace(n_users=args.users, n_days=args.days)
    world = simulate(config)
    model = ALSRecommender(factors=args.factors, regularization=50.0, iterations=10)
    model.fit(world.events, n_users=config.n_users, n_titles=config.n_titles, titles=world.titles)
    start = time.perf_counter()
    scorer = HomepageScorer.from_recommender(model, world.titles, events=world.events,
                                             popularity_weight=1.0)  # fmt: skip
    precompute_s = time.perf_counter() - start
    rng = np.random.default_rng(0)
    members = rng.integers(0, config.n_users, args.pages)
    shape = {"n_rows": args.rows, "n_cols": args.cols}
    for u in members[:20]:  # warm-up
        scorer.page(int(u), **shape)
    single, single_cpu = _time_pages(lambda u: scorer.page(int(u), **shape), members)
    recent = rng.integers(0, config.n_titles, (args.pages, 2))
    lookup = dict(zip(members.tolist(), recent.tolist(), strict=False))
    folded, folded_cpu = _time_pages(
        lambda u: scorer.page(int(u), history=lookup[int(u)], **shape), members)  # fmt: skip
    batches = [rng.choice(config.n_users, args.batch, replace=False) for _ in range(5)]
    start, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        scorer.pages(batch, **shape)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    n_pages = args.batch * len(batches)
    print(json.dumps({
        "titles": config.n_titles, "users": config.n_users, "days": config.n_days,
        "model": f"ALS({args.factors} factors)", "page": f"{args.rows}x{args.cols}",
        "precompute_s": round(precompute_s, 3),
        "single_page": {**single, "cpu_ms_mean": single_cpu},
        "single_page_with_recent_plays": {**folded, "cpu_ms_mean": folded_cpu},
        "batch_pages_per_s": round(n_pages / wall, 1),
        "batch_pages_per_cpu_s": round(n_pages / cpu, 1),
        "batch_size": args.batch,
        "target_p99_ms": 2.0,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
