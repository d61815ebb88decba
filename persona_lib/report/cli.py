"""The ``persona`` command: render reports, validate data, simulate or export a world, features,
import a public data set.

Heavy modules (papermill, the data layer) are imported inside each command so that
``persona --help`` stays fast and one command's missing dependency does not break the others.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from persona_lib.report.runner import RunResult

__all__ = ["main", "parse_scalar"]

PRESETS = ("smoke", "default", "large")  # listing order; the names come from the presets folder
_EXPONENT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+")
TABLES = (
    "events", "titles", "artworks", "users", "billing", "notifications",
    "propensities", "assignments", "outcomes", "campaigns",
)  # fmt: skip
IMPORT_SOURCES = ("movielens", "obd", "telco", "cookie-cats")  # `persona import` data sets


def parse_scalar(text: str) -> str | int | float | bool | None:
    """Parse a ``-p NAME VALUE`` value as a YAML scalar: int, float, bool, null or str.

    Anything that YAML reads as a non-scalar (list, mapping, date) stays the original string.

    Examples
    --------
    >>> [parse_scalar(v) for v in ["3", "0.5", "1e-3", "true", "null", "abc", "2024-01-01"]]
    [3, 0.5, 0.001, True, None, 'abc', '2024-01-01']
    """
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if value is None and text.strip() not in {"null", "Null", "NULL", "~"}:
        return text  # an empty string is a string, not None
    if isinstance(value, str) and _EXPONENT.fullmatch(text.strip()):
        return float(text)  # YAML 1.1 reads "1e-3" as a string; a learning rate it is
    return value if value is None or isinstance(value, (bool, int, float, str)) else text


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="persona",
        description="Render reports, validate data, simulate or export a world, features.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="execute the notebooks and write HTML reports")
    run.add_argument("--preset", default="default", help="smoke, default (default) or large")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--only", nargs="+", metavar="NAME", help="e.g. 01_data_signals or 01")
    run.add_argument("--out", default="reports", help="output folder (default: reports)")
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="extra notebook parameter (YAML scalar)",
    )
    run.add_argument("--notebooks", default=None, help="folder of NN_*.ipynb (default: notebooks)")
    run.add_argument(
        "--data", default=None, metavar="PATH",
        help="folder of your own logs (validated first; passed as DATA to notebooks that take it)",
    )  # fmt: skip
    run.add_argument("--hide-code", action="store_true", help="leave code cells out of reports")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    run.add_argument("--jobs", type=int, default=None, metavar="N",
                     help="notebooks run at once (default: the number of cores)")  # fmt: skip

    validate = commands.add_parser(
        "validate", help="check a CSV or Parquet file, or a folder of logs, against the schema"
    )
    validate.add_argument("path", help="a file (with --table) or a folder of logs")
    validate.add_argument("--table", choices=TABLES, help="the file's table")

    simulate = commands.add_parser("simulate", help="simulate (or load the cached) world")
    simulate.add_argument("--preset", required=True, help="smoke, default or large")
    simulate.add_argument("--seed", type=int, required=True)
    simulate.add_argument("--data-dir", default=None)

    export = commands.add_parser(
        "export", help="write a simulated world's logs (no truth) as a folder run --data reads"
    )
    export.add_argument("--preset", required=True, help="smoke, default or large")
    export.add_argument("--seed", type=int, required=True)
    export.add_argument("--out", required=True, help="logs folder: new, empty or an export")
    export.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    export.add_argument("--layout", choices=("files", "store"), default="files")
    export.add_argument("--truth", default=None, metavar="DIR", help="folder for the truth")
    export.add_argument("--data-dir", default=None, help="world cache (as persona simulate)")

    features = commands.add_parser(
        "features",
        help="point-in-time member features from an event store (DuckDB, or Spark on a cluster)",
    )
    features.add_argument("store", help="event store root: a folder, or a URI such as s3a://...")
    features.add_argument("--cutoff", nargs="+", required=True, help="e.g. 2025-02-01")
    features.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    features.add_argument(
        "--master", default=None,
        help="Spark master (e.g. local[2]); default: the session spark-submit configured",
    )  # fmt: skip
    features.add_argument("--out", required=True, help="Parquet file to write (atomically)")

    imports = commands.add_parser(
        "import", help="write a public data set as a folder of logs in persona's schema"
    )
    imports.add_argument("source", choices=IMPORT_SOURCES, help="the data set")
    imports.add_argument("src", help="its folder (obd: the root with random/ and bts/) or file")
    imports.add_argument("--out", required=True, help="logs folder to write: new or empty")
    imports.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    imports.add_argument("--force", action="store_true", help="replace a non-empty --out")
    imports.add_argument("--policy", choices=("random", "bts"), help="obd: logging policy (random)")
    imports.add_argument("--campaign", choices=("all", "men", "women"), help="obd: campaign (all)")
    return parser


def _available_presets() -> list[str]:
    """Preset names: the YAML files `load_preset` reads, smoke, default, large first."""
    from persona_lib.sim.config import presets_dir

    folder = presets_dir()
    names = {p.stem for p in folder.glob("*.yaml")} if folder.is_dir() else set(PRESETS)
    order = {name: i for i, name in enumerate(PRESETS)}
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


def _check_preset(preset: str) -> None:
    """Raise a one-line `ValueError` unless `preset` names a preset file."""
    available = _available_presets()
    if preset not in available:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(available)}")


def _cmd_run(args: argparse.Namespace) -> int:
    """``persona run``: usage errors (exit 2) are found before anything is written."""
    try:
        return _run(args)
    except KeyboardInterrupt as exc:
        record = getattr(exc, "run_json", None)
        marked = f"; {record} marks the run incomplete" if record else ""
        print(f"persona run: interrupted{marked}", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    """Check the preset, notebooks, parameters and output folder, then run and report."""
    from persona_lib.report.parameters import check_parameters
    from persona_lib.report.runner import discover_notebooks, run_notebooks

    overrides = {name: parse_scalar(value) for name, value in args.parameter}
    try:
        if args.data is not None and not Path(args.data).is_dir():
            raise ValueError(f"--data {args.data}: no such folder")
        if args.jobs is not None and args.jobs < 1:
            raise ValueError(f"--jobs {args.jobs}: give at least 1")
        _check_preset(args.preset)
        paths = discover_notebooks(args.notebooks, args.only)
        if not paths:
            raise ValueError("no notebooks named NN_*.ipynb found")
        others = [p for p in discover_notebooks(args.notebooks) if p not in paths]  # --only
        check_parameters(paths, overrides, others)
        result = run_notebooks(
            preset=args.preset,
            seed=args.seed,
            out_dir=args.out,
            only=args.only,
            parameters=overrides,
            notebooks_dir=args.notebooks,
            hide_code=args.hide_code,
            progress=not args.no_progress,
            jobs=args.jobs,
            data=args.data,
        )
    except ValueError as exc:
        print(f"persona run: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"persona run: cannot write to {exc.filename or args.out}: {reason}", file=sys.stderr)
        return 2
    return _report(result)


def _report(result: RunResult) -> int:
    """Print the run's summary and failures; 1 if a notebook failed, else 0."""
    print(f"{len(result.notebooks)} notebooks in {result.duration_s:.1f} s -> {result.index}")
    for nb in result.notebooks:
        if nb.status != "ok":
            print(f"FAILED {nb.name}: {nb.error}", file=sys.stderr)
    if result.failed:
        print(
            f"persona run: {len(result.failed)} failed: {', '.join(result.failed)}", file=sys.stderr
        )
        return 1
    return 0


