"""ContentRecommender: content vectors, profiles, and both cold starts."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from tolerances import FLOAT32

from persona_lib.models import ContentRecommender, title_vectors


def test_title_vectors_are_unit_rows_in_title_id_order(planted):
    shuffled = planted.titles.sample(frac=1.0, random_state=0)
    vectors, vectorizer = title_vectors(shuffled)
    np.testing.assert_allclose(sp.linalg.norm(vectors, axis=1), 1.0)
    reference, _ = title_vectors(planted.titles)
    np.testing.assert_allclose(vectors.toarray(), reference.toarray())
    assert "haunted" in vectorizer.vocabulary_


def test_profile_is_the_weighted_mean_of_played_vectors(planted):
    model = ContentRecommender(planted.titles).fit(planted.train)
    row = planted.train[7].toarray().ravel()
    vectors = model.item_vectors_.toarray()
    profile = row @ vectors / row.sum()
    # the model divides by the member's float32 total weight in float32
    np.testing.assert_allclose(model.score([7] * 40, np.arange(40)), vectors @ profile, **FLOAT32)


def with_new_title(titles, genre, synopsis):
    new = pd.DataFrame({"title_id": [len(titles)], "genres": [genre], "synopsis": [synopsis]})
    return pd.concat([titles, new], ignore_index=True)


def test_a_title_nobody_played_is_still_recommended(planted):
    catalog = with_new_title(planted.titles, "Horror", "haunted cellar curse scream night")
    model = ContentRecommender(catalog).fit(planted.train)  # the matrix has 40 titles, catalog 41
    assert model.n_titles_ == 41 and planted.train.shape[1] == 40
    horror_fans = np.flatnonzero(planted.user_group == 2)
    rec = model.recommend(horror_fans, k=5)
    assert rec.groupby("user_id")["title_id"].apply(lambda t: 40 in set(t)).mean() > 0.75
    others = np.flatnonzero(planted.user_group != 2)
    assert not model.recommend(others, k=5)["title_id"].eq(40).any()


def test_a_member_with_no_plays_gets_popularity(planted):
    train = sp.vstack([planted.train, sp.csr_matrix((1, 40), dtype=np.float32)], format="csr")
    model = ContentRecommender(planted.titles).fit(train)
    rec = model.recommend([60], k=40)
    played_by = np.bincount(planted.train.indices, minlength=40)
    assert rec["title_id"].tolist() == np.lexsort((np.arange(40), -played_by)).tolist()
    np.testing.assert_allclose(rec["score"], np.sort(played_by)[::-1] / 61)


def test_catalog_must_match(planted):
    with pytest.raises(ValueError, match="titles has 40 titles but the interactions have 45"):
        ContentRecommender(planted.titles).fit(planted.train, n_titles=45)
    with pytest.raises(ValueError, match="every title_id 0..n-1 exactly once"):
        ContentRecommender(planted.titles.iloc[1:]).fit(planted.train[:, 1:])
    with pytest.raises(ValueError, match=r"titles lacks columns \['synopsis'\]"):
        ContentRecommender(planted.titles.drop(columns="synopsis")).fit(planted.train)
