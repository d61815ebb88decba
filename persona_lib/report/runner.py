"""Render every numbered notebook into a folder of offline HTML reports.

``run_notebooks`` executes ``notebooks/NN_*.ipynb`` in order with papermill, in this process
(one kernel per notebook), then writes per notebook the executed ``.ipynb``, the ``.html``
report and picks up the ``.metrics.json`` it recorded; finally ``index.html`` and ``run.json``.
A failing notebook does not stop the others: its partial output is still exported.

Every file is written atomically (temp file, then rename), so a reader never sees half a report.
The output folder is checked for writability before the first notebook runs. On Ctrl-C the
interrupted notebook's files are removed, ``run.json`` (``"status": "interrupted"``) and
``index.html`` list the notebooks that finished, and `RunInterrupted` is raised.

Measured cost on a 2-core machine: about 0.7 s per notebook for papermill and the kernel's
start and shutdown (a one-cell notebook takes 0.66-0.80 s), export 0.015 s a report with the
exporter warm; the first export in a process adds ~0.4 s (templates) and, if it has charts,
~1.6 s to build vl-convert's bundle. A report with charts weighs ~1.2 MB (0.9 MB of it the
inlined bundle), one without ~265 KB (JupyterLab's CSS).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from persona_lib.data.io import write_json, write_text
from persona_lib.report.export import export_html
from persona_lib.report.index_page import index_html
from persona_lib.report.metrics import metrics_path, read_metrics
from persona_lib.report.needs import prune_notebook
from persona_lib.report.parameters import parameter_defaults
from persona_lib.report.run_record import data_record, run_record
from persona_lib.sim.source import WORLDS_LOG, opened_worlds

__all__ = ["NotebookResult", "RunInterrupted", "RunResult", "discover_notebooks", "run_notebooks"]


@dataclass(frozen=True)
class NotebookResult:
    """Outcome of one notebook: status, timings, metrics and the files written."""

    name: str
    status: str  # "ok" or "failed"
    execute_s: float
    export_s: float
    ipynb: str | None
    html: str | None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    worlds: tuple[str, ...] = ()  # cached simulated worlds it opened (folders in DATA_DIR)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of the fields."""
        return asdict(self)


@dataclass(frozen=True)
class RunResult:
    """Outcome of a run: one `NotebookResult` per notebook plus the index and run files."""

    out_dir: str
    notebooks: tuple[NotebookResult, ...]
    index: str
    run_json: str
    duration_s: float

    @property
    def failed(self) -> list[str]:
        """Names of the notebooks that raised."""
        return [nb.name for nb in self.notebooks if nb.status != "ok"]

    @property
    def ok(self) -> bool:
        """True when every notebook ran to the end."""
        return not self.failed


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during `run_notebooks`, raised after ``run.json`` marked the run incomplete.

    A `KeyboardInterrupt`, so code that handles Ctrl-C keeps working; ``run_json`` is the path
    of the record that lists the notebooks that finished.
    """

    def __init__(self, run_json: str) -> None:
        super().__init__(run_json)
        self.run_json = run_json


def _default_notebooks_dir() -> Path:
    """``./notebooks`` if present, else the ``notebooks`` folder beside the package."""
    here = Path.cwd() / "notebooks"
    return here if here.is_dir() else Path(__file__).resolve().parents[2] / "notebooks"


def _matches(path: Path, name: str) -> bool:
    """True if `name` is the stem, the stem without its number, the number or the file name."""
    number, _, topic = path.stem.partition("_")
    return name in {path.stem, path.name, topic, number}


def discover_notebooks(
    notebooks_dir: str | os.PathLike | None = None, only: list[str] | None = None
) -> list[Path]:
    """Return the numbered notebooks ``NN_*.ipynb`` in order, optionally only some of them.

    Parameters
    ----------
    notebooks_dir : path, optional
        Folder to search; defaults to ``./notebooks`` or the repository's ``notebooks``.
    only : list of str, optional
        Names to keep: ``"01_data_signals"``, ``"data_signals"`` or ``"01"``.

    Returns
    -------
    list of Path

    Raises
    ------
    ValueError
        If a name in `only` matches no notebook.

    Examples
    --------
    >>> discover_notebooks("notebooks", only=["01"])  # doctest: +SKIP
    [PosixPath('notebooks/01_data_signals.ipynb')]
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else _default_notebooks_dir()
    paths = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not only:
        return paths
    unknown = [name for name in only if not any(_matches(p, name) for p in paths)]
    if unknown:
        raise ValueError(f"no notebook named {unknown} in {folder}; have {[p.stem for p in paths]}")
    return [p for p in paths if any(_matches(p, name) for name in only)]


