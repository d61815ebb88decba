"""The SQL texts of the signals and point-in-time member features, one function per query.

Each public function returns one ``SELECT`` (with its CTEs) over the relations ``events``,
``users``, ``titles``, ``billing`` and ``notifications``. The SQL is standard (SELECT, JOIN,
GROUP BY, CASE, window functions, ``GREATEST``/``LEAST``, ``MIN_BY``) so the same text runs on
DuckDB and Spark SQL; the few spellings that differ (epoch milliseconds, weekday) are rendered by
a `Dialect`. Definitions mirror the pandas implementations in `persona_lib.signals` (funnel,
engagement, features); their docstrings hold the formulas.

Two choices keep results deterministic under parallel aggregation: ``watch_s`` is summed as
``DECIMAL(38, 12)`` (an exact sum whatever order the threads add it in) and genre weights are
summed as integers scaled by ``GENRE_SCALE`` (divisible by every genre count from 1 to 16).
Instants are compared as epoch milliseconds; a cutoff is passed in as a literal.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

import pandas as pd

from persona_lib.data.schema import DEVICES, GENRES

COMPLETION_THRESHOLD = 0.9
SEARCH_ROW = "search"
GENRE_SCALE = 720720  # lcm(1, ..., 16): a title's weight 1/n_genres times this is an integer
TILE_KEYS = "session_id, title_id, row_id, row_position, col_position"
FUNNEL_KEYS = ("device", "hour", "day", "weekday", "row_position", "col_position", "row_id",
               "language", "title_language")  # fmt: skip
MS_PER_DAY = 86_400_000
OUTCOME_EVENTS = ("hover", "click", "scroll_past", "play_start")


@dataclass(frozen=True)
class Dialect:
    """How one engine spells what standard SQL leaves open; ``{}`` is the argument."""

    engine: str
    epoch_ms: str  # milliseconds since 1970 of a TIMESTAMP, as BIGINT
    weekday: str  # Monday = 0 ... Sunday = 6
    quote: str  # a quoted identifier (``end`` is a keyword)
    inline: str = ""  # a CTE hint: scan again at each use instead of materializing the rows

    def ms(self, expr: str) -> str:
        return self.epoch_ms.format(expr)

    def day_of_week(self, expr: str) -> str:
        return self.weekday.format(expr)

    def name(self, identifier: str) -> str:
        return self.quote.format(identifier)


# DuckDB materializes a CTE used more than once: for ``ev`` (every event before a cutoff) and
# ``tile_events`` (impressions and their outcomes, joined with themselves) that held most events
# in memory and spilled at 100M events (scale benchmark), so those two are re-scanned instead.
DUCKDB = Dialect(
    "duckdb", epoch_ms="epoch_ms({})", weekday="(isodow({}) - 1)", quote='"{}"',
    inline="NOT MATERIALIZED ",
)  # fmt: skip
SPARK = Dialect("spark", epoch_ms="unix_millis({})", weekday="weekday({})", quote="`{}`")


def timestamp_literal(value) -> str:
    """``TIMESTAMP '...'`` literal (microseconds) of a timestamp-like value."""
    return f"TIMESTAMP '{pd.Timestamp(value).strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def epoch_ms_of(value) -> int:
    """Milliseconds since 1970 of a timestamp-like value (must be a whole millisecond)."""
    ns = pd.Timestamp(value).as_unit("ns").value
    if ns % 1_000_000:
        raise ValueError(f"cutoff {value} is not a whole millisecond")
    return ns // 1_000_000


def _days(ms_expr: str) -> str:
    """Days (DOUBLE) of a millisecond difference."""
    return f"(CAST({ms_expr} AS DOUBLE) / {MS_PER_DAY})"


def _ratio(num: str, den: str) -> str:
    """``num / den`` as DOUBLE, NULL unless ``den > 0`` (`engagement.ratio`)."""
    return f"(CASE WHEN {den} > 0 THEN CAST({num} AS DOUBLE) / {den} END)"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _with(
    ctes: list[tuple[str, str]], final: str, inline: tuple[str, ...] = (), dialect=None
) -> str:
    """``WITH`` the named CTEs; those in ``inline`` carry the dialect's no-materialize hint."""
    hint = dialect.inline if dialect is not None else ""
    body = ",\n".join(
        f"{name} AS {hint if name in inline else ''}(\n{sql}\n)" for name, sql in ctes
    )
    return f"WITH {body}\n{final}"


