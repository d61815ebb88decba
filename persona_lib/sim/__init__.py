"""The simulated streaming service: members, titles and artworks with latent tastes, sessions on a
homepage served by a policy, plays, billing and churn, pushes; its truth beside its logs; the world
cache and the day-partitioned event store. `sim.sales` simulates sales campaigns on a world.

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
