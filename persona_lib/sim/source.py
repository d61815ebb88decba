"""Where a notebook's world comes from: a team's folder of logs, or the simulated service.

``open_world(DATA, PRESET or config, ...)`` is every notebook's first call. With ``DATA`` (a folder
of logs in persona's schema, `persona_lib.data.folder`) it returns the validated `Logs`: no
truth (reading ``.truth`` raises `TruthUnavailable`), no simulator. Without it, the simulated
world of a preset name (`load_or_simulate`) or of a `SimulationConfig`, cached under
``data_dir/config-<hash>/`` with the same checks as a preset's cache, so notebooks that ask for
the same enlarged world share one simulation. ``open_engine`` opens the signals engine over
either: a simulated world's event store (written once under ``stores_dir``), a folder of logs in
the store layout in place, or, for ``pandas``, the frames in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from persona_lib.data.folder_logs import Logs, TruthUnavailable, open_logs
from persona_lib.signals.engines import open_signals
from persona_lib.sim.cache import (
    cached_world,
    directory_lock,
    load_or_simulate,
    preset_cache_dir,
)
from persona_lib.sim.config import SimulationConfig
from persona_lib.sim.event_store import ensure_store, logs_store_matches, write_logs_to_store
from persona_lib.sim.world import World

__all__ = [
    "WORLDS_LOG",
    "TruthUnavailable",
    "config_cache_dir",
    "open_engine",
    "open_world",
    "opened_worlds",
]

WORLDS_LOG = "PERSONA_WORLDS_LOG"  # environment: a file where open_world notes each cached world


def _digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def config_cache_dir(config: SimulationConfig, data_dir: str | os.PathLike) -> Path:
    """``<data_dir>/config-<first 16 hex of the SHA-256 of the config's JSON>``."""
    return Path(data_dir) / f"config-{_digest(config.to_dict())}"


def open_world(
    data: str | os.PathLike | None,
    world: str | SimulationConfig,
    *,
    random_state: int = 0,
    data_dir: str | os.PathLike = "data/synthetic",
) -> World | Logs:
    """The logs of `data` when given, else the simulated world of `world`.

    Parameters
    ----------
    data : path or None
        A folder of logs (``""`` or None: simulate), opened with `open_logs`: each table
        is read and validated (as `load_logs` does) when first used.
    world : str or SimulationConfig
        A preset name (``random_state`` is its seed) or a full config (its own seed).
    random_state : int
        Seed of a preset's world.
    data_dir : path
        Cache of simulated worlds.

    Returns
    -------
    World or Logs
        ``has_truth`` says which: a `World` carries the simulator's truth, `Logs` do not.

    Raises
    ------
    SchemaError
        If `data` is not a valid folder of logs (file, table, column and rows named).
    """
    if data:
        return open_logs(data)
    if isinstance(world, SimulationConfig):
        directory = config_cache_dir(world, data_dir)
        opened = cached_world(world, directory)
    else:
        directory = preset_cache_dir(world, random_state, data_dir)
        opened = load_or_simulate(world, random_state=random_state, data_dir=data_dir)
    _note(directory)
    return opened


def _note(directory: Path) -> None:
    """Append the cached world's folder name to the file `WORLDS_LOG` names, when it is set
    (`persona run` sets it per notebook, so run.json says which world each notebook read)."""
    log = os.environ.get(WORLDS_LOG)
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps({"world": directory.name}) + "\n")


def opened_worlds(log: str | os.PathLike) -> tuple[str, ...]:
    """The folder names `open_world` noted in `log`, first opening first, each once."""
    path = Path(log)
    if not path.is_file():
        return ()
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(dict.fromkeys(json.loads(line)["world"] for line in lines if line.strip()))


def open_engine(engine: str, world: World | Logs, store: str | os.PathLike | None = None):
    """The signals engine `engine` over `world` (use it as a context manager).

    Parameters
    ----------
    engine : {"pandas", "duckdb", "spark"}
        As `persona_lib.signals.engines.open_signals`.
    world : World or Logs
        A simulated world (its event store is written to `store` when missing or stale) or
        logs: read in place when `Logs.is_store`, else written once as a store beside `store`
        (``logs-<hash of the files>``, reused while the files are unchanged).
    store : path, optional
        Where the event store lives; required for a SQL engine unless the logs are a store.

    Raises
    ------
    ValueError
        A SQL engine without `store` where one has to be written.
    """
    if engine == "pandas":
        return open_signals("pandas", world=world)
    if isinstance(world, Logs):
        if world.is_store:
            return open_signals(engine, store=world.folder)
        if store is None:
            raise ValueError(f"the {engine} engine needs store= for logs not in the store layout")
        key = {t: world.summary[t].sha256 for t in world.summary.names}
        root = Path(store).with_name(f"logs-{_digest(key)}")
        with directory_lock(root):  # notebooks run at once share this store
            if not logs_store_matches(root, key):
                write_logs_to_store(world.tables, root, key)
        return open_signals(engine, store=root)
    if store is None:
        raise ValueError(f"the {engine} engine needs store= for a simulated world")
    with directory_lock(store):
        return open_signals(engine, store=ensure_store(world, store))