def _execute(
    path: Path, out_dir: Path, parameters: dict[str, Any], progress: bool,
    tables: tuple[str, ...] | None = None,
) -> tuple[str | None, tuple[str, ...]]:  # fmt: skip
    """Execute one notebook into ``<out_dir>/<stem>.ipynb``.

    Returns the error text (None on success) and the cached simulated worlds the notebook
    opened (`persona_lib.sim.source.WORLDS_LOG`: their folder names under ``DATA_DIR``).
    With `tables` (a run on a folder of logs) the notebook executed is `prune_notebook`'s: the
    sections whose needs those tables do not meet are left out, each replaced by one line.
    """
    import papermill

    target = out_dir / f"{path.stem}.ipynb"
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=f".{path.stem}.") as tmp:
        scratch = Path(tmp) / target.name
        source = path
        if tables is not None:
            source = Path(tmp) / f"input-{path.name}"
            pruned = prune_notebook(nbformat.read(path, as_version=4), tables)
            source.write_text(nbformat.writes(pruned), encoding="utf-8")
        error, log = None, Path(tmp) / "worlds.jsonl"
        os.environ[WORLDS_LOG] = str(log)  # the kernel inherits it
        try:
            papermill.execute_notebook(
                str(source),
                str(scratch),
                parameters=parameters,
                kernel_name="python3",
                cwd=str(path.parent),
                progress_bar={"desc": path.stem, "leave": False} if progress else False,
            )
        except papermill.PapermillExecutionError as exc:
            error = f"{exc.ename}: {exc.evalue}"
        except Exception as exc:  # kernel death, missing kernel, bad notebook: report, go on
            error = f"{type(exc).__name__}: {exc}"
        finally:
            os.environ.pop(WORLDS_LOG, None)
        worlds = opened_worlds(log)
        if scratch.exists():
            nb = nbformat.read(scratch, as_version=4)
            nb.metadata.setdefault("papermill", {})["output_path"] = str(target)
            write_text(nbformat.writes(nb), target)
    return error, worlds


def _output_files(path: Path, out_dir: Path) -> tuple[Path, Path, Path]:
    """The metrics JSON, executed notebook and HTML report that `path` writes into `out_dir`."""
    return (
        metrics_path(path.stem, out_dir),
        out_dir / f"{path.stem}.ipynb",
        out_dir / f"{path.stem}.html",
    )


def _remove_outputs(path: Path, out_dir: Path) -> None:
    """Delete the files of `path` in `out_dir`, so no earlier or partial output passes as new."""
    for stale in _output_files(path, out_dir):
        stale.unlink(missing_ok=True)


