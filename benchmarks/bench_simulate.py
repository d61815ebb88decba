"""Benchmark and calibration of the simulated world: prints one JSON line per preset.

Each preset runs in a fresh subprocess so its peak RSS is its own. ``cpu_seconds`` (process
time) is reported beside wall-clock seconds because a busy shared machine inflates the latter.
Run with
``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_simulate.py --presets smoke default [large]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def calibration(world) -> dict:
    """Headline behaviour figures to compare with the public targets."""
    from persona_lib.signals import monthly_churn, viewing_time

    events = world.events
    etype = events["event_type"]
    n_imp = int((etype == "impression").sum())
    stops = events[etype == "play_stop"]
    hours = stops["watch_s"].astype("float64")
    churn = monthly_churn(world.billing).iloc[-1]  # the pooled row
    renewals = int(churn["renewals"])
    lost = int(churn["churned"] + churn["payment_failed"])
    plays = int((etype == "play_start").sum())
    sessions = int(events["session_id"].nunique())
    start = world.config.start
    viewing = viewing_time(
        events, world.users, world.billing, start, start + world.config.n_days
    )  # per paid member-day: the figures streaming services publish are per paid membership
    return {
        "hours_per_member_month": round(viewing.hours_per_member_month, 2),
        "daily_active_share": round(viewing.daily_active_share, 3),
        "sittings_per_active_day": round(viewing.sittings_per_active_day, 2),
        "sitting_minutes": round(viewing.sitting_minutes, 1),
        "visits_per_member_day": round(viewing.visits_per_member_day, 3),
        "monthly_churn_pct": round(100 * lost / max(renewals, 1), 3),
        "involuntary_share_of_churn": round(int(churn["payment_failed"]) / max(lost, 1), 3),
        "play_rate_per_impression_pct": round(100 * plays / max(n_imp, 1), 3),
        "click_rate_per_impression_pct": round(
            100 * int((etype == "click").sum()) / max(n_imp, 1), 3
        ),
        "search_share_of_hours": round(
            float(hours[stops["row_id"] == "search"].sum() / max(hours.sum(), 1e-9)), 3
        ),
        "events_per_session": round(len(events) / max(sessions, 1), 2),
        "sessions_without_play_pct": round(
            100 * (1 - events.loc[etype == "play_start", "session_id"].nunique() / sessions), 2
        ),
        "rewatch_share_of_plays": round(int((etype == "rewatch").sum()) / max(plays, 1), 3),
        "truth_play_rate_per_impression_pct": round(
            100 * float(world.truth.tables["impressions"]["p_play"].mean()), 3
        ),
    }


PHASES = {
    "population": "make_population",
    "day_loop": "simulate_day",
    "policy_frames": "events_frame",
    "merge_days": "_finish_events",
}


def _timed_phases() -> dict[str, float]:
    """Wrap the simulator's phase functions to add up their CPU seconds.

    ``policy_frames`` is the per-day frame handed to ``policy.update`` (plus the final frame,
    which is counted inside ``merge_days`` too); billing and the truth tables are the rest.
    """
    import importlib

    sim = importlib.import_module("persona_lib.sim.simulate")  # the module, not the function

    spent = dict.fromkeys(PHASES, 0.0)

    def wrap(phase: str, function):
        def timed(*args, **kwargs):
            cpu = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[phase] += time.process_time() - cpu

        return timed

    for phase, name in PHASES.items():
        setattr(sim, name, wrap(phase, getattr(sim, name)))
    return spent


def run_one(preset: str) -> dict:
    """Simulate one preset in this process and measure it."""
    from persona_lib.sim import load_preset, simulate

    config = load_preset(preset)
    phases = _timed_phases()
    start, cpu = time.perf_counter(), time.process_time()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    world = simulate(config)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_SELF)
    detail = {
        "user_seconds": round(after.ru_utime - usage.ru_utime, 2),
        "system_seconds": round(after.ru_stime - usage.ru_stime, 2),  # mostly page faults
        "phase_cpu_seconds": {k: round(v, 2) for k, v in phases.items()},
        "simulate_peak_rss_mb": round(after.ru_maxrss / 1024, 1),
    }  # before calibration
    n = len(world.events)
    return {
        "preset": preset,
        "users": config.n_users,
        "titles": config.n_titles,
        "days": config.n_days,
        "events": n,
        "seconds": round(seconds, 2),
        "events_per_second": round(n / seconds),
        "cpu_seconds": round(cpu, 2),
        "events_per_cpu_second": round(n / cpu),
        "bytes_per_event": round(world.events.memory_usage(deep=True).sum() / n, 2),
        **detail,
        **calibration(world),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["smoke", "default"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.child)))
        return
    for preset in args.presets:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        out = subprocess.run(
            [sys.executable, __file__, "--child", preset],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        result["peak_rss_mb"] = round(max(peak, before) / 1024, 1)  # Linux: KiB
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
