"""The world cache: ``load_or_simulate`` reads a saved world or simulates and saves it first.

A world is cached under ``<data_dir>/<preset>-<seed>/`` (`world.save_world`). Its manifest records
the format, the config and the simulator's code hash (`code_version.code_manifest`); a cache is
reused only when all three match the running code, so an edited simulator never serves a world
made by its older self.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from persona_lib.sim import code_version
from persona_lib.sim.config import load_preset
from persona_lib.sim.simulate import simulate
from persona_lib.sim.world import FORMAT_VERSION, MANIFEST, World, load_world, save_world

__all__ = ["load_or_simulate"]


def load_or_simulate(
    preset: str = "smoke", random_state: int = 0, data_dir: str | os.PathLike = "data/synthetic"
) -> World:
    """Load ``<data_dir>/<preset>-<random_state>/`` or simulate and save it first.

    The cache is reused only when its manifest records the same format, the same config and
    the running simulator code (`code_version.code_manifest`); otherwise, e.g. after an edit of
    the simulator, the world is simulated again and saved over the cache.
    """
    config = load_preset(preset).replace(random_state=random_state)
    name = Path(preset).stem if str(preset).endswith((".yaml", ".yml")) else preset
    directory = Path(data_dir) / f"{name}-{random_state}"
    manifest = directory / MANIFEST
    if manifest.is_file():
        stored = json.loads(manifest.read_text(encoding="utf-8"))
        if (
            stored.get("format") == FORMAT_VERSION
            and stored.get("config") == config.to_dict()
            and stored.get("code") == code_version.code_manifest()
        ):
            return load_world(directory)
    world = simulate(config)
    save_world(world, directory)
    return world
