"""Atomic writes: a folder or file is replaced whole, or left as it was when the block fails."""

import pytest

from persona_lib.data.io import atomic_directory, write_text


def test_atomic_directory_replaces_the_folder_whole(tmp_path):
    target = tmp_path / "out"
    with atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("first")
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    with atomic_directory(target) as tmp:
        assert not (tmp / "a.txt").exists()  # a fresh folder, not a copy
        (tmp / "b.txt").write_text("second")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary left


def test_a_failed_block_leaves_the_old_folder(tmp_path):
    target = tmp_path / "out"
    with atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("kept")
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("disk full")
    assert (target / "a.txt").read_text() == "kept" and not (target / "half.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    write_text("x", tmp_path / "f.txt")
    assert (tmp_path / "f.txt").read_text() == "x"
