"""export_logs: the smoke world's logs round-trip exactly through load_logs (Parquet, CSV, the
day store), the truth never lands in the logs folder, and folders are replaced atomically."""

import json

import numpy as np
import pandas as pd
import pytest

from persona_lib.data import SchemaError, load_logs, validate
from persona_lib.sim import code_version, export_logs, load_or_simulate
from persona_lib.sim import export as export_module


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return load_or_simulate("smoke", random_state=0, data_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.parametrize(
    ("file_format", "layout"), [("parquet", "files"), ("csv", "files"), ("parquet", "store")]
)
def test_round_trip_equals_the_world_in_canonical_dtypes(world, tmp_path, file_format, layout):
    done = export_logs(world, tmp_path / "logs", format=file_format, layout=layout)
    logs = load_logs(tmp_path / "logs")
    names = [*world.tables, "propensities"]
    assert sorted(done["tables"]) == sorted(names) == sorted(logs.tables)
    for name in names:
        expected = validate(getattr(world, name), name)
        pd.testing.assert_frame_equal(getattr(logs, name), expected, check_exact=True)
        assert logs.summary[name].rows == done["tables"][name]["rows"] == len(expected)
    assert logs.summary["events"].layout == ("store" if layout == "store" else "file")


def test_the_truth_goes_only_to_truth_out(world, tmp_path):
    done = export_logs(world, tmp_path / "logs", truth_out=tmp_path / "truth")
    files = sorted(
        p.relative_to(tmp_path / "logs").as_posix() for p in (tmp_path / "logs").rglob("*")
    )
    assert files == sorted([f"{n}.parquet" for n in done["tables"]] + ["export.json"])
    manifest = json.loads((tmp_path / "logs" / "export.json").read_text())
    assert "config" not in manifest and "truth" not in manifest
    assert str(tmp_path) not in json.dumps(done)
    for name, frame in world.truth.tables.items():
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "truth" / f"{name}.parquet"), frame
        )
    assert done["truth"]["config"] == world.config.to_dict()
    no_truth = export_logs(world, tmp_path / "other")
    assert no_truth["truth"] is None and not (tmp_path / "other" / "truth").exists()


def test_a_previous_export_is_replaced_whole(world, tmp_path):
    export_logs(world, tmp_path / "logs", format="csv")
    export_logs(world, tmp_path / "logs", layout="store")
    names = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert "events.csv" not in names and "events" in names
    assert load_logs(tmp_path / "logs").summary["events"].layout == "store"
    assert [p.name for p in tmp_path.iterdir()] == ["logs"]  # no temporary folders left


def test_a_folder_of_other_files_is_refused_untouched(world, tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "mine.csv").write_text("a\n1\n")
    with pytest.raises(FileExistsError, match="not empty and not a previous persona export"):
        export_logs(world, tmp_path / "logs")
    assert [p.name for p in (tmp_path / "logs").iterdir()] == ["mine.csv"]
    export_logs(world, tmp_path / "empty_ok")  # an empty folder is fine
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "x").write_text("")
    with pytest.raises(FileExistsError, match="truth: not empty"):
        export_logs(world, tmp_path / "new", truth_out=tmp_path / "truth")
    assert not (tmp_path / "new").exists()  # checked before anything is written


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"format": "json"}, "format must be one of parquet, csv"),
        ({"layout": "tree"}, "layout must be one of files, store"),
        ({"format": "csv", "layout": "store"}, "layout 'store' writes Parquet partitions"),
        ({"truth_out": "LOGS/truth"}, "overlaps the logs folder"),
    ],
)
def test_bad_arguments(world, tmp_path, kwargs, problem):
    if "truth_out" in kwargs:
        kwargs = {"truth_out": tmp_path / "logs" / "truth"}
    with pytest.raises(ValueError, match=problem):
        export_logs(world, tmp_path / "logs", **kwargs)
    assert not (tmp_path / "logs").exists()


def test_a_failed_write_leaves_the_previous_export(world, tmp_path, monkeypatch):
    export_logs(world, tmp_path / "logs", format="csv")
    before = {p.name: p.read_bytes() for p in (tmp_path / "logs").iterdir()}

    def fail(frame, path):
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "write_parquet", fail)
    with pytest.raises(OSError, match="disk full"):
        export_logs(world, tmp_path / "logs")
    assert {p.name: p.read_bytes() for p in (tmp_path / "logs").iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["logs"]


def test_export_is_outside_the_simulator_code_hash():
    assert "persona_lib/sim/export.py" not in code_version.SIMULATOR_FILES
    assert (
        "persona_lib/data/folder.py" in code_version.SIMULATOR_FILES
    )  # imported by the data layer


def _assignments(world):
    users = world.users["user_id"].to_numpy()[:40]
    return pd.DataFrame({
        "user_id": users,
        "experiment": "rows-v2",
        "variant": np.where(users % 2 == 0, "control", "treatment"),
        "assigned_ts": pd.Timestamp(world.config.start) + pd.Timedelta(days=2),
    })  # fmt: skip


@pytest.mark.parametrize("layout", ["files", "store"])
def test_extra_tables_are_validated_and_round_trip(world, tmp_path, layout):
    assignments = _assignments(world)
    done = export_logs(world, tmp_path / "logs", layout=layout,
                       extra_tables={"assignments": assignments})  # fmt: skip
    assert done["tables"]["assignments"] == {"file": "assignments.parquet", "rows": 40}
    logs = load_logs(tmp_path / "logs")
    pd.testing.assert_frame_equal(logs.assignments, validate(assignments, "assignments"))
    assert logs.outcomes is None and logs.campaigns is None


@pytest.mark.parametrize(
    ("extra", "error", "problem"),
    [
        ({"movies": "frame"}, ValueError, r"optional tables the world .*\['movies'\]"),
        ({"propensities": "frame"}, ValueError, r"\['propensities'\]"),
        ({"events": "frame"}, ValueError, r"\['events'\]"),
        ({"assignments": "no variant"}, SchemaError, r"extra_tables\['assignments'\].*'variant'"),
        ({"assignments": "unknown user"}, SchemaError, r"extra_tables\['assignments'\].*user"),
    ],
)
def test_bad_extra_tables_are_refused_before_writing(world, tmp_path, extra, error, problem):
    frame = _assignments(world)
    name, kind = next(iter(extra.items()))
    if kind == "no variant":
        frame = frame.drop(columns="variant")
    if kind == "unknown user":
        frame.loc[3, "user_id"] = world.users["user_id"].max() + 1
    with pytest.raises(error, match=problem):
        export_logs(world, tmp_path / "logs", extra_tables={name: frame})
    assert not (tmp_path / "logs").exists()