def _watch_sum(expr: str = "watch_s") -> str:
    """Exact, order-independent sum of ``watch_s`` (DOUBLE; NULL when all are NULL)."""
    return f"CAST(SUM(CAST({expr} AS DECIMAL(38, 12))) AS DOUBLE)"


# --- shared building blocks: plays, tile attribution, sessions --------------------------------


def _play_ctes(ev: str, threshold: float) -> list[tuple[str, str]]:
    """``plays``: one row per ``play_start`` with ``watch_s``, ``completed``, ``from_search``.

    The k-th start of a (session, title) by (ts, event_id) is closed by the k-th ``play_stop``
    (`engagement.start_watch_s`); ``completed = watch_s >= threshold * runtime_min * 60``.
    """
    rank = "ROW_NUMBER() OVER (PARTITION BY session_id, title_id ORDER BY ts, event_id) AS k"
    starts = f"""SELECT event_id, ts, user_id, session_id, device, title_id, row_id, row_position,
       col_position, {rank}
FROM {ev} WHERE event_type = 'play_start'"""
    stops = (
        f"SELECT session_id, title_id, watch_s, {rank}\nFROM {ev} WHERE event_type = 'play_stop'"
    )
    done = f"CAST(p.watch_s AS DOUBLE) >= CAST({threshold!r} AS DOUBLE) * (t.runtime_min * 60)"
    plays = f"""SELECT s.event_id, s.ts, s.user_id, s.session_id, s.device, s.title_id, s.row_id,
       s.row_position, s.col_position, p.watch_s,
       {_flag(f"s.row_id = '{SEARCH_ROW}'")} AS from_search, {_flag(done)} AS completed
FROM play_starts s
LEFT JOIN play_stops p ON p.session_id = s.session_id AND p.title_id = s.title_id AND p.k = s.k
LEFT JOIN titles t ON t.title_id = s.title_id"""
    return [("play_starts", starts), ("play_stops", stops), ("plays", plays)]


def _tile_ctes(ev: str, outcomes: tuple[str, ...] = OUTCOME_EVENTS) -> list[tuple[str, str]]:
    """``tiles``: one row per homepage impression with its outcome flags (needs ``plays``).

    An outcome (hover, click, scroll_past, play_start off search) belongs to the latest
    impression of the same tile at or before it, impressions first at equal ``ts`` and later
    ``event_id`` later (`attribution.attribute`). An equi-join on the tile keys finds the
    candidates (tiles are rarely shown twice in a session); a window keeps the latest. Only
    ``outcomes`` are attributed (the others' flags stay 0), which saves the join its bulk.
    """
    kinds = ", ".join(f"'{k}'" for k in ("impression", *outcomes))
    keys = [k.strip() for k in TILE_KEYS.split(",")]
    tile_events = f"""SELECT event_id, ts, user_id, device, event_type, {TILE_KEYS}
FROM {ev} WHERE event_type IN ({kinds}) AND row_id <> '{SEARCH_ROW}'"""
    same_tile = " AND ".join(f"i.{k} = o.{k}" for k in keys)
    matches = f"""SELECT o.event_id, o.event_type, i.event_id AS impression_id,
       ROW_NUMBER() OVER (PARTITION BY o.event_id ORDER BY i.ts DESC, i.event_id DESC) AS latest
FROM tile_events o JOIN tile_events i ON {same_tile} AND i.ts <= o.ts
WHERE o.event_type <> 'impression' AND i.event_type = 'impression'"""

    def has(kind: str, extra: str = "") -> str:
        condition = f"m.event_type = '{kind}'{extra}"
        return f"MAX({_flag(condition)})"

    flags = f"""SELECT m.impression_id, {has("hover")} AS hovered, {has("click")} AS clicked,
       {has("scroll_past")} AS scrolled_past, {has("play_start")} AS played,
       {has("play_start", " AND p.completed = 1")} AS completed
FROM tile_matches m LEFT JOIN plays p ON p.event_id = m.event_id
WHERE m.latest = 1
GROUP BY m.impression_id"""
    names = ["hovered", "clicked", "scrolled_past", "played", "completed"]
    filled = ", ".join(f"COALESCE(f.{n}, 0) AS {n}" for n in names)
    tiles = f"""SELECT i.event_id, i.ts, i.user_id, i.device, {", ".join(f"i.{k}" for k in keys)},
       {filled}
FROM tile_events i LEFT JOIN tile_flags f ON f.impression_id = i.event_id
WHERE i.event_type = 'impression'"""
    return [("tile_events", tile_events), ("tile_matches", matches), ("tile_flags", flags),
            ("tiles", tiles)]  # fmt: skip