def _run_one(
    path: Path, out_dir: Path, parameters: dict[str, Any], hide_code: bool, progress: bool,
    tables: tuple[str, ...] | None = None,
) -> NotebookResult:  # fmt: skip
    """Execute, export and collect the metrics of one notebook (`_execute` for `tables`)."""
    metrics_file, ipynb, html_file = _output_files(path, out_dir)
    _remove_outputs(path, out_dir)  # never show an earlier run's output as this run's
    start = time.perf_counter()
    error, worlds = _execute(path, out_dir, parameters, progress, tables)
    execute_s = time.perf_counter() - start
    html_path, export_s = None, 0.0
    if ipynb.exists():
        start = time.perf_counter()
        try:
            html_path = export_html(ipynb, html_file, hide_code=hide_code)
        except Exception as exc:
            error = error or f"export failed: {type(exc).__name__}: {exc}"
        export_s = time.perf_counter() - start
    try:
        metrics = read_metrics(metrics_file) if metrics_file.exists() else {}
    except ValueError as exc:
        metrics, error = {}, error or f"unreadable metrics: {exc}"
    return NotebookResult(
        name=path.stem,
        status="failed" if error else "ok",
        execute_s=round(execute_s, 3),
        export_s=round(export_s, 3),
        ipynb=ipynb.name if ipynb.exists() else None,
        html=html_path.name if html_path else None,
        metrics=metrics,
        error=error,
        worlds=worlds,
    )


def _data_parameters(paths: list[Path], data: str | os.PathLike | None) -> dict[Path, dict]:
    """``{"DATA": <absolute folder>}`` for each notebook whose parameters cell declares DATA."""
    if data is None:
        return {}
    absolute = str(Path(data).resolve())
    return {p: {"DATA": absolute} for p in paths if "DATA" in parameter_defaults(p)}


def _prepare_out_dir(out: Path) -> None:
    """Create `out` and write and remove a probe file in it, before any notebook runs.

    Raises
    ------
    OSError
        With ``filename`` set to `out` and the system's reason, e.g. a read-only folder or a
        full disk.
    """
    existed = out.is_dir()
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".persona-probe-") as probe:
            probe.write(b"persona")
            probe.flush()
    except OSError as exc:
        if not existed and out.is_dir():
            with contextlib.suppress(OSError):
                out.rmdir()
        raise OSError(exc.errno, exc.strerror or str(exc), str(out)) from exc


def _write_reports(
    run: dict[str, Any], results: list[NotebookResult], out: Path
) -> tuple[Path, Path]:
    """Write ``run.json``, then ``index.html``; an `OSError` names the file that failed."""
    pending = [
        (out / "run.json", lambda path: write_json(run, path)),
        (out / "index.html", lambda path: write_text(index_html(results, run), path)),
    ]
    written = []
    for target, write in pending:
        try:
            written.append(write(target))
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
    return written[0], written[1]


