"""Checks shared by the tests that run notebooks on exported logs: the figures a run on logs
records equal the simulated run's, and none of them is a truth figure."""

import json
import math

REL, ABS = 1e-9, 1e-12  # floats: the same arithmetic on the same rows, up to summation order


def same_figure(a, b) -> bool:
    """Counts and text exactly, floats to `REL`/`ABS`, NaN equal to NaN."""
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, int | float):
        return a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


def assert_logs_figures_match(simulated: dict, on_logs: dict) -> None:
    """No truth figure on logs, none that the simulated run lacks, every one equal to it."""
    assert on_logs, "nothing computed on the logs"
    truth_keys = [k for k in on_logs if k.startswith("truth") or "_truth_" in k]
    assert not truth_keys, f"truth figures recorded on logs: {truth_keys}"
    extra = sorted(set(on_logs) - set(simulated))
    assert not extra, f"figures only on logs: {extra}"
    differ = {k: (simulated[k], v) for k, v in on_logs.items() if not same_figure(simulated[k], v)}
    assert not differ, f"figures that differ from the simulated run (simulated, logs): {differ}"


def markdown_text(executed_notebook) -> str:
    """The markdown cells of an executed notebook file, joined."""
    cells = json.loads(executed_notebook.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def result_of(run, name):
    """The `NotebookResult` of `name` in `run`."""
    return next(nb for nb in run.notebooks if nb.name == name)
