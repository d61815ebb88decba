"""Implicit-feedback ALS trained by Apache Spark MLlib, behind the `Recommender` contract.

``pyspark`` (and a Java 17+ runtime) is an optional extra, imported when a model is fitted; the
session is `persona_lib.signals.sql.spark_engine.local_session` unless one is given. Once
fitted, the factors live in numpy and scoring needs no Spark.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_lib.models.recommenders.factorization import FactorModel

MIN_RATING = 1e-6  # MLlib's preference is [rating > 0]: an observed pair must stay positive
CHECKPOINT_INTERVAL = 5  # iterations between checkpoints: a long lineage overflows the JVM stack


class SparkALS(FactorModel):
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008) fitted by ``pyspark.ml`` ALS, with the
    parameters and objective of `persona_lib.models.ALSRecommender` (``implicit``'s ALS).

    ``implicit`` reads the matrix ``X`` as confidences: an observed pair has preference
    ``p_uj = 1`` and confidence ``c_uj = alpha * X_uj``, every other pair ``p = 0, c = 1``,
    and the penalty is ``regularization * (|x_u|^2 + |y_j|^2)``. MLlib's implicit ALS has
    ``p_uj = [r_uj > 0]``, ``c_uj = 1 + alpha' * |r_uj|`` and penalises each member (title) by
    ``regParam * n_u`` (``n_j``), its number of observed pairs ("ALS-WR"). The mapping:

    - ratings ``r_uj = max(alpha * X_uj - 1, 1e-6)`` with ``alpha' = 1``, so ``c_uj = alpha *
      X_uj`` exactly whenever ``alpha * X_uj >= 1`` (a smaller confidence, which ``implicit``
      would weigh below an unobserved pair, becomes ~1: still a preference of 1);
    - ``regParam = regularization / mean(n_u)``, the mean observed pairs per member (over
      members with any): the same total penalty on the member factors. The per-row weights
      of ALS-WR cannot be undone, so the two objectives share the loss term exactly and the
      penalty only on average (on MovieLens 100K, matching the titles' mean instead, or the
      geometric mean of both, lands 12 % and 6 % below ``implicit``'s nDCG@10; this 2 %);
    - ``factors`` -> ``rank``, ``iterations`` -> ``maxIter``, ``random_state`` -> ``seed``.

    MLlib solves each least-squares step exactly (Cholesky); ``implicit`` takes three
    conjugate-gradient steps. On MovieLens 100K (about 80 titles per member) their nDCG@10
    differ by 2 % (``benchmarks/spark_als_movielens.py``). On sparse data the per-row penalty
    makes them different models: on the smoke world (about 4 titles per member) they agree
    within 5 % only near ``regularization=50`` (``tests/unit/scale/test_spark_als.py``) and
    differ by 20-30 % at 30 or 100.

    Parameters
    ----------
    factors, regularization, alpha, iterations : as in `ALSRecommender`.
    random_state : int
        Seeds MLlib's initial factors: the same seed and session give the same model.
    spark : pyspark.sql.SparkSession, optional
        Session to fit in; default `local_session` with ``master``.
    master : str
        Spark master of the default session.
    num_blocks : int
        MLlib's ``numUserBlocks`` and ``numItemBlocks`` (its default 10 is slow on one host).

    Attributes
    ----------
    user_factors_ : ndarray (n_users, factors), item_factors_ : ndarray (n_titles, factors)
        float32; zero rows for members and titles without interactions.
    reg_param_ : float
        The ``regParam`` given to MLlib.

    Examples
    --------
    >>> model = SparkALS(factors=32, regularization=10.0).fit(train)  # doctest: +SKIP
    >>> model.recommend([0, 1], k=10)  # doctest: +SKIP
    """

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 1.0,
                 iterations: int = 15, random_state: int = 0, spark=None,
                 master: str = "local[2]", num_blocks: int = 2):  # fmt: skip
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.spark = spark
        self.master = master
        self.num_blocks = num_blocks

    def _fit(self, matrix: sp.csr_matrix) -> None:
        from pyspark.ml.recommendation import ALS  # heavy optional backend

        from persona_lib.signals.sql.spark_engine import local_session, quiet_pandas_warnings

        spark = self.spark if self.spark is not None else local_session(self.master)
        _ensure_checkpoint_dir(spark)
        ratings = _ratings(matrix, self.alpha)
        self.reg_param_ = _reg_param(ratings, self.regularization)
        als = ALS(rank=self.factors, maxIter=self.iterations, regParam=self.reg_param_,
                  implicitPrefs=True, alpha=1.0, seed=int(self.random_state),
                  numUserBlocks=self.num_blocks, numItemBlocks=self.num_blocks,
                  userCol="user_id", itemCol="title_id", ratingCol="rating",
                  checkpointInterval=CHECKPOINT_INTERVAL, intermediateStorageLevel="MEMORY_ONLY",
                  finalStorageLevel="MEMORY_ONLY")  # fmt: skip
        with quiet_pandas_warnings():
            model = als.fit(spark.createDataFrame(ratings))
            self.user_factors_ = _dense(model.userFactors, matrix.shape[0], self.factors)
            self.item_factors_ = _dense(model.itemFactors, matrix.shape[1], self.factors)
        self.item_bias_ = np.zeros(matrix.shape[1], dtype=np.float32)
        for factors in (model.userFactors, model.itemFactors):
            factors.unpersist()


def _ensure_checkpoint_dir(spark) -> None:
    """Give the Spark context a checkpoint folder unless it has one.

    Without one MLlib skips checkpointing and, past about ten iterations, serializing the
    factors' lineage overflows the JVM stack. The folder is ``persona_spark_checkpoints`` in
    the temp folder; each Spark context writes in its own subfolder. Spark deletes checkpoints
    that are no longer referenced, but those of the last fit stay after exit (a few hundred KB).
    """
    context = spark.sparkContext
    if context.getCheckpointDir() is None:
        context.setCheckpointDir(str(Path(tempfile.gettempdir()) / "persona_spark_checkpoints"))


def _ratings(matrix: sp.csr_matrix, alpha: float) -> pd.DataFrame:
    """MLlib ratings ``max(alpha * X - 1, MIN_RATING)`` of the stored pairs of ``matrix``."""
    coo = sp.coo_matrix(matrix)
    keep = coo.data != 0
    rating = np.maximum(float(alpha) * coo.data[keep].astype(np.float64) - 1.0, MIN_RATING)
    return pd.DataFrame({
        "user_id": coo.row[keep].astype(np.int32),
        "title_id": coo.col[keep].astype(np.int32),
        "rating": rating.astype(np.float32),
    })  # fmt: skip


def _reg_param(ratings: pd.DataFrame, regularization: float) -> float:
    """``regularization / (nnz / members)``: per observed pair, over members with pairs."""
    if ratings.empty:
        raise ValueError("SparkALS needs at least one interaction to fit")
    return float(regularization) * ratings["user_id"].nunique() / len(ratings)


def _dense(factors, n_rows: int, rank: int) -> np.ndarray:
    """An MLlib factor frame (``id``, ``features``) as a (n_rows, rank) float32 array."""
    frame = factors.toPandas()
    out = np.zeros((n_rows, rank), dtype=np.float32)
    if len(frame):
        out[frame["id"].to_numpy()] = np.stack(frame["features"].to_numpy()).astype(np.float32)
    return out
