"""Published figures of a public data set beside the notebook's own (data.published,
report.published)."""

import json

import pytest

from persona_lib.data import find_tables
from persona_lib.data.published import PublishedFigure, read_published, write_published
from persona_lib.report.published import published_beside


def _figures():
    return [
        PublishedFigure("05_experiments", "ret_a", "retention, gate_30", 19.02, 2, "%", "README"),
        PublishedFigure("05_experiments", "diff", "difference", -0.82, 2, "pp", "README"),
        PublishedFigure("05_experiments", "srm_chi2", "SRM chi-square", 6.90, 2, "", "README"),
        PublishedFigure("03_artwork_personalization", "ctr", "CTR", 0.35, 2, "%", "paper"),
    ]


def test_agreement_is_rounding_to_the_printed_precision():
    fig = PublishedFigure("n", "k", "x", 19.02, 2)
    assert fig.agrees(19.0249) and fig.agrees(19.015) and fig.agrees(19.025)
    assert not fig.agrees(19.0251) and not fig.agrees(19.0149)
    with pytest.raises(ValueError, match="decimals"):
        PublishedFigure("n", "k", "x", 1.0, -1)
    with pytest.raises(ValueError, match="finite"):
        PublishedFigure("n", "k", "x", float("nan"), 1)


def test_round_trip_and_the_folder_reader_skips_the_file(tmp_path):
    write_published(_figures(), tmp_path, "cookie-cats")
    assert read_published(tmp_path) == _figures()
    assert [f.key for f in read_published(tmp_path, "03_artwork_personalization")] == ["ctr"]
    (tmp_path / "users.csv").write_text("user_id\n1\n")
    tables, ignored = find_tables(tmp_path)
    assert list(tables) == ["users"] and ignored == ()
    assert read_published("") == [] and read_published(tmp_path / "nothing") == []


def test_a_malformed_file_names_itself(tmp_path):
    (tmp_path / "published.json").write_text(json.dumps({"figures": [{"key": "x"}]}))
    with pytest.raises(ValueError, match=r"published\.json: not a published-figures file"):
        read_published(tmp_path)


def test_beside_computes_agreement_and_its_sentence(tmp_path):
    write_published(_figures(), tmp_path, "cookie-cats")
    ours = {"ret_a": 19.0201, "diff": -0.79, "srm_chi2": float("nan")}
    beside = published_beside(tmp_path, "05_experiments", ours)
    assert beside.table["agrees"].tolist() == [True, False, False]
    assert beside.sentence == (
        "1 of 3 published figures are reproduced to their printed precision; not: difference "
        "(-0.7900 pp against -0.82 pp); not computed here: SRM chi-square."
    )
    html = beside._repr_html_()
    assert "retention, gate_30" in html and "19.02 %" in html
    assert not published_beside(tmp_path, "07_sales_conversions", {})
    assert published_beside("", "05_experiments", {})._repr_html_() == ""


def test_labels_are_escaped(tmp_path):
    fig = PublishedFigure("05_experiments", "k", "<script>x</script>", 1.0, 0)
    write_published([fig], tmp_path, "x")
    assert "<script>x" not in published_beside(tmp_path, "05_experiments", {"k": 1.0})._repr_html_()