# --- funnel, sessions, hours by source ---------------------------------------------------------


def _funnel_key(key: str, dialect: Dialect) -> str:
    """``expression AS key`` of a group key that is not a column of ``funnel_units``."""
    derived = {
        "hour": "EXTRACT(HOUR FROM f.ts)",
        "day": "CAST(CAST(f.ts AS DATE) AS TIMESTAMP)",
        "weekday": dialect.day_of_week("f.ts"),
        "language": "u.language",
        "title_language": "t.language",
    }
    return f"{derived[key]} AS {key}"


def funnel_sql(
    by: list[str] | tuple[str, ...] = (),
    threshold: float = COMPLETION_THRESHOLD,
    dialect: Dialect = DUCKDB,
) -> str:
    """Funnel counts and rates per group of impressions (`funnel.compute_funnel`).

    Stages are cumulative (a play counts as a hover and a click); ``search_plays`` are plays
    from search, grouped by the play's own keys. Rates are NULL when the denominator is 0.
    """
    unknown = [k for k in by if k not in FUNNEL_KEYS]
    if unknown:
        raise ValueError(f"unknown funnel group keys {unknown}; choose from {list(FUNNEL_KEYS)}")
    cols = "ts, user_id, device, title_id, row_id, row_position, col_position"
    units = f"""SELECT {cols}, 1 AS impressions,
       {_flag("hovered = 1 OR clicked = 1 OR played = 1")} AS hovers,
       {_flag("clicked = 1 OR played = 1")} AS clicks, played AS plays,
       {_flag("completed = 1 AND played = 1")} AS completions, 0 AS search_plays
FROM tiles
UNION ALL
SELECT {cols}, 0, 0, 0, 0, 0, 1 FROM plays WHERE from_search = 1"""
    # keys that are columns of funnel_units come with f.*: Spark rejects a duplicate name
    keyed = ", ".join(["f.*", *(_funnel_key(k, dialect) for k in by if k not in cols.split(", "))])
    joined = f"""SELECT {keyed}
FROM funnel_units f
LEFT JOIN users u ON u.user_id = f.user_id
LEFT JOIN titles t ON t.title_id = f.title_id"""
    names = ["impressions", "hovers", "clicks", "plays", "completions", "search_plays"]
    sums = ", ".join(f"SUM({n}) AS {n}" for n in names)
    group = f"\nGROUP BY {', '.join(by)}" if by else ""
    counts = f"SELECT {', '.join([*by, sums])}\nFROM funnel_keyed{group}"
    rates = {
        "hover_rate": ("hovers", "impressions"), "click_rate": ("clicks", "impressions"),
        "play_rate": ("plays", "impressions"), "completion_rate": ("completions", "plays"),
        "hover_to_click": ("clicks", "hovers"), "click_to_play": ("plays", "clicks"),
    }  # fmt: skip
    rate_sql = ", ".join(f"{_ratio(n, d)} AS {name}" for name, (n, d) in rates.items())
    order = f"\nORDER BY {', '.join(by)}" if by else ""
    ctes = [*_play_ctes("events", threshold), *_tile_ctes("events"), ("funnel_units", units),
            ("funnel_keyed", joined), ("funnel_counts", counts)]  # fmt: skip
    # tile_events (every impression and outcome) is joined with itself: materialized it spilled
    # at 100M events and doubled the time per event (scale benchmark), so it is re-scanned
    final = f"SELECT *, {rate_sql}\nFROM funnel_counts{order}"
    return _with(ctes, final, inline=("tile_events",), dialect=dialect)


