"""The index page reads on a phone: at 420 px nothing overflows and the bottom line shows."""

import re
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from chromium import (  # noqa: E402
    chromium_path,
    dump_dom,
    non_blank_fraction,
    read_png,
    screenshot,
)

from persona_lib.report.index_page import index_html  # noqa: E402
from persona_lib.report.runner import NotebookResult  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None, reason="chromium is not on PATH"),
]
RUN = {
    "parameters": {
        "PRESET": "default",
        "SEED": 0,
        "OUT_DIR": str(Path(tempfile.gettempdir(), *["a", "rather", "long", "path"] * 4)),
    },
    "unfinished": [],
    "finished_at": "2026-12-06T15:01:58+00:00",
    "git_commit": None,
    "duration_s": 408.7,
}
METRICS = {
    "02_recommenders": {
        "best_offline_model": "two_stage_ranker", "page_als_play_rate_diff": 0.0651,
        "page_als_play_rate_diff_ci_low": 0.0575, "page_als_play_rate_diff_ci_high": 0.0727,
        "a_very_long_metric_key_without_any_break_" * 3: 1.0,
    },
    "05_experiments": {
        "play_rate_diff_pp": 7.2, "play_rate_diff_ci_low_pp": 5.2,
        "play_rate_diff_ci_high_pp": 9.19, "truth_play_rate_diff_pp": 8.15,
        "churn_diff_pp": -0.9, "churn_diff_ci_low_pp": -2.45, "churn_diff_ci_high_pp": 0.65,
        "truth_churn_diff_pp": -0.16,
    },
    "06_revenue_impact": {
        "scaled_revenue_usd_per_year": 21_283_777.5, "scaled_revenue_ci_low_usd": -49_076_487.0,
        "scaled_revenue_ci_high_usd": 91_644_042.0,
        "truth_scaled_revenue_usd_per_year": 3_415_087.5,
    },
    "07_sales_conversions": {
        "upsell_top_upgrades_per_1k": 21.6, "upsell_top_upgrades_ci_low": 17.7,
        "upsell_top_upgrades_ci_high": 25.5, "truth_upsell_top_upgrades_per_1k": 23.7,
    },
}  # fmt: skip
# After layout, paints the top-left corner green when the page is as wide as the window and
# nothing sticks out (no element's right edge past it, no scroll box that needs scrolling), red
# otherwise; the page is framed at the width under test (see `framed`).
PROBE = """<script>
const right = Math.max(...[...document.querySelectorAll('body *')]
  .map(e => e.getBoundingClientRect().right));
const boxes = [...document.querySelectorAll('.scroll')].filter(e => e.scrollWidth > e.clientWidth);
const fits = window.innerWidth === WIDTH && document.documentElement.scrollWidth <= WIDTH
  && right <= WIDTH && boxes.length === 0;
document.body.insertAdjacentHTML('beforeend', '<div style="position:fixed;left:0;top:0;'
  + 'width:40px;height:40px;background:' + (fits ? '#00ff00' : '#ff0000') + '"></div>');
</script></body>"""


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    results = [
        NotebookResult(name, "ok", 10.0, 1.0, f"{name}.ipynb", f"{name}.html", metrics)
        for name, metrics in METRICS.items()
    ]
    failed = NotebookResult(
        "04_churn_retention", "failed", 3.0, 1.0, None, None, {},
        "ValueError: " + "a_long_error_message_without_spaces" * 5,
    )  # fmt: skip
    path = tmp_path_factory.mktemp("index") / "index.html"
    path.write_text(index_html([failed, *results], RUN))
    return path


def framed(page: Path, width: int, folder: Path, height: int = 1400) -> Path:
    """A page that shows `page` in an iframe `width` px wide: headless Chromium lays a window
    out at least 500 px wide, an iframe at any width."""
    frame = folder / f"framed_{width}_{page.name}"
    frame.write_text(
        f'<!DOCTYPE html><html><body style="margin:0"><iframe src="{page.name}" '
        f'style="border:0;width:{width}px;height:{height}px"></iframe></body></html>'
    )
    return frame


def corner_colour(page: Path, width: int, tmp_path: Path) -> tuple[int, int, int]:
    """Screenshot `page` `width` px wide with the probe; the RGB of its top-left corner."""
    probed = tmp_path / f"probed_{width}.html"
    probed.write_text(page.read_text().replace("</body>", PROBE.replace("WIDTH", str(width))))
    window = max(width, 600)
    shot = screenshot(framed(probed, width, tmp_path), tmp_path / f"probed_{width}.png", window)
    _, _, bpp, rows = read_png(shot)
    return tuple(rows[20][20 * bpp : 20 * bpp + 3])


@pytest.mark.parametrize("width", [420, 1200])
def test_nothing_overflows(index, width, tmp_path):
    assert corner_colour(index, width, tmp_path) == (0, 255, 0)


def test_probe_sees_overflow(index, tmp_path):
    wide = tmp_path / "wide.html"
    wide.write_text(index.read_text().replace("<h1>", '<h1 style="width:900px">'))
    assert corner_colour(wide, 420, tmp_path) == (255, 0, 0)


def test_bottom_line_shows_with_intervals(index):
    dom = dump_dom(index)
    bottom = re.search(r'<ul class="bottom-line">(.*?)</ul>', dom, re.S).group(1)
    sentences = re.findall(r"<li>(.*?)</li>", bottom)
    assert len(sentences) == 4  # hours were not recorded: that sentence is left out
    assert all("95 % CI" in s for s in sentences)
    assert "+21.3 M USD (95 % CI -49.1 to +91.6 M USD); it cannot be told from zero" in bottom
    assert (
        "Left out of the bottom line: 04_churn_retention" not in dom
    )  # not a bottom-line notebook
    assert "<details" in dom and '<details class="dump" open' not in dom


def test_screenshot_at_420_is_inked(index, tmp_path):
    shot = screenshot(framed(index, 420, index.parent), tmp_path / "index.png", 600, 1200)
    assert non_blank_fraction(shot, (0, 0, 420, 600)) > 0.02
