"""The simulated streaming service: members, titles and artworks with latent tastes, sessions on a
homepage served by a policy, plays, billing and churn, pushes; its truth beside its logs; the world
cache and the day-partitioned event store. `sim.sales` simulates sales campaigns on a world.
`export_logs` writes a world's logs (without the truth) as a folder that `data.load_logs` reads.

Above `models` on purpose: nothing that learns from logs can import the simulator or its truth.
"""

from persona_lib.sim.cache import load_or_simulate
from persona_lib.sim.config import SimulationConfig, load_preset, presets_dir
from persona_lib.sim.event_store import (
    ensure_store,
    read_events,
    read_manifest,
    read_table,
    read_world,
    simulate_to_store,
    store_matches,
    write_world_to_store,
)
from persona_lib.sim.population import SEGMENTS
from persona_lib.sim.sessions import WEEKDAY
from persona_lib.sim.simulate import simulate
from persona_lib.sim.world import Truth, World, load_world, save_world

__all__ = [
    "SEGMENTS",
    "SimulationConfig",
    "Truth",
    "WEEKDAY",
    "World",
    "ensure_store",
    "export_logs",
    "open_engine",
    "open_world",
    "load_or_simulate",
    "load_preset",
    "load_world",
    "presets_dir",
    "read_events",
    "read_manifest",
    "read_table",
    "read_world",
    "save_world",
    "simulate",
    "simulate_to_store",
    "store_matches",
    "write_world_to_store",
]


def __getattr__(name: str):
    """`export_logs`, `open_engine` and `open_world` on first use: they are kept out of the
    simulator's import closure, so they stay out of the code hash that keys the world cache."""
    if name == "export_logs":
        from persona_lib.sim.export import export_logs

        return export_logs
    if name in ("open_engine", "open_world"):
        from persona_lib.sim import source

        return getattr(source, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
