"""Off-policy evaluation on the Open Bandit Dataset sample; prints one JSON document.

For each campaign, the value (CTR) of the uniform-random policy is estimated from the Bernoulli
Thompson sampling (BTS) logs with every estimator of `persona_lib.evaluation.ope.estimators`, and
compared with the on-policy CTR of the random logs, the "truth" (which rests on a few dozen clicks:
the
count and its exact binomial 95 % interval are reported beside it). The evaluated policy shows
each item with probability 1 / n_items at every slot. ``q_hat`` is `fit_reward_model` on the BTS
logs (context = one-hot user features, 2 cross-fitted folds). Thresholds are fixed in advance,
``TAU = 10`` for clipped IPW / DR and Switch-DR; nothing is tuned to the truth. The computation
is `persona_lib.evaluation.ope.logged_items`'s, the one notebook 03 runs on an imported OBD
folder (``persona import obd``), so the notebook's estimates are this script's.

Not done: ReplayMethod (needs a deterministic evaluated policy; uniform random is stochastic),
and the reverse direction (BTS evaluated on random logs): it needs BTS's full action
distribution, which the logs do not hold (only the chosen item's propensity) and which obp
re-simulates from ZOZOTOWN's Beta priors shipped in its own package.

Cross-check: obp 0.5.7's estimators run on the same arrays (the three campaigns' inputs, and
each again for a random Dirichlet policy) in a virtualenv of their own (its pinned numpy /
pandas / scikit-learn / scipy, obp installed with ``--no-deps``); obp imports torch only in
``obp.utils`` for tensor checks that these estimators never call, so the subprocess registers
an empty ``torch`` module and imports ``obp.ope.estimators`` alone. Building that env takes
20-60 s (pip's download cache warm or cold, machine idle or busy), so it is kept in the user's
cache folder (``obp_env_dir``: ``~/.cache/persona/obp-env-<hash of the pins and Python>``,
``XDG_CACHE_HOME`` honoured), built in a temporary folder and moved into place only once obp
imports; later runs reuse it. Delete the folder to rebuild it.

The check is part of the result: the script exits 1 when it is ``skipped`` (obp could not be
installed), ``failed`` (obp raised) or a ``mismatch`` (an estimate differs from obp's by more
than ``CROSSCHECK_TOLERANCE``), after printing the JSON. Only ``--no-crosscheck`` leaves it
out; the JSON then says so (status ``not run``) and the exit code is 0.

Usage: ``python benchmarks/obd_ope.py [--data FOLDER] [--obp-python PATH | --no-crosscheck]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from persona_lib.datasets import CAMPAIGNS, load_obd
from persona_lib.evaluation.ope import DoublyRobust, standard_estimators
from persona_lib.evaluation.ope.logged_items import (
    ItemRounds,
    against_reference,
    evaluate_item_policy,
    item_estimator_inputs,
    on_policy_value,
    uniform_item_policy,
)

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/obd"
TAU = 10.0  # weight threshold for clipping and switching, fixed before looking at any estimate
SEED = 0
# Saito et al. 2021, Table 1: full-data CTR, random vs Bernoulli TS
PUBLISHED_CTR_PCT = {"all": (0.35, 0.50), "men": (0.51, 0.67), "women": (0.48, 0.64)}
ESTIMATORS = standard_estimators(tau=TAU)
# our name -> (obp class, its keyword arguments)
OBP_ESTIMATORS = {
    "ipw": ("InverseProbabilityWeighting", {}),
    "ipw_clipped": ("InverseProbabilityWeighting", {"lambda_": TAU}),
    "snipw": ("SelfNormalizedInverseProbabilityWeighting", {}),
    "dm": ("DirectMethod", {}),
    "dr": ("DoublyRobust", {}),
    "dr_clipped": ("DoublyRobust", {"lambda_": TAU}),
    "sndr": ("SelfNormalizedDoublyRobust", {}),
    "switch_dr": ("SwitchDoublyRobust", {"lambda_": TAU}),
}
OURS_FOR_CROSSCHECK = ESTIMATORS | {"dr_clipped": DoublyRobust(lambda_=TAU)}
OBP_VERSION = "0.5.7"
OBP_PINS = ["numpy==1.23.5", "pandas==1.5.2", "scikit-learn==1.1.3", "scipy==1.9.3"]
OBP_ENV_PYTHON = "python3.11"
# largest |ours - obp| allowed: both compute the same float64 formulas over 10,000 rounds,
# perhaps summed in another order; FLOAT64's atol in tests/tolerances.py (estimates are about
# 0.005, so 2e-10 relative; measured differences are below 3e-18)
CROSSCHECK_TOLERANCE = 1e-12
PASSING_STATUSES = ("ok", "not run")
OBP_SCRIPT = r"""
import importlib.util, json, pathlib, sys, types
site = pathlib.Path(importlib.util.find_spec("numpy").origin).parents[1]
torch = types.ModuleType("torch")  # obp.utils imports torch for tensor checks only
torch.Tensor = torch.tensor = type("Tensor", (), {})
sys.modules["torch"] = torch
for name in ("obp", "obp.ope"):  # skip the package __init__s, which import everything
    module = types.ModuleType(name)
    module.__path__ = [str(site.joinpath(*name.split(".")))]
    sys.modules[name] = module
