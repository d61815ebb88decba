"""Words for keys: ``label`` turns a column or metric key into a reader's label, ``infer_unit``
guesses its unit from its name.

Tables, verdict sentences and the summary print every policy, model and metric key through
`label`, so a reader never meets ``two_stage_ranker`` or ``page_ease``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["LABELS", "infer_unit", "label"]

LABELS: dict[str, str] = {
    "two_stage_ranker": "two-stage ranker",
    "trending_7d": "trending (7 days)",
    "item_knn_bm25": "item-kNN (BM25)",
    "blend_ease_als": "blend of EASE and ALS",
    "page_als": "ALS page",
    "page_ease": "EASE page",
    "page_popularity": "popularity page",
    "page_default": "default page",
    "linucb_greedy": "LinUCB (greedy)",
    "t_learner": "T-learner",
    "x_learner": "X-learner",
    "s_learner": "S-learner",
    "per_title_best": "per-title best",
    "segment_thompson": "Thompson sampling per segment",
    "item_knn": "item-kNN",
    "p_value": "p-value",
    "ci_low": "CI low",
    "ci_high": "CI high",
}
_WORDS = {
    word.lower(): word
    for word in (
        "A/A A/B AUC ROC PR nDCG MAP MRR CI SE IPS SNIPS DM DR SNDR OPE LTV ARPU ALS BPR EASE "
        "kNN CUPED USD ID CPM SHAP LinUCB MDE RMSE MAE mSPRT SQL KPI"
    ).split()
}
_WORDS.update({"aa": "A/A", "ab": "A/B"})
_UNIT_WORDS = {"pct", "pp", "usd"}  # the unit is printed after the label instead


def label(key: Any, labels: Mapping[str, str] | None = None) -> str:
    """Turn a column or metric key into words: ``"ndcg_at_10"`` -> ``"nDCG@10"``.

    Parameters
    ----------
    key : str
        A snake_case key; other keys are returned as text.
    labels : mapping, optional
        Labels for whole keys, used before `LABELS` and the rules.

    Returns
    -------
    str
        Words in lower case except acronyms; unit words (``pct``, ``pp``, ``usd``) are dropped,
        since tables print the unit after the label, and a leading ``n_`` ("number of") too.

    Examples
    --------
    >>> label("two_stage_ranker"), label("ndcg_at_10"), label("play_rate_lift_pct")
    ('two-stage ranker', 'nDCG@10', 'play rate lift')
    >>> label("n_members"), label("roc_auc"), label("ltv_usd"), label("x", {"x": "Ex"})
    ('members', 'ROC AUC', 'LTV', 'Ex')
    """
    key = "" if key is None else str(key)
    mapping = {**LABELS, **(labels or {})}
    if key in mapping:
        return mapping[key]
    tokens = [t for t in re.sub(r"_at_(\d+)", r"@\1", key).split("_") if t]
    if len(tokens) > 1 and tokens[0] == "n":
        tokens = tokens[1:]
    words = []
    for token in tokens:
        if token.lower() in _UNIT_WORDS and len(tokens) > 1:
            continue
        head, at, tail = token.partition("@")
        words.append(_WORDS.get(head.lower(), head) + at + tail)
    return " ".join(words) if words else key


def infer_unit(name: Any) -> str:
    """Guess a column's unit from its name (see the module docstring); ``""`` when unknown.

    Parameters
    ----------
    name : str
        Column or metric key.

    Returns
    -------
    str
        A unit of `persona_lib.report.verdicts.fmt`.

    Examples
    --------
    >>> [infer_unit(k) for k in ("lift_pct", "diff_pp", "ltv_usd", "roc_auc", "n_members")]
    ['%', 'pp', 'USD', 'auc', 'count']
    >>> infer_unit("play_rate"), infer_unit("p_value"), infer_unit("user_id"), infer_unit("hours")
    ('fraction', 'p', 'text', '')
    """
    tokens = str(name).lower().split("_")
    last = tokens[-1]
    rules = (
        (last in ("pct", "percent"), "%"),
        (last == "pp", "pp"),
        ("usd" in tokens, "USD"),
        ("auc" in tokens, "auc"),
        (tokens[-2:] == ["p", "value"] or last == "pvalue", "p"),
        ((tokens[0] == "n" and len(tokens) > 1) or last in ("count", "rows"), "count"),
        (last == "id", "text"),
        (last in ("rate", "share", "fraction"), "fraction"),
    )
    return next((unit for matches, unit in rules if matches), "")