def session_summary_sql(dialect: Dialect = DUCKDB) -> str:
    """One row per session (`engagement.session_summary`); ``watch_s`` sums ``play_stop``s."""
    names = {
        "impression": "impressions", "hover": "hovers", "click": "clicks",
        "scroll_past": "scroll_pasts", "search": "searches", "play_start": "plays",
        "rewatch": "rewatches",
    }  # fmt: skip
    counts = ",\n       ".join(
        "SUM(" + _flag(f"event_type = '{k}'") + f") AS {v}" for k, v in names.items()
    )
    duration = f"CAST({dialect.ms('MAX(ts)')} - {dialect.ms('MIN(ts)')} AS DOUBLE) / 1000"
    return f"""SELECT session_id, MIN_BY(user_id, event_id) AS user_id,
       MIN_BY(device, event_id) AS device, MIN(ts) AS start, MAX(ts) AS {dialect.name("end")},
       {duration} AS duration_s, COUNT(*) AS events,
       {counts},
       COALESCE({_watch_sum()}, 0) AS watch_s,
       SUM({_flag("event_type = 'play_start'")}) > 0 AS had_play
FROM events
GROUP BY session_id
ORDER BY session_id"""


def hours_by_source_sql(dialect: Dialect = DUCKDB) -> str:
    """Plays and hours from recommendation rows versus search (`engagement.hours_by_source`)."""
    per = f"""SELECT CASE WHEN from_search = 1 THEN 'search' ELSE 'recommendation' END AS source,
       COUNT(*) AS plays, COALESCE({_watch_sum()}, 0) / 3600 AS hours
FROM plays GROUP BY CASE WHEN from_search = 1 THEN 'search' ELSE 'recommendation' END"""
    sources = "SELECT 'recommendation' AS source UNION ALL SELECT 'search'"
    both = """SELECT s.source, COALESCE(p.plays, 0) AS plays, COALESCE(p.hours, 0) AS hours
FROM sources s LEFT JOIN per_source p ON p.source = s.source"""
    final = f"""SELECT source, plays, hours,
       {_ratio("plays", "SUM(plays) OVER ()")} AS plays_share,
       {_ratio("hours", "SUM(hours) OVER ()")} AS hours_share
FROM by_source ORDER BY source"""
    ctes = [*_play_ctes("events", COMPLETION_THRESHOLD), ("per_source", per),
            ("sources", sources), ("by_source", both)]  # fmt: skip
    return _with(ctes, final)


def churn_labels_sql(cutoff, horizon_days: float = 31) -> str:
    """Each member's first billing row at or after ``cutoff`` when it is a renewal before
    ``cutoff + horizon_days`` (`features.churn_labels`); ``churn`` is 1 for a lost renewal."""
    start = timestamp_literal(cutoff)
    end = timestamp_literal(pd.Timestamp(cutoff) + pd.Timedelta(days=horizon_days))
    after = f"""SELECT user_id, period_start, status,
       ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY period_start) AS n
FROM billing WHERE period_start >= {start}"""
    final = f"""SELECT user_id, period_start AS renewal_ts,
       {_flag("status IN ('churned', 'payment_failed')")} AS churn, status AS cause
FROM billing_after
WHERE n = 1 AND status IN ('renewed', 'churned', 'payment_failed') AND period_start < {end}
ORDER BY user_id"""
    return _with([("billing_after", after)], final)


def renewal_calendar(cutoff) -> list[tuple[int, int, int]]:
    """Per anniversary day 1..31: the last renewal before ``cutoff`` and the next at or after
    it, in epoch ms. A month's renewal is at midnight of day ``min(anniversary, month length)``
    (`features.renewal_dates`); computed here because month lengths are dialect-specific SQL."""
    cutoff = pd.Timestamp(cutoff)
    months = [(cutoff.year * 12 + cutoff.month - 1 + d) for d in (-1, 0, 1)]
    rows = []
    for day in range(1, 32):
        cands = []
        for m in months:
            year, month = divmod(m, 12)
            last = calendar.monthrange(year, month + 1)[1]
            cands.append(pd.Timestamp(year, month + 1, min(day, last)))
        prev = max(c for c in cands if c < cutoff)
        nxt = min(c for c in cands if c >= cutoff)
        rows.append((day, epoch_ms_of(prev), epoch_ms_of(nxt)))
    return rows