import numpy as np
import obp.ope.estimators as estimators
spec = json.loads(sys.argv[1])
out = {}
for case in spec["cases"]:
    arrays = dict(np.load(case, allow_pickle=False))
    for key, (cls, kwargs) in spec["estimators"].items():
        value = getattr(estimators, cls)(**kwargs).estimate_policy_value(
            reward=arrays["reward"], action=arrays["action"], pscore=arrays["pscore"],
            action_dist=arrays["action_dist"], position=arrays["position"],
            estimated_rewards_by_reg_model=arrays["q_hat"])
        out.setdefault(key, []).append(float(value))
print(json.dumps(out))
"""


def truth_from_random_logs(data) -> dict:
    """The random logs' on-policy CTR with its exact binomial 95 % interval
    (`on_policy_value`)."""
    truth = on_policy_value(data.reward)
    return {
        "ctr": truth.value,
        "clicks": truth.clicks,
        "n_rounds": truth.n_rounds,
        "ctr_ci95_exact_binomial": [truth.low, truth.high],
    }


def item_rounds_of(data) -> ItemRounds:
    """One OBD log as `ItemRounds` (context: the one-hot user features)."""
    return ItemRounds(
        action=data.action,
        position=data.position,
        reward=data.reward,
        pscore=data.pscore,
        context=data.context,
        context_names=data.context_names,
        item_ids=np.arange(data.n_actions),
        n_positions=data.n_positions,
    )


def estimator_inputs(root: Path, campaign: str) -> tuple[object, dict]:
    """The BTS logs of ``campaign`` and the estimators' inputs for the uniform-random policy
    (`item_estimator_inputs`: ``q_hat`` from `fit_reward_model`, 2 cross-fitted folds, seed
    ``SEED``)."""
    bts = load_obd(root, "bts", campaign, verify=True)
    rounds = item_rounds_of(bts)
    return bts, item_estimator_inputs(rounds, uniform_item_policy(rounds), 2, SEED)


def evaluate_campaign(root: Path, campaign: str, n_bootstrap: int) -> tuple[dict, dict]:
    random_logs = load_obd(root, "random", campaign, verify=True)
    bts, inputs = estimator_inputs(root, campaign)
    truth = truth_from_random_logs(random_logs)
    value = evaluate_item_policy(item_rounds_of(bts), inputs["action_dist"], ESTIMATORS, tau=TAU,
                                 n_bootstrap=n_bootstrap, random_state=SEED,
                                 inputs=inputs)  # fmt: skip
    table = against_reference(value.table, truth["ctr"])
    estimates = {
        row.estimator: {
            "estimate": row.estimate,
            "ci95": [row.ci_low, row.ci_high],
            "relative_error_pct": row.relative_error_pct,
            "truth_in_ci95": bool(row.holds_reference),
        }
        for row in table.itertuples(index=False)
    }
    estimates["replay"] = "not applicable: uniform random is a stochastic evaluated policy"
    published = PUBLISHED_CTR_PCT[campaign]
    result = {
        "n_items": value.n_items,
        "truth_random_logs": truth,
        "bts_logs_ctr": value.logged.value,
        "bts_logs_clicks": value.logged.clicks,
        "published_full_data_ctr_pct": {"random": published[0], "bts": published[1]},
        "weights": value.weights,
        "q_hat_mean": float(inputs["q_hat"].mean()),
        "estimates": estimates,
    }
    return result, inputs


def random_policy_inputs(inputs: dict, seed: int) -> dict:
    """The same logs evaluated for a context-free random (Dirichlet) policy: a non-flat check."""
    rng = np.random.default_rng(seed)
    n, k, p = inputs["action_dist"].shape
    per_slot = rng.dirichlet(np.ones(k), size=p).T  # (k, p)
    return inputs | {"action_dist": np.broadcast_to(per_slot, (n, k, p)).copy()}


def crosscheck_pair(inputs: dict) -> list[dict]:
    """A campaign's two cross-check cases: its inputs for the uniform-random policy, then the
    same logs for a random Dirichlet policy (`random_policy_inputs`)."""
    return [inputs, random_policy_inputs(inputs, SEED)]


def crosscheck_cases(root: Path) -> list[dict]:
    """Every campaign's `crosscheck_pair`, in ``CAMPAIGNS`` order (what `main` checks)."""
    return [case for c in CAMPAIGNS for case in crosscheck_pair(estimator_inputs(root, c)[1])]


