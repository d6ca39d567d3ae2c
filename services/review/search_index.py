"""SQLite's trigram index over the queue's search text (r11sqlitefts, r12search16): which rows
may hold a term, read from the index's shortest lists, and the per-trigram counts that say
which lists are short."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    func,
    literal_column,
    select,
    text,
    tuple_,
)

FTS_TABLE = "review_items_fts"
VOCAB_TABLE = "review_items_fts_vocab"  # fts5vocab 'row': exact counts, a whole list read each
STATS_TABLE = "review_items_fts_stats"  # a copy of those counts, refreshed after bulk loads
# SQLite answers searches of three or more characters from the index.
MIN_CHARS = 3
# A row holding the term holds each of its trigrams; three of the rarest already leave few
# candidates, and every further list read costs more than checking the term on those few.
PICKED = 3
# A term whose rarest trigram is in more rows than this is common enough that walking the
# page's sort order and testing each row finds a page (and the capped count) sooner than
# gathering every candidate from the index first.
SCAN_ABOVE = 20_000


def trigrams(needle: str) -> list[str]:
    """Each distinct three-character run of the (lower-cased) needle, in order."""
    return list(dict.fromkeys(needle[i : i + 3] for i in range(len(needle) - 2)))


def rarest(session: Any, needle: str) -> tuple[list[str], int]:
    """The needle's rarest trigrams and how many rows the rarest is in (an upper bound on the
    matches). Counts come from the stats copy; a trigram it lacks is counted in the index."""
    grams = trigrams(needle)
    known = dict(
        session.execute(
            text(f"SELECT term, docs FROM {STATS_TABLE} WHERE term IN :terms").bindparams(
                bindparam("terms", expanding=True)
            ),
            {"terms": grams},
        ).all()
    )
    missing = [g for g in grams if g not in known]
    if missing:
        counted = dict(
            session.execute(
                text(f"SELECT term, doc FROM {VOCAB_TABLE} WHERE term IN :terms").bindparams(
                    bindparam("terms", expanding=True)
                ),
                {"terms": missing},
            ).all()
        )
        known |= {g: int(counted.get(g, 0)) for g in missing}
    # Ties keep the needle's order, so a search plans the same way every time.
    picked = sorted(grams, key=lambda g: known[g])[:PICKED]
    return picked, int(known[picked[0]])


def candidates(grams: list[str]) -> Select[Any]:
    """The ids of the rows whose search text holds every one of these trigrams."""
    query = " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)
    return (
        select(literal_column("rowid"))
        .select_from(text(FTS_TABLE))
        .where(text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=query))
    )


def few_matches(
    session: Any,
    columns: list[Any],
    where: list[ColumnElement[bool]],
    keys: list[Any],
    after: list[Any] | None,
    limit: int,
    cap: int,
) -> tuple[list[Any], int] | None:
    """The page and the number of matches in one statement, for a search the index says has
    few rows to match: they are found once (a materialised CTE), then sorted and counted.
    None when that does not settle it: more than ``cap`` matches (stale counts), or a page
    past the last match."""
    matches = select(*columns).where(*where).limit(cap + 1).cte("matches")
    matches = matches.prefix_with("MATERIALIZED")
    m_keys = [matches.c[k.key] for k in keys]
    n = select(func.count()).select_from(matches).scalar_subquery().label("n_matches")
    stmt = select(*matches.c, n).order_by(*m_keys).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(tuple_(*m_keys) > tuple_(*after))
    rows = list(session.execute(stmt).all())
    if not rows and after is not None:
        return None
    total = int(rows[0].n_matches) if rows else 0
    return (rows, total) if total <= cap else None


def refresh_stats(conn: Connection) -> None:
    """Recount every trigram's rows into the stats copy, on SQLite (one read of the whole
    index: ~4 s at a million items, so after a bulk load rather than per write)."""
    if conn.dialect.name != "sqlite":
        return
    found = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = ?", (STATS_TABLE,)
    ).scalar()
    if found is None:  # a database migrated before r12search16
        return
    conn.exec_driver_sql(f"DELETE FROM {STATS_TABLE}")
    conn.exec_driver_sql(
        f"INSERT INTO {STATS_TABLE}(term, docs) SELECT term, doc FROM {VOCAB_TABLE}"
    )
