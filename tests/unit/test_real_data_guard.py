"""The guard of the ``real_data`` tests (tests/shared_data.py, applied by tests/conftest.py):
with ../shared/data they run; without it they skip, or fail when ``CI`` is set."""

from pathlib import Path

import pytest
from shared_data import FAIL, RUN, SHARED_DATA, SKIP, missing_data_message, real_data_decision


@pytest.mark.parametrize(
    ("ci", "present", "decision"),
    [
        (None, True, RUN),
        ("true", True, RUN),
        (None, False, SKIP),
        ("", False, SKIP),  # set but empty: not CI
        ("true", False, FAIL),
        ("1", False, FAIL),
        ("false", False, FAIL),  # any non-empty value, as CI services set it
    ],
)
def test_the_decision(ci, present, decision):
    assert real_data_decision(ci, present) == decision


def test_the_message_says_where_the_data_should_be(tmp_path):
    folder = tmp_path / "shared" / "data"
    assert missing_data_message(folder, ci=True) == (
        f"{folder} is absent: real_data tests read the public data sets from ../shared/data "
        "beside the repository (see shared/data/README.md); CI is set, so they fail instead of "
        "skipping"
    )
    assert missing_data_message(folder).endswith("; they are skipped")
    assert SHARED_DATA.parts[-2:] == ("shared", "data")
    assert SHARED_DATA.parent.parent == Path(__file__).resolve().parents[3]  # beside the repo