def obp_env_dir(cache: Path | None = None) -> Path:
    """Where the obp env is kept: ``<cache>/persona/obp-env-<hash>``, the hash of the pins
    and of the Python and platform it is built for (``cache``: ``XDG_CACHE_HOME`` or
    ``~/.cache``)."""
    root = cache or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = json.dumps([OBP_ENV_PYTHON, OBP_VERSION, OBP_PINS, platform.machine()])
    return root / "persona" / f"obp-env-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def build_obp_env(venv: Path) -> Path:
    """A fresh venv at ``venv`` with obp (--no-deps) and its pinned numeric stack, no torch;
    returns its python. Raises `subprocess.SubprocessError` or `OSError` when pip fails."""
    subprocess.run([OBP_ENV_PYTHON, "-m", "venv", venv], check=True, timeout=300)
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    # obp 0.5.7 declares Python < 3.11, but its estimators run unchanged on 3.11
    obp = ["--no-deps", "--ignore-requires-python", f"obp=={OBP_VERSION}"]
    for args in (obp, OBP_PINS):
        done = subprocess.run([*pip, *args], timeout=600, capture_output=True, text=True)
        if done.returncode != 0:
            raise subprocess.CalledProcessError(done.returncode, done.args, stderr=done.stderr)
    return venv / "bin/python"


def make_obp_python(cache: Path | None = None) -> Path:
    """The python of the cached obp env (`obp_env_dir`), built first if it is not there."""
    final = obp_env_dir(cache)
    ready = final / "READY"
    if not ready.is_file():
        final.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=final.name + ".", dir=final.parent))
        try:
            python = build_obp_env(building / "venv")
            obp_values([], python)  # obp's estimators import in it, or CalledProcessError
            (building / "READY").write_text(json.dumps({"obp": OBP_VERSION, "pins": OBP_PINS}))
            if not ready.is_file():  # a partial folder of an interrupted run goes
                shutil.rmtree(final, ignore_errors=True)
            try:
                os.replace(building, final)
            except OSError:  # another run put its env in place first: use that one
                if not ready.is_file():
                    raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return final / "venv/bin/python"


