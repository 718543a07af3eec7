"""Provides the case's SQLite database: marks, notes, tags, saved filters, saved queries, query history and the
analyst's attribution of IPs, sessions and user agents (attribution.py).

Every change is committed when it is made, so nothing is lost over a dropped SSH session.
"""

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS marks (record_id TEXT PRIMARY KEY, marked_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notes (record_id TEXT PRIMARY KEY, text TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tags (record_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (record_id, tag));
CREATE TABLE IF NOT EXISTS saved_filters (name TEXT PRIMARY KEY, query TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS filter_history (id INTEGER PRIMARY KEY AUTOINCREMENT, query TEXT NOT NULL, used_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS saved_queries (name TEXT PRIMARY KEY, sql TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS query_history (id INTEGER PRIMARY KEY AUTOINCREMENT, sql TEXT NOT NULL, ran_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attribution (kind TEXT NOT NULL, value TEXT NOT NULL, verdict TEXT NOT NULL,
    marked_at TEXT NOT NULL, PRIMARY KEY (kind, value));
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class CaseStore:
    """The case database; each method is one committed transaction."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.executescript(SCHEMA)
        self.db.commit()

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def set_marks(self, record_ids: list[str], marked: bool) -> None:
        """Mark or unmark events."""
        with self.db:
            if marked:
                self.db.executemany(
                    "INSERT OR IGNORE INTO marks VALUES (?, ?)", [(rid, _now()) for rid in record_ids]
                )
            else:
                self.db.executemany("DELETE FROM marks WHERE record_id = ?", [(rid,) for rid in record_ids])

    def marks(self) -> set[str]:
        """Record ids of marked events."""
        return {row[0] for row in self.db.execute("SELECT record_id FROM marks")}

    def set_note(self, record_id: str, text: str) -> None:
        """Write (or with empty text, remove) the note of an event."""
        with self.db:
            if text.strip():
                self.db.execute("INSERT OR REPLACE INTO notes VALUES (?, ?, ?)", (record_id, text, _now()))
            else:
                self.db.execute("DELETE FROM notes WHERE record_id = ?", (record_id,))

    def notes(self) -> dict[str, str]:
        """Notes by record id."""
        return dict(self.db.execute("SELECT record_id, text FROM notes"))

    def set_tags(self, record_id: str, tags: list[str]) -> None:
        """Replace the tags of an event."""
        with self.db:
            self.db.execute("DELETE FROM tags WHERE record_id = ?", (record_id,))
            self.db.executemany("INSERT INTO tags VALUES (?, ?)", [(record_id, tag) for tag in dict.fromkeys(tags) if tag])

    def tags(self) -> dict[str, list[str]]:
        """Tags by record id, in name order."""
        result: dict[str, list[str]] = {}
        for record_id, tag in self.db.execute("SELECT record_id, tag FROM tags ORDER BY tag"):
            result.setdefault(record_id, []).append(tag)
        return result

    def add_filter_history(self, query: str) -> None:
        """Remember a filter the analyst applied."""
        with self.db:
            self.db.execute("INSERT INTO filter_history (query, used_at) VALUES (?, ?)", (query, _now()))

    def filter_history(self, limit: int = 100) -> list[str]:
        """Recent distinct filters, newest first."""
        rows = self.db.execute(
            "SELECT query FROM filter_history GROUP BY query ORDER BY MAX(id) DESC LIMIT ?", (limit,)
        )
        return [row[0] for row in rows]

    def save_filter(self, name: str, query: str) -> None:
        """Save a named filter."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO saved_filters VALUES (?, ?, ?)", (name, query, _now()))

    def saved_filters(self) -> dict[str, str]:
        """Saved filters by name."""
        return dict(self.db.execute("SELECT name, query FROM saved_filters ORDER BY name"))

    def add_query_history(self, sql: str) -> None:
        """Remember a SQL query that was run."""
        with self.db:
            self.db.execute("INSERT INTO query_history (sql, ran_at) VALUES (?, ?)", (sql, _now()))

    def query_history(self, limit: int = 100) -> list[str]:
        """Recent distinct SQL queries, newest first."""
        rows = self.db.execute("SELECT sql FROM query_history GROUP BY sql ORDER BY MAX(id) DESC LIMIT ?", (limit,))
        return [row[0] for row in rows]

    def save_query(self, name: str, sql: str) -> None:
        """Save a named SQL query."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO saved_queries VALUES (?, ?, ?)", (name, sql, _now()))

    def saved_queries(self) -> dict[str, str]:
        """Saved SQL queries by name."""
        return dict(self.db.execute("SELECT name, sql FROM saved_queries ORDER BY name"))

    def set_attribution(self, kind: str, values: list[str], verdict: str | None) -> None:
        """Say whose the IPs, sessions or user agents (`kind`) are: `attacker`, `not_attacker`, or None to forget."""
        with self.db:
            if verdict is None:
                self.db.executemany("DELETE FROM attribution WHERE kind = ? AND value = ?", [(kind, v) for v in values])
            else:
                self.db.executemany("INSERT OR REPLACE INTO attribution VALUES (?, ?, ?, ?)",
                                    [(kind, value, verdict, _now()) for value in values])

    def attribution(self) -> list[tuple[str, str, str]]:
        """(kind, value, verdict) of everything the analyst attributed, oldest first."""
        return list(self.db.execute("SELECT kind, value, verdict FROM attribution ORDER BY marked_at, kind, value"))
