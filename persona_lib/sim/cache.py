"""The world cache: ``load_or_simulate`` reads a saved world or simulates and saves it first.

A world is cached under ``<data_dir>/<preset>-<seed>/`` (`world.save_world`). Its manifest records
the format, the config and the simulator's code hash (`code_version.code_manifest`); a cache is
reused only when all three match the running code, so an edited simulator never serves a world
made by its older self.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from persona_lib.sim import code_version
from persona_lib.sim.config import SimulationConfig, load_preset
from persona_lib.sim.simulate import simulate
from persona_lib.sim.world import FORMAT_VERSION, MANIFEST, World, load_world, save_world

__all__ = ["cached_world", "directory_lock", "load_or_simulate", "preset_cache_dir"]


def preset_cache_dir(
    preset: str, random_state: int, data_dir: str | os.PathLike = "data/synthetic"
) -> Path:
    """``<data_dir>/<preset name>-<random_state>``: where `load_or_simulate` keeps a world."""
    name = Path(preset).stem if str(preset).endswith((".yaml", ".yml")) else preset
    return Path(data_dir) / f"{name}-{random_state}"


def cached_world(config: SimulationConfig, directory: str | os.PathLike) -> World:
    """The world of `config` saved in `directory`, or simulated and saved there first.

    The saved world is reused only when its manifest records the same format, the same config
    and the running simulator code (`code_version.code_manifest`); otherwise, e.g. after an
    edit of the simulator, the world is simulated again and saved over it.
    """
    directory = Path(directory)
    with directory_lock(directory):  # notebooks run at once simulate a shared world once
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


@contextmanager
def directory_lock(directory: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on ``<directory>.lock`` (beside it) while the block runs, so
    that processes sharing a cache wait for one another instead of writing the same folder;
    where `fcntl` is missing (Windows) the block runs unlocked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path = Path(f"{Path(directory)}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_or_simulate(
    preset: str = "smoke", random_state: int = 0, data_dir: str | os.PathLike = "data/synthetic"
) -> World:
    """Load ``<data_dir>/<preset>-<random_state>/`` or simulate and save it first
    (`cached_world`)."""
    config = load_preset(preset).replace(random_state=random_state)
    return cached_world(config, preset_cache_dir(preset, random_state, data_dir))