def obp_values(cases: list[dict], python: Path) -> dict[str, list[float]]:
    """obp's estimate of every estimator in ``OBP_ESTIMATORS`` on each case, run by
    ``python``; `subprocess.CalledProcessError` (with obp's error output) when it fails."""
    with tempfile.TemporaryDirectory(prefix="obd_ope_") as tmp:
        paths = []
        for i, case in enumerate(cases):
            paths.append(str(Path(tmp) / f"case{i}.npz"))
            np.savez(paths[i], **case)
        spec = json.dumps({"cases": paths, "estimators": OBP_ESTIMATORS})
        run = subprocess.run([str(python), "-c", OBP_SCRIPT, spec], capture_output=True,
                             text=True, timeout=600)  # fmt: skip
    if run.returncode != 0:
        raise subprocess.CalledProcessError(run.returncode, "obp", stderr=run.stderr[-2000:])
    return json.loads(run.stdout)


def our_values(cases: list[dict]) -> dict[str, list[float]]:
    """Our estimate of every estimator in ``OURS_FOR_CROSSCHECK`` on each case."""
    return {name: [float(estimator.estimate_policy_value(**case)) for case in cases]
            for name, estimator in OURS_FOR_CROSSCHECK.items()}  # fmt: skip


def cross_check(cases: list[dict], obp_python: Path | None) -> dict:
    """Max |ours - obp| per estimator over ``cases`` (each a dict of estimator inputs), and a
    status: ``ok``, ``mismatch``, ``skipped`` (no obp env) or ``failed`` (obp raised)."""
    started = time.perf_counter()
    try:
        python = obp_python or make_obp_python()
    except (subprocess.SubprocessError, OSError) as error:
        detail = getattr(error, "stderr", None) or ""
        return {"status": "skipped", "reason": f"could not build the obp env: {error} {detail}"}
    env_seconds = time.perf_counter() - started
    try:
        theirs = obp_values(cases, python)
    except (subprocess.SubprocessError, OSError) as error:
        return {"status": "failed", "error": f"{error} {getattr(error, 'stderr', '') or ''}"}
    ours = our_values(cases)
    diffs = {name: float(np.max(np.abs(np.subtract(ours[name], theirs[name])))) for name in ours}
    within = all(d <= CROSSCHECK_TOLERANCE for d in diffs.values())
    return {
        "status": "ok" if within else "mismatch",
        "obp_version": OBP_VERSION,
        "obp_python": str(python),
        "n_cases": len(cases),
        "max_abs_diff": diffs,
        "tolerance": CROSSCHECK_TOLERANCE,
        "all_within_tolerance": within,
        "env_seconds": round(env_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--obp-python", type=Path, help="a python with obp 0.5.7 (skips building)")
    parser.add_argument("--no-crosscheck", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    report: dict = {
        "dataset": "Open Bandit Dataset sample (10,000 rounds per policy and campaign)",
        "evaluated_policy": "uniform random (1 / n_items at every slot)",
        "logging_policy": "bts",
        "tau": TAU,
        "n_bootstrap": args.n_bootstrap,
        "campaigns": {},
        "reverse_direction": "skipped: BTS's full action distribution is not in the logs",
    }
    cases = []
    for campaign in CAMPAIGNS:
        result, inputs = evaluate_campaign(args.data, campaign, args.n_bootstrap)
        report["campaigns"][campaign] = result
        cases += crosscheck_pair(inputs)
    if args.no_crosscheck:
        reason = "--no-crosscheck was passed: the estimates are not checked against obp"
        report["obp_crosscheck"] = {"status": "not run", "reason": reason}
    else:
        report["obp_crosscheck"] = cross_check(cases, args.obp_python)
    report["seconds"] = round(time.perf_counter() - started, 1)
    json.dump(report, sys.stdout, indent=2)
    print()
    status = report["obp_crosscheck"]["status"]
    if status not in PASSING_STATUSES:
        sys.exit(f"obp cross-check {status}: see obp_crosscheck in the JSON above "
                 "(--no-crosscheck leaves it out on purpose)")  # fmt: skip


if __name__ == "__main__":
    main()