# --- point-in-time member features ---------------------------------------------------------------


def _member_ctes(cutoff, cms: int, ms) -> list[tuple[str, str]]:
    """Members active at the cutoff with plan, price, tenure, billing counts and renewal dates."""
    c = timestamp_literal(cutoff)
    bill = f"""SELECT user_id, period_start, plan, price, status,
       ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY period_start DESC) AS back
FROM billing WHERE period_start < {c}"""
    counts = f"""SELECT user_id, SUM({_flag("status = 'payment_failed'")}) AS payment_failures,
       SUM({_flag("status = 'churned'")}) AS prior_churns,
       MAX(CASE WHEN status = 'reactivated' THEN period_start END) AS reactivated_at
FROM bill GROUP BY user_id"""
    # an inline table, not a UNION ALL of 31 selects: Spark would plan 31 partitions for it
    rows = ",\n       ".join(f"({d}, {p}, {n})" for d, p, n in renewal_calendar(cutoff))
    days = f"SELECT * FROM (VALUES {rows}) AS k(anniversary, prev_ms, next_ms)"
    active = "l.status IS NULL OR l.status IN ('new', 'renewed', 'reactivated')"
    members = f"""SELECT u.user_id, {ms("u.signup_ts")} AS signup_ms,
       COALESCE(l.plan, u.plan) AS plan, CAST(COALESCE(l.price, u.price) AS DOUBLE) AS price,
       {_days(f"{cms} - {ms('u.signup_ts')}")} AS tenure_days,
       COALESCE(b.payment_failures, 0) AS payment_failures,
       COALESCE(b.prior_churns, 0) AS prior_churns,
       COALESCE(b.reactivated_at, u.signup_ts) AS anchor_ts
FROM users u
LEFT JOIN bill l ON l.user_id = u.user_id AND l.back = 1
LEFT JOIN bill_counts b ON b.user_id = u.user_id
WHERE u.signup_ts < {c} AND ({active})"""
    dated = f"""SELECT m.*, GREATEST(k.prev_ms, {ms("m.anchor_ts")}) AS period_start_ms,
       {_days(f"k.next_ms - {cms}")} AS days_to_renewal,
       GREATEST({_days(f"{cms} - GREATEST(m.signup_ms, s.start_ms)")}, 0) AS exposure
FROM members m
JOIN renewal_calendar k ON k.anniversary = EXTRACT(DAY FROM m.anchor_ts)
CROSS JOIN log_start s"""
    start = f"SELECT COALESCE(MIN({ms('ts')}), {cms}) AS start_ms FROM ev"
    return [("bill", bill), ("bill_counts", counts), ("renewal_calendar", days),
            ("log_start", start), ("members", members), ("members_dated", dated)]  # fmt: skip


