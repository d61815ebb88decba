"""Small Altair chart helpers for the notebooks.

Every helper takes an already aggregated frame, requires a title and axis titles, and refuses
frames over `MAX_ROWS` rows so that a report never embeds raw event logs. Quantitative axes must
name their unit in parentheses or brackets, e.g. ``"Play rate (%)"`` or ``"Revenue [USD]"``.
Category values that are keys (``page_als``, ``dark_tone``) are shown as words through
`persona_lib.report.labels.label`, and so are the category lists given as `sort`. The helpers are
pure: they return an ``alt.Chart`` and display nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from persona_lib.report.chart_checks import (
    HEIGHT,
    MAX_ROWS,
    WIDTH,
    channel,
    check,
    field_type,
    legend,
    readable_sort,
    require_unit,
    tooltip,
)

__all__ = [
    "MAX_ROWS",
    "bar_chart",
    "band_chart",
    "funnel_chart",
    "heatmap",
    "interval_chart",
    "line_chart",
    "scatter_chart",
]


def bar_chart(
    frame: pd.DataFrame,
    x: str,
    y: str,
    title: str,
    x_title: str,
    y_title: str,
    color: str | None = None,
    color_title: str | None = None,
    sort: str | Sequence[str] | None = "-y",
    stack: bool = False,
    width: int = WIDTH,
    height: int = HEIGHT,
    low: str | None = None,
    high: str | None = None,
) -> alt.Chart | alt.LayerChart:
    """Vertical bars of `y` per category `x` (numeric `x` is treated as ordered categories).

    Parameters
    ----------
    frame : DataFrame
        Aggregated rows (at most `MAX_ROWS`), with columns `x`, `y` and optionally `color`.
    x, y : str
        Category column and value column.
    title, x_title, y_title : str
        Chart title and axis titles; `y_title` needs a unit, e.g. ``"Plays (count)"``.
    color, color_title : str, optional
        Column that colours the bars, and its legend title.
    stack : bool, default False
        With `color`: stack the coloured bars (parts of a whole) instead of placing them side
        by side (values to compare).
    sort : str or list of str or None, default "-y"
        Order of the categories: ``"-y"`` by descending value, a list of categories, or None
        to keep the frame order.
    width, height : int
        Size in pixels.
    low, high : str, optional
        Columns with the lower and upper end of each bar's interval (same unit as `y`), drawn
        as error bars; give both or neither. Not with ``stack=True``.

    Returns
    -------
    alt.Chart, or alt.LayerChart (bars and error bars) when `low` and `high` are given.

    Examples
    --------
    >>> frame = pd.DataFrame({"genre": ["drama", "comedy"], "plays": [30, 12]})
    >>> chart = bar_chart(frame, "genre", "plays", "Plays by genre", "Genre", "Plays (count)")
    >>> frame = frame.assign(lo=[26, 9], hi=[34, 15])
    >>> chart = bar_chart(frame, "genre", "plays", "Plays by genre", "Genre", "Plays (count)",
    ...                   low="lo", high="hi")
    """
    frame = check(frame, [x, y, color, low, high], title, {"x_title": x_title, "y_title": y_title})
    if (low is None) != (high is None):
        raise ValueError(f"chart {title!r}: give both low and high for error bars, or neither")
    if low is not None and stack:
        raise ValueError(f"chart {title!r}: error bars need side-by-side bars (stack=False)")
    if low is not None and sort == "-y":
        sort = alt.EncodingSortField(field=y, op="sum", order="descending")
    interval = [] if low is None else [(low, "low"), (high, "high")]
    encoding = {
        "x": alt.X(**channel(frame, x, x_title, "ordinal"), sort=readable_sort(sort)),
        "y": alt.Y(**channel(frame, y, y_title)),
        "tooltip": tooltip(frame, [(x, x_title), (y, y_title), *interval, (color, color_title)]),
    }
    if color is not None:
        encoding["color"] = alt.Color(color, title=legend(color, color_title))
        if not stack:
            encoding["xOffset"] = alt.XOffset(color)
    if low is None:
        chart = alt.Chart(frame, title=title, width=width, height=height)
        return chart.mark_bar().encode(**encoding)
    bars = alt.Chart(frame).mark_bar().encode(**encoding)
    whiskers = {k: v for k, v in encoding.items() if k in ("x", "tooltip", "xOffset")}
    errors = (
        alt.Chart(frame)
        .mark_errorbar(ticks=True, color="black")
        .encode(y=alt.Y(low, type="quantitative", title=y_title), y2=alt.Y2(high), **whiskers)
    )
    return alt.layer(bars, errors, title=title, width=width, height=height)


def line_chart(
    frame: pd.DataFrame,
    x: str,
    y: str,
    title: str,
    x_title: str,
    y_title: str,
    color: str | None = None,
    color_title: str | None = None,
    points: bool = True,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    """Lines of `y` over `x` (a number or a date), one line per `color` value.

    Parameters
    ----------
    frame : DataFrame
        Aggregated rows (at most `MAX_ROWS`), with columns `x`, `y` and optionally `color`.
    x, y : str
        Horizontal and vertical columns.
    title, x_title, y_title : str
        Chart title and axis titles; quantitative axes need a unit, e.g. ``"Day (days)"``.
    color, color_title : str, optional
        Column that splits the lines, and its legend title.
    points : bool, default True
        Mark each observation with a point.
    width, height : int
        Size in pixels.

    Returns
    -------
    alt.Chart

    Examples
    --------
    >>> frame = pd.DataFrame({"k": [1, 5, 10], "recall": [0.1, 0.3, 0.4]})
    >>> chart = line_chart(frame, "k", "recall", "Recall by k", "k (items)", "Recall (fraction)")
    """
    frame = check(frame, [x, y, color], title, {"x_title": x_title, "y_title": y_title})
    encoding = {
        "x": alt.X(**channel(frame, x, x_title)),
        "y": alt.Y(**channel(frame, y, y_title)),
        "tooltip": tooltip(frame, [(x, x_title), (y, y_title), (color, color_title)]),
    }
    if color is not None:
        encoding["color"] = alt.Color(color, title=legend(color, color_title))
    chart = alt.Chart(frame, title=title, width=width, height=height)
    return chart.mark_line(point=points).encode(**encoding)


def band_chart(
    frame: pd.DataFrame,
    x: str,
    y: str,
    low: str,
    high: str,
    title: str,
    x_title: str,
    y_title: str,
    color: str | None = None,
    color_title: str | None = None,
    step: bool = True,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.LayerChart:
    """A line of `y` over `x` inside a shaded interval [`low`, `high`], one per `color` value.

    For estimates with confidence bands, e.g. Kaplan-Meier survival curves with their Greenwood
    bands (``step=True`` draws them as right-continuous steps, as survival curves are).

    Examples
    --------
    >>> frame = pd.DataFrame({"t": [0, 1, 2], "s": [1.0, 0.9, 0.8], "lo": [1.0, 0.8, 0.7],
    ...                       "hi": [1.0, 0.95, 0.9]})
    >>> chart = band_chart(frame, "t", "s", "lo", "hi", "Retention", "Month (months)",
    ...                    "Still subscribed (share)")
    """
    frame = check(frame, [x, y, low, high, color], title, {"x_title": x_title, "y_title": y_title})
    interpolate = "step-after" if step else "linear"
    x_enc = alt.X(**channel(frame, x, x_title))
    base = alt.Chart(frame, title=title, width=width, height=height)
    color_enc = (
        {} if color is None else {"color": alt.Color(color, title=legend(color, color_title))}
    )
    band = base.mark_area(opacity=0.2, interpolate=interpolate).encode(
        x=x_enc,
        y=alt.Y(low, type="quantitative", title=y_title),
        y2=alt.Y2(high),
        **color_enc,
    )
    line = base.mark_line(interpolate=interpolate).encode(
        x=x_enc,
        y=alt.Y(**channel(frame, y, y_title)),
        tooltip=tooltip(
            frame, [(x, x_title), (y, y_title), (low, "low"), (high, "high"), (color, color_title)]
        ),  # fmt: skip
        **color_enc,
    )
    return alt.layer(band, line)


def heatmap(
    frame: pd.DataFrame,
    x: str,
    y: str,
    value: str,
    title: str,
    x_title: str,
    y_title: str,
    value_title: str,
    scheme: str = "blues",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.Chart:
    """Grid of `value` coloured by magnitude over the categories `x` and `y`.

    Parameters
    ----------
    frame : DataFrame
        One row per cell (at most `MAX_ROWS`), with columns `x`, `y` and `value`.
    x, y : str
        Category columns (numbers are treated as ordered categories).
    value : str
        Numeric column shown as colour.
    title, x_title, y_title, value_title : str
        Chart, axis and legend titles; `value_title` needs a unit, e.g. ``"Plays (count)"``.
    scheme : str, default "blues"
        Vega colour scheme.
    width, height : int
        Size in pixels.

    Returns
    -------
    alt.Chart

    Examples
    --------
    >>> frame = pd.DataFrame({"hour": [0, 0, 1], "day": ["Mon", "Tue", "Mon"], "plays": [3, 4, 5]})
    >>> chart = heatmap(frame, "hour", "day", "plays", "Plays by hour", "Hour (h)", "Day",
    ...                 "Plays (count)")
    """
    frame = check(
        frame,
        [x, y, value],
        title,
        {"x_title": x_title, "y_title": y_title, "value_title": value_title},
    )
    encoding = {
        "x": alt.X(**channel(frame, x, x_title, "ordinal")),
        "y": alt.Y(**channel(frame, y, y_title, "ordinal")),
        "color": alt.Color(**channel(frame, value, value_title), scale=alt.Scale(scheme=scheme)),
        "tooltip": tooltip(frame, [(x, x_title), (y, y_title), (value, value_title)]),
    }
    chart = alt.Chart(frame, title=title, width=width, height=height)
    return chart.mark_rect().encode(**encoding)


def funnel_chart(
    frame: pd.DataFrame,
    stage: str,
    count: str,
    title: str,
    x_title: str,
    y_title: str = "Stage",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.LayerChart:
    """Horizontal funnel: one bar per stage in frame order, labelled with % of the first stage.

    Parameters
    ----------
    frame : DataFrame
        One row per stage, first stage first, with columns `stage` and `count`.
    stage, count : str
        Stage name column and numeric size column.
    title, x_title : str
        Chart title and the count axis title with its unit, e.g. ``"Users (count)"``.
    y_title : str, default "Stage"
        Stage axis title.
    width, height : int
        Size in pixels.

    Returns
    -------
    alt.LayerChart
        Bars layered with text labels; the share of the first stage is in ``pct_of_first``.

    Examples
    --------
    >>> frame = pd.DataFrame({"stage": ["impression", "click", "play"], "users": [100, 40, 25]})
    >>> chart = funnel_chart(frame, "stage", "users", "Discovery funnel", "Users (count)")
    """
    frame = check(frame, [stage, count], title, {"x_title": x_title, "y_title": y_title})
    require_unit(f"axis title for {count!r}", x_title, field_type(frame, count))
    first = frame[count].iloc[0] if len(frame) else 0
    share = frame[count] / first * 100 if first else frame[count] * 0.0
    data = frame[[stage, count]].assign(
        pct_of_first=share.round(1), label=share.map(lambda pct: f"{pct:.1f}%")
    )
    order = list(data[stage])
    base = alt.Chart(data).encode(
        y=alt.Y(stage, type="nominal", title=y_title, sort=order),
        x=alt.X(count, type="quantitative", title=x_title),
        tooltip=[
            alt.Tooltip(stage, type="nominal", title=y_title),
            alt.Tooltip(count, type="quantitative", title=x_title),
            alt.Tooltip("pct_of_first", type="quantitative", title="Share of first stage (%)"),
        ],
    )
    labels = base.mark_text(align="left", dx=4).encode(text=alt.Text("label", type="nominal"))
    return alt.layer(base.mark_bar(), labels, title=title, width=width, height=height)


def scatter_chart(
    frame: pd.DataFrame,
    x: str,
    y: str,
    title: str,
    x_title: str,
    y_title: str,
    label: str | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    color: str | None = None,
    color_title: str | None = None,
) -> alt.LayerChart:
    """Points of `y` against `x`, each optionally labelled by the `label` column.

    Both axes are quantitative and need a unit, e.g. ``"Coverage (% of catalog)"``; use it to
    show a trade-off between two measures of the same items (accuracy against coverage).
    With many points close together, name them by `color` (a legend, with `color_title`)
    instead of text labels, which overlap.

    Examples
    --------
    >>> frame = pd.DataFrame({"model": ["a", "b"], "ndcg": [0.3, 0.4], "coverage": [10, 40]})
    >>> chart = scatter_chart(frame, "coverage", "ndcg", "Accuracy vs coverage",
    ...                       "Coverage (%)", "nDCG@10 (0-1)", label="model")
    >>> chart = scatter_chart(frame, "coverage", "ndcg", "Accuracy vs coverage",
    ...                       "Coverage (%)", "nDCG@10 (0-1)", color="model", color_title="Model")
    """
    frame = check(frame, [x, y, label, color], title, {"x_title": x_title, "y_title": y_title})
    tips = [
        (label, label),
        (color, legend(color, color_title)),
        (x, x_title),
        (y, y_title),
    ]
    if color is not None and color == label:
        tips = tips[1:]
    base = alt.Chart(frame, title=title, width=width, height=height).encode(
        x=alt.X(**channel(frame, x, x_title), scale=alt.Scale(zero=False)),
        y=alt.Y(**channel(frame, y, y_title), scale=alt.Scale(zero=False)),
        tooltip=tooltip(frame, tips),
    )
    points = base.mark_circle(size=80)
    if color is not None:
        points = points.encode(color=alt.Color(color, title=legend(color, color_title)))
    if label is None:
        return alt.layer(points)
    return alt.layer(points, base.mark_text(align="left", dx=7).encode(text=label))


def interval_chart(
    frame: pd.DataFrame,
    y: str,
    x: str,
    low: str,
    high: str,
    title: str,
    y_title: str,
    x_title: str,
    color: str | None = None,
    color_title: str | None = None,
    sort: Sequence[str] | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> alt.LayerChart:
    """One row per category `y`: estimate `x` as a point, its interval `low`-`high` as a rule.

    For effects with confidence intervals: a rule crossing zero shows an effect that may be
    nothing. A vertical line marks zero. `x_title` needs a unit, e.g. ``"Revenue (USD)"``.

    Examples
    --------
    >>> frame = pd.DataFrame({"lever": ["upsell"], "usd": [1.2], "lo": [0.9], "hi": [1.5]})
    >>> chart = interval_chart(frame, "lever", "usd", "lo", "hi", "Effects", "Lever", "USD (USD)")
    """
    frame = check(frame, [y, x, low, high, color], title, {"y_title": y_title, "x_title": x_title})
    y_enc = alt.Y(**channel(frame, y, y_title, "ordinal"), sort=readable_sort(sort))
    x_kw = channel(frame, x, x_title)
    base = alt.Chart(frame, title=title, width=width, height=height)
    tips = tooltip(frame, [(y, y_title), (x, x_title), (low, "low"), (high, "high"),
                           (color, color_title)])  # fmt: skip
    colour = {} if color is None else {"color": alt.Color(color, title=legend(color, color_title))}
    rule = base.mark_rule(strokeWidth=2).encode(
        y=y_enc, x=alt.X(low, type="quantitative", title=x_title), x2=high, tooltip=tips,
        **colour,
    )  # fmt: skip
    point = base.mark_point(filled=True, size=70).encode(
        y=y_enc, x=alt.X(**x_kw), tooltip=tips, **colour
    )
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[4, 3], color="gray")
    return alt.layer(rule, point, zero.encode(x="zero:Q"))