def _read_frame(path: Path, table: str):
    """Load with the data layer's loader when it exists, else plain pandas by extension."""
    try:
        from persona_lib.data.logs import load_table
    except ImportError:
        import pandas as pd

        if path.suffix.lower() in {".parquet", ".pq"}:
            return pd.read_parquet(path)
        return pd.read_csv(path)
    return load_table(path, table)


def _validate_folder(path: Path) -> int:
    from persona_lib.data import SchemaError, validate_folder

    try:
        summary = validate_folder(path)
    except SchemaError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    tables = ", ".join(f"{t.table} {t.rows:,}" for t in summary.tables)
    ignored = f"; ignored: {', '.join(summary.ignored)}" if summary.ignored else ""
    print(f"ok: {path}: {tables}{ignored}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from persona_lib.data import SchemaError, validate

    path = Path(args.path)
    if path.is_dir():
        return _validate_folder(path)
    if args.table is None and path.is_file():
        print(f"persona validate: {path} is a file: name its table with --table", file=sys.stderr)
        return 2
    if not path.is_file():
        print(f"persona validate: no such file: {path}", file=sys.stderr)
        return 2
    try:
        frame = _read_frame(path, args.table)
        validate(frame, args.table, source=str(path))
    except SchemaError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ValueError as exc:  # e.g. a file type the loader does not read
        print(f"persona validate: {exc}", file=sys.stderr)
        return 2
    print(f"ok: {len(frame):,} rows x {frame.shape[1]} columns, table {args.table}, {path}")
    return 0


def _describe(world: Any) -> str:
    """One-line summary of whatever the simulator returned: row counts of its frames."""
    import pandas as pd

    tables = world if isinstance(world, dict) else getattr(world, "tables", None)
    if isinstance(tables, dict):
        items = tables.items()
    else:
        items = vars(world).items() if hasattr(world, "__dict__") else []
    sizes = [f"{name} {len(value):,}" for name, value in items if isinstance(value, pd.DataFrame)]
    return ", ".join(sizes) if sizes else type(world).__name__


def _world_of(args: argparse.Namespace, command: str):
    """The cached or simulated world of ``--preset``/``--seed``/``--data-dir``; None (after one
    line on stderr) for an unknown preset."""
    try:
        _check_preset(args.preset)
    except ValueError as exc:
        print(f"persona {command}: {exc}", file=sys.stderr)
        return None
    from persona_lib.sim import load_or_simulate

    kwargs = {} if args.data_dir is None else {"data_dir": args.data_dir}
    return load_or_simulate(args.preset, random_state=args.seed, **kwargs)


def _cmd_simulate(args: argparse.Namespace) -> int:
    world = _world_of(args, "simulate")
    if world is None:
        return 2
    print(f"preset {args.preset}, seed {args.seed}: {_describe(world)}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    world = _world_of(args, "export")
    if world is None:
        return 2
    from persona_lib.sim import export_logs

    try:
        done = export_logs(
            world, args.out, format=args.format, layout=args.layout, truth_out=args.truth
        )
    except (ValueError, FileExistsError) as exc:
        print(f"persona export: {exc}", file=sys.stderr)
        return 2
    tables = ", ".join(f"{name} {t['rows']:,}" for name, t in done["tables"].items())
    truth = f"; truth -> {args.truth}" if args.truth else ""
    print(f"preset {args.preset}, seed {args.seed}: {tables} -> {args.out}{truth}")
    return 0


def _spark_session(master: str | None):
    """The session to run in: a local one for ``master``, else the configured one (the master
    and resources spark-submit or a managed service set, ``local[*]`` when run plainly)."""
    from persona_lib.signals.sql.spark_engine import local_session

    if master is not None:
        return local_session(master)
    from pyspark.sql import SparkSession

    return SparkSession.builder.appName("persona features").getOrCreate()


def _cmd_features(args: argparse.Namespace) -> int:
    import pandas as pd

    from persona_lib.data.io import write_parquet
    from persona_lib.signals.engines import open_signals

    options = {}
    if args.engine == "spark":
        from persona_lib.signals.sql.spark_engine import spark_unavailable

        reason = spark_unavailable()
        if reason:
            print(f"persona features: {reason}", file=sys.stderr)
            return 2
        options["spark"] = _spark_session(args.master)
    try:
        cutoffs = [pd.Timestamp(c) for c in args.cutoff]
        with open_signals(args.engine, store=args.store, **options) as engine:
            frame = pd.concat([engine.member_features(c) for c in cutoffs], ignore_index=True)
    except (FileNotFoundError, ValueError) as exc:
        print(f"persona features: {exc}", file=sys.stderr)
        return 2
    path = write_parquet(frame, args.out)
    print(f"{len(frame):,} member snapshots x {frame.shape[1] - 2} features -> {path}")
    return 0


def _one_line(error: Exception) -> str:
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip())


def _cmd_import(args: argparse.Namespace) -> int:
    """``persona import``: 2 for a missing source or a refused --out, 1 for a malformed source."""
    options = {}
    if args.source == "obd":
        options = {"policy": args.policy or "random", "campaign": args.campaign or "all"}
    elif args.policy or args.campaign:
        print(f"persona import: --policy and --campaign are for obd, not {args.source}",
              file=sys.stderr)  # fmt: skip
        return 2
    from persona_lib.datasets.importers import IMPORTERS

    importer = IMPORTERS[args.source]
    try:
        result = importer(args.src, args.out, format=args.format, force=args.force, **options)
    except (FileNotFoundError, FileExistsError) as exc:
        print(f"persona import: {_one_line(exc)}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a malformed source: the message names the file
        print(f"persona import: {_one_line(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"persona import: cannot write {exc.filename or args.out}: {reason}", file=sys.stderr)
        return 2
    tables = ", ".join(f"{name} {rows:,}" for name, rows in result.rows.items())
    print(f"{args.source} {args.src}: {tables} -> {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``persona`` console script.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 1 when notebooks failed or the data is invalid,
        2 on usage errors.

    Examples
    --------
    >>> main(["run", "--preset", "smoke", "--only", "01"])  # doctest: +SKIP
    0
    """
    args = _build_parser().parse_args(argv)
    command = {"run": _cmd_run, "validate": _cmd_validate, "simulate": _cmd_simulate,
               "export": _cmd_export, "features": _cmd_features, "import": _cmd_import}  # fmt: skip
    return command[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