def _run_parallel(tasks: dict[Path, tuple], jobs: int, done: dict, bar) -> None:
    """`_run_one` of every task in `jobs` spawned processes (each its own environment, so the
    worlds log of one notebook is not another's); results land in `done` as they finish."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
    try:
        futures = {
            pool.submit(_run_one, path, out, params, hide, False, tables): key
            for key, (path, out, params, hide, tables) in tasks.items()
        }
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            bar.update()
    finally:
        bar.close()
        pool.shutdown(wait=True, cancel_futures=True)


def run_notebooks(
    preset: str = "default",
    seed: int = 0,
    out_dir: str | os.PathLike = "reports",
    only: list[str] | None = None,
    parameters: dict[str, Any] | None = None,
    notebooks_dir: str | os.PathLike | None = None,
    hide_code: bool = False,
    progress: bool = True,
    data: str | os.PathLike | None = None,
    jobs: int | None = None,
) -> RunResult:
    """Execute the numbered notebooks and write their reports, ``index.html`` and ``run.json``.

    Parameters
    ----------
    preset : str, default "default"
        Passed to every notebook as ``PRESET``.
    seed : int, default 0
        Passed as ``SEED``.
    out_dir : path, default "reports"
        Output folder; notebooks get its absolute path as ``OUT_DIR``.
    only : list of str, optional
        Run only these notebooks (``"01_data_signals"``, ``"data_signals"`` or ``"01"``).
    parameters : dict, optional
        Extra or overriding notebook parameters, e.g. ``{"N_USERS": 500}``.
    notebooks_dir : path, optional
        Where ``NN_*.ipynb`` live; defaults to ``./notebooks`` or the repository's.
    hide_code : bool, default False
        Leave input cells out of the HTML reports.
    progress : bool, default True
        Show tqdm bars (notebooks, and cells within each notebook) on stderr.
    data : path, optional
        A folder of the team's own logs (`persona_lib.data.folder`), validated before anything
        runs; its absolute path is passed as ``DATA`` to each notebook whose parameters cell
        declares ``DATA``. ``run.json`` records it as given, with each table's rows, layout
        and SHA-256; without it, ``data`` names the simulated preset and seed.
    jobs : int, optional
        Notebooks run at once, each in its own process (default: the number of cores, at most
        the number of notebooks). The outputs are those of a serial run: each notebook writes
        only its own files, and a world several notebooks use is simulated once (the cache
        takes a lock while it simulates). With more than one job, one bar counts notebooks.

    Returns
    -------
    RunResult
        Per-notebook outcomes; ``.failed`` lists the notebooks that raised.

    Raises
    ------
    ValueError
        If a name in `only` matches no notebook, or `data` is given with a ``DATA`` parameter
        (before anything is written).
    SchemaError
        If `data` is not a valid folder of logs (a `ValueError`; before anything is written).
    OSError
        If `out_dir` cannot be created or written (checked before the first notebook runs),
        or a report cannot be written; ``filename`` names the folder or file.
    RunInterrupted
        On Ctrl-C, after ``run.json`` (``"status": "interrupted"``) and ``index.html`` list the
        notebooks that finished and the interrupted notebook's files were removed.

    Examples
    --------
    >>> result = run_notebooks(preset="smoke", seed=1, out_dir="reports")  # doctest: +SKIP
    >>> result.failed  # doctest: +SKIP
    []
    """
    from tqdm.auto import tqdm

    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # kernels inherit it; implicit's ALS needs it
    paths = discover_notebooks(notebooks_dir, only)
    if data is not None and "DATA" in (parameters or {}):
        raise ValueError("DATA is set by --data (the data argument), not as a parameter")
    source = data_record(data, preset, seed)
    data_parameters = _data_parameters(paths, data)
    out = Path(out_dir).resolve()
    _prepare_out_dir(out)
    base = {"PRESET": preset, "SEED": seed, "OUT_DIR": str(out), **(parameters or {})}
    folder = paths[0].parent if paths else Path.cwd()
    started, clock, done = time.time(), time.perf_counter(), {}
    tasks = {
        path: (
            path, out, {**base, **data_parameters.get(path, {})}, hide_code,
            tuple(source["tables"]) if path in data_parameters else None,
        )
        for path in paths
    }  # fmt: skip
    jobs = min(jobs or os.cpu_count() or 1, max(len(paths), 1))
    try:
        if jobs == 1:
            for path in tqdm(paths, desc="notebooks", unit="nb", disable=not progress):
                path_, out_, params, hide, tables = tasks[path]
                done[path] = _run_one(path_, out_, params, hide, progress, tables)
        else:
            _run_parallel(tasks, jobs, done, tqdm(total=len(paths), desc="notebooks", unit="nb",
                                                  disable=not progress))  # fmt: skip
    except KeyboardInterrupt as exc:
        results = [done[p] for p in paths if p in done]
        unfinished = [p for p in paths if p not in done]
        for path in unfinished:
            _remove_outputs(path, out)  # a kernel may have written its metrics
        duration_s = time.perf_counter() - clock
        unfinished_names = [p.stem for p in unfinished]
        run = run_record(base, source, results, unfinished_names, folder, started, duration_s)
        run_json, _ = _write_reports(run, results, out)
        raise RunInterrupted(str(run_json)) from exc
    results = [done[p] for p in paths]
    duration_s = time.perf_counter() - clock
    run = run_record(base, source, results, [], folder, started, duration_s)
    run_json, index = _write_reports(run, results, out)
    return RunResult(
        out_dir=str(out),
        notebooks=tuple(results),
        index=str(index),
        run_json=str(run_json),
        duration_s=round(duration_s, 3),
    )
