"""Where the public data sets for ``real_data`` tests live, and what such a test does without them.

The data sit in ``../shared/data`` beside the repository (``shared/data/README.md`` lists them);
they are read in place and never copied into the repository. Without that folder a ``real_data``
test skips, except in CI: when the environment sets ``CI`` (any non-empty value, as CI services
do), the tests fail with a message saying where the data should be, so a CI job that lost the
data cannot pass by skipping them. tests/conftest.py applies `real_data_decision` to every test
marked ``real_data``; a test's own fixture may still skip when one file of a present folder is
absent.
"""

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RUN, SKIP, FAIL = "run", "skip", "fail"


def real_data_decision(ci: str | None, data_present: bool) -> str:
    """What a ``real_data`` test does: "run" with the data; without: "fail" when `ci` is a
    non-empty string (the ``CI`` environment variable), else "skip".

    Examples
    --------
    >>> real_data_decision("true", False), real_data_decision(None, False)
    ('fail', 'skip')
    """
    if data_present:
        return RUN
    return FAIL if ci else SKIP


def missing_data_message(folder: Path = SHARED_DATA, ci: bool = False) -> str:
    """One line: the folder the ``real_data`` tests need, and why they skip or fail."""
    outcome = "CI is set, so they fail instead of skipping" if ci else "they are skipped"
    return (
        f"{folder} is absent: real_data tests read the public data sets from ../shared/data "
        f"beside the repository (see shared/data/README.md); {outcome}"
    )