def _activity_ctes(cms: int, ms) -> list[tuple[str, str]]:
    """Per member: session recency, counts and device mix; hours watched in windows."""
    sessions = f"""SELECT MIN_BY(user_id, event_id) AS user_id, MIN_BY(device, event_id) AS device,
       {_days(f"{cms} - {ms('MIN(ts)')}")} AS age
FROM ev GROUP BY session_id"""
    devices = ",\n       ".join(
        "SUM(" + _flag(f"device = '{d}'") + f") AS sessions_{d}" for d in DEVICES
    )
    session_stats = f"""SELECT user_id, MIN(age) AS recency_days, COUNT(*) AS sessions,
       SUM({_flag("age <= 7")}) AS sessions_7d, SUM({_flag("age <= 28")}) AS sessions_28d,
       {devices}
FROM member_sessions GROUP BY user_id"""
    age = _days(f"{cms} - {ms('e.ts')}")
    in_period = f"{ms('e.ts')} >= m.period_start_ms"
    hours = f"""SELECT e.user_id,
       COALESCE({_watch_sum(f"CASE WHEN {age} <= 7 THEN e.watch_s END")}, 0) / 3600 AS hours_7d,
       COALESCE({_watch_sum(f"CASE WHEN {age} <= 28 THEN e.watch_s END")}, 0) / 3600 AS hours_28d,
       COALESCE({_watch_sum(f"CASE WHEN {in_period} THEN e.watch_s END")}, 0) / 3600
           AS hours_period,
       COALESCE({_watch_sum("e.watch_s")}, 0) / 3600 AS hours_all
FROM ev e JOIN members_dated m ON m.user_id = e.user_id
WHERE e.event_type = 'play_stop'
GROUP BY e.user_id"""
    return [("member_sessions", sessions), ("session_stats", session_stats), ("hours", hours)]


def _viewing_ctes(cms: int, ms) -> list[tuple[str, str]]:
    """Per member: plays, completions, search plays and genre-mix sums; browsing; notifications."""
    flags = ",\n       ".join(
        _flag(f"'|' || genres || '|' LIKE '%|{g}|%'") + f" AS g{i}" for i, g in enumerate(GENRES)
    )
    n = " + ".join(f"g{i}" for i in range(len(GENRES)))
    scaled = ", ".join(
        f"g{i} * CAST({GENRE_SCALE} / GREATEST({n}, 1) AS BIGINT) AS g{i}"
        for i in range(len(GENRES))
    )
    genres = f"SELECT title_id, {scaled}\nFROM (SELECT title_id, {flags}\n      FROM titles) f"
    sums = ", ".join(f"SUM(g.g{i}) AS g{i}" for i in range(len(GENRES)))
    done_in_period = f"p.completed = 1 AND {ms('p.ts')} >= m.period_start_ms"
    known = _flag("p.watch_s IS NOT NULL")
    viewing = f"""SELECT p.user_id, COUNT(*) AS plays, SUM({known}) AS known,
       SUM(p.completed) AS completions, SUM({_flag(done_in_period)}) AS completions_period,
       SUM(p.from_search) AS search_plays, {sums}
FROM plays p JOIN members_dated m ON m.user_id = p.user_id
LEFT JOIN title_genres g ON g.title_id = p.title_id
GROUP BY p.user_id"""
    total = " + ".join(f"COALESCE(g{i}, 0)" for i in range(len(GENRES)))
    terms = " + ".join(
        f"CASE WHEN g{i} > 0 THEN CAST(g{i} AS DOUBLE) / total * LN(CAST(g{i} AS DOUBLE) / total)"
        " ELSE 0 END"
        for i in range(len(GENRES))
    )
    entropy = f"""SELECT v.*, CASE WHEN total > 0 THEN GREATEST(-({terms}), 0) END AS genre_entropy
FROM (SELECT viewing.*, {total} AS total FROM viewing) v"""
    browse = f"""SELECT user_id, SUM(CAST(dwell_ms AS BIGINT)) AS dwell_ms, COUNT(*) AS examined
FROM ev WHERE event_type IN ('hover', 'scroll_past', 'click') AND row_id <> '{SEARCH_ROW}'
GROUP BY user_id"""
    tile_stats = """SELECT user_id, COUNT(*) AS impressions, SUM(played) AS played
FROM tiles GROUP BY user_id"""
    ts_ms = ms("ts")
    recent = f"{_days(f'{cms} - {ts_ms}')} <= 28"
    notes = f"""SELECT user_id, SUM({_flag(recent)}) AS notifications_28d,
       SUM({_flag(f"{recent} AND opened")}) AS notifications_opened_28d
FROM notifications WHERE {ts_ms} < {cms}
GROUP BY user_id"""
    return [("title_genres", genres), ("viewing", viewing), ("viewing_mix", entropy),
            ("browse", browse), ("tile_stats", tile_stats),
            ("notes", notes)]  # fmt: skip


