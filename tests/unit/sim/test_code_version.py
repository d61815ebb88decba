"""The simulator code hash: deterministic, path-free, sensitive to content, complete."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from persona_lib.sim import code_version
from persona_lib.sim.code_version import (
    SIMULATOR_FILES,
    SOURCE_ROOT,
    code_manifest,
    hash_source_files,
    simulator_code_hash,
)

FILES = ("pkg/a.py", "pkg/b.py", "pkg/sub/c.py")


def write_tree(root: Path, newline: str = "\n") -> Path:
    for name in FILES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f'"""{name}."""', "", f"VALUE = {len(name)}", ""]
        path.write_bytes(newline.join(lines).encode())
    return root


def test_hash_is_hex_sha256_and_deterministic(tmp_path):
    root = write_tree(tmp_path)
    first = hash_source_files(root, FILES)
    assert len(first) == 64 and int(first, 16) >= 0
    assert hash_source_files(root, FILES) == first
    assert hash_source_files(str(root), list(reversed(FILES))) == first  # sorted internally


def test_hash_does_not_depend_on_the_checkout_path_or_cwd(tmp_path, monkeypatch):
    first = hash_source_files(write_tree(tmp_path / "one"), FILES)
    assert hash_source_files(write_tree(tmp_path / "elsewhere" / "two"), FILES) == first
    monkeypatch.chdir(tmp_path / "one" / "pkg")
    assert hash_source_files(tmp_path / "one", FILES) == first
    assert simulator_code_hash.__wrapped__() == simulator_code_hash()


def test_hash_changes_with_one_files_content_or_name(tmp_path):
    root = write_tree(tmp_path)
    before = hash_source_files(root, FILES)
    path = root / "pkg" / "sub" / "c.py"
    path.write_bytes(path.read_bytes().replace(b"VALUE = 12", b"VALUE = 13"))
    after = hash_source_files(root, FILES)
    assert after != before
    (root / "pkg" / "d.py").write_bytes(path.read_bytes())
    assert hash_source_files(root, (*FILES[:2], "pkg/d.py")) != after  # same bytes, other name
    assert hash_source_files(root, FILES[:2]) != after  # a file left out


def test_hash_ignores_windows_line_endings(tmp_path):
    unix = hash_source_files(write_tree(tmp_path / "unix"), FILES)
    windows = write_tree(tmp_path / "windows", newline="\r\n")
    assert b"\r\n" in (windows / FILES[0]).read_bytes()
    assert hash_source_files(windows, FILES) == unix


def test_a_missing_file_is_an_error_not_a_silent_hash(tmp_path):
    with pytest.raises(FileNotFoundError):
        hash_source_files(write_tree(tmp_path), (*FILES, "pkg/gone.py"))


def test_simulator_hash_covers_the_listed_files_and_is_cached():
    assert simulator_code_hash() == hash_source_files(SOURCE_ROOT, SIMULATOR_FILES)
    assert simulator_code_hash() is simulator_code_hash()
    assert list(SIMULATOR_FILES) == sorted(SIMULATOR_FILES)
    assert all((SOURCE_ROOT / name).is_file() for name in SIMULATOR_FILES)


def test_code_manifest_names_files_relatively_and_is_json(tmp_path):
    manifest = code_manifest()
    assert manifest == {"simulator_sha256": simulator_code_hash(), "files": list(SIMULATOR_FILES)}
    assert "persona_lib/sim/simulate.py" in manifest["files"]
    assert not any(name.startswith("/") or "\\" in name for name in manifest["files"])
    assert str(SOURCE_ROOT) not in json.dumps(manifest)
    manifest["files"].append("x.py")  # a caller's copy: the next manifest is unchanged
    assert code_manifest()["files"] == list(SIMULATOR_FILES)


# Run in a fresh interpreter, so modules imported by other tests do not count: simulate a tiny
# world, save it, write it as a store and stream one, then list every persona_lib module loaded.
USED_MODULES = """
import json, sys, tempfile
from pathlib import Path
from persona_lib.sim.event_store import ensure_store, read_world, simulate_to_store
from persona_lib.sim.simulate import simulate
from persona_lib.sim.config import SimulationConfig
from persona_lib.sim.world import load_world, save_world

config = SimulationConfig(n_users=40, n_titles=20, n_days=2)
with tempfile.TemporaryDirectory() as tmp:
    world = simulate(config)
    load_world(save_world(world, Path(tmp) / "world"))
    read_world(ensure_store(world, Path(tmp) / "store"))
    simulate_to_store(config, Path(tmp) / "streamed")
files = {
    name: getattr(module, "__file__", None)
    for name, module in sys.modules.items()
    if name == "persona_lib" or name.startswith("persona_lib.")
}
print(json.dumps(files))
"""


def test_every_module_the_simulator_imports_is_hashed(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(SOURCE_ROOT)}  # the very sources that are hashed
    done = subprocess.run(
        [sys.executable, "-c", USED_MODULES],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    files = json.loads(done.stdout)
    assert "persona_lib.sim.simulate" in files and "persona_lib.sim.sales.config" not in files
    key = Path(code_version.__file__).resolve()  # computes the key, writes nothing: not hashed
    used = set()
    for name, file in files.items():
        path = Path(file).resolve()
        if path.name != "__init__.py" and path != key:  # package inits hold no simulator code
            assert name.startswith(("persona_lib.data.", "persona_lib.sim.")), name  # layers
            used.add(path.relative_to(SOURCE_ROOT).as_posix())
    assert used <= set(SIMULATOR_FILES)  # nothing the simulation runs is left out of the hash
