"""Timings of the public `persona_lib.signals` functions on a preset: prints one JSON object.

Run from the repository root with
``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_signals.py --preset default``. The world is
read with ``load_or_simulate(preset, seed, "data/synthetic")``. Each function is timed on the
raw events (``seconds``; ``cpu_seconds`` beside it, as a busy shared machine inflates wall-clock
time) and, where it accepts ``tiles=``, again with the attribution computed
once by `tile_outcomes` (``seconds_given_tiles``). Timings are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import inspect
import json
import time


def best_of(repeat: int, fn, *args, **kwargs) -> float:
    """Best wall-clock seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return round(min(times), 3)


def timed(repeat: int, fn, *args, **kwargs) -> tuple[float, float]:
    """Best wall-clock seconds and the process (CPU) seconds of all ``repeat`` calls / repeat."""
    cpu = time.process_time()
    wall = best_of(repeat, fn, *args, **kwargs)
    return wall, round((time.process_time() - cpu) / repeat, 3)


def calls(world) -> dict:
    """Name -> (function, args, kwargs) for every public function, on the world's tables."""
    from persona_lib import signals as s

    ev, titles, users, arts = world.events, world.titles, world.users, world.artworks
    out = {
        "tile_outcomes": (s.tile_outcomes, (ev, titles), {}),
        "compute_funnel": (s.compute_funnel, (ev,), {"titles": titles}),
        "compute_funnel_by_device": (s.compute_funnel, (ev,), {"by": "device", "titles": titles}),
        "funnel_steps": (s.funnel_steps, (ev,), {"titles": titles}),
        "position_bias_curve": (s.position_bias_curve, (ev,), {}),
        "position_heatmap": (s.position_heatmap, (ev,), {}),
        "scroll_past_signal": (s.scroll_past_signal, (ev,), {}),
        "impression_table": (s.impression_table, (ev, users, titles, arts), {}),
        "play_outcomes": (s.play_outcomes, (ev, titles), {}),
        "completion_and_rewatch": (s.completion_and_rewatch, (ev, titles), {}),
        "browsing_speed": (s.browsing_speed, (ev,), {}),
        "play_rate_by_browsing_speed": (s.play_rate_by_browsing_speed, (ev,), {}),
        "session_summary": (s.session_summary, (ev,), {}),
        "hours_by_source": (s.hours_by_source, (ev,), {}),
        "time_of_day_profile": (s.time_of_day_profile, (ev,), {}),
        "confidence_weights": (s.confidence_weights, (ev, titles), {}),
    }
    if hasattr(s, "member_browsing_speed"):
        out["member_browsing_speed"] = (s.member_browsing_speed, (ev,), {})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="smoke")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", nargs="+", help="time only these functions")
    args = parser.parse_args(argv)

    from persona_lib.signals import tile_outcomes
    from persona_lib.sim import load_or_simulate

    start = time.perf_counter()
    world = load_or_simulate(args.preset, args.seed, "data/synthetic")
    result = {"preset": args.preset, "events": len(world.events),
              "load_seconds": round(time.perf_counter() - start, 2), "seconds": {},
              "cpu_seconds": {}, "seconds_given_tiles": {}}  # fmt: skip
    tiles = None
    for name, (fn, fn_args, kwargs) in calls(world).items():
        if args.only and name not in args.only:
            continue
        wall, cpu = timed(args.repeat, fn, *fn_args, **kwargs)
        result["seconds"][name], result["cpu_seconds"][name] = wall, cpu
        if "tiles" in inspect.signature(fn).parameters:
            if tiles is None:
                tiles = tile_outcomes(world.events, world.titles)
            given = best_of(args.repeat, fn, *fn_args, tiles=tiles, **kwargs)
            result["seconds_given_tiles"][name] = given
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