def _member_final(cms: int) -> tuple[str, str]:
    """``member_base`` (one row per active member, counts filled with 0) and the final select."""
    zero = ["sessions", "sessions_7d", "sessions_28d", *(f"sessions_{d}" for d in DEVICES)]
    hours = ["hours_7d", "hours_28d", "hours_period", "hours_all"]
    viewing = ["plays", "known", "completions", "completions_period", "search_plays"]
    filled = [f"COALESCE(s.{c}, 0) AS {c}" for c in zero]
    filled += [f"COALESCE(h.{c}, 0) AS {c}" for c in hours]
    filled += [f"COALESCE(v.{c}, 0) AS {c}" for c in viewing]
    filled += [
        f"COALESCE(n.{c}, 0) AS {c}" for c in ("notifications_28d", "notifications_opened_28d")
    ]
    base = f"""SELECT m.user_id, m.plan, m.price, m.tenure_days, m.payment_failures, m.prior_churns,
       m.days_to_renewal, m.exposure, m.period_start_ms, s.recency_days, v.genre_entropy,
       b.dwell_ms, b.examined, t.impressions, t.played,
       {", ".join(filled)}
FROM members_dated m
LEFT JOIN session_stats s ON s.user_id = m.user_id
LEFT JOIN hours h ON h.user_id = m.user_id
LEFT JOIN viewing_mix v ON v.user_id = m.user_id
LEFT JOIN browse b ON b.user_id = m.user_id
LEFT JOIN tile_stats t ON t.user_id = m.user_id
LEFT JOIN notes n ON n.user_id = m.user_id"""
    period_days = _days(f"{cms} - period_start_ms")
    rate7 = _ratio("hours_7d", "LEAST(exposure, 7)")
    rate28 = _ratio("hours_28d", "LEAST(exposure, 28)")
    rate_all = _ratio("hours_all", "exposure")
    rate_period = _ratio("hours_period", "LEAST(period_days, exposure)")
    shares = ",\n       ".join(
        f"{_ratio(f'sessions_{d}', 'sessions')} AS device_share_{d}" for d in DEVICES
    )
    final = f"""SELECT user_id, recency_days, sessions_7d, sessions_28d,
       7 * {_ratio("sessions", "exposure")} AS sessions_per_week, hours_7d, hours_28d,
       CASE WHEN {rate28} > 0 THEN {_ratio(rate7, rate28)} ELSE 1 END AS hours_trend_7_28,
       hours_period, completions_period,
       CASE WHEN {rate_all} > 0 THEN {_ratio(rate_period, rate_all)} ELSE 1 END AS period_trend,
       {_ratio("completions", "known")} AS completion_rate, genre_entropy,
       {shares},
       {_ratio("dwell_ms", "examined")} AS mean_dwell_ms,
       {_ratio("played", "impressions")} AS play_rate,
       {_ratio("search_plays", "plays")} AS search_play_share, plan, price, tenure_days,
       payment_failures, prior_churns, notifications_28d, notifications_opened_28d,
       days_to_renewal
FROM (SELECT member_base.*, {period_days} AS period_days FROM member_base) f
ORDER BY user_id"""
    return base, final


def member_features_sql(
    cutoff, threshold: float = COMPLETION_THRESHOLD, dialect: Dialect = DUCKDB
) -> str:
    """One row per member active at ``cutoff``, from rows strictly before it.

    Columns ``user_id`` and `persona_lib.signals.features.FEATURES` (the same definitions:
    exposure-normalised windows, NULL for ratios with a zero denominator, 1 for a trend
    without viewing), sorted by ``user_id``.
    """
    cms, ms = epoch_ms_of(cutoff), dialect.ms
    ev = f"SELECT * FROM events WHERE ts < {timestamp_literal(cutoff)}"
    ctes = [
        ("ev", ev),
        *_member_ctes(cutoff, cms, ms),
        *_play_ctes("ev", threshold),
        *_tile_ctes("ev", outcomes=("play_start",)),  # play_rate needs plays only
        *_activity_ctes(cms, ms),
        *_viewing_ctes(cms, ms),
    ]
    base, final = _member_final(cms)
    return _with([*ctes, ("member_base", base)], final, inline=("ev",), dialect=dialect)
