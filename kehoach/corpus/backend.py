"""Where the corpus store lives: SQLite in the corpus home (the zero-setup default) or a PostgreSQL
database named by a URL (``--store postgresql://...`` or ``$KEHOACH_STORE``).

The store and every module that reads it (links, legal registry, search, reports) speak the SQL that
``sqlite3`` takes, through ``corpus.conn``. For PostgreSQL, ``PgConnection`` is that connection's
shape over psycopg 3, and this module is the one place where the two dialects differ:

- placeholders ``?`` become ``%s`` (a literal ``%`` is doubled);
- ``INSERT OR IGNORE`` becomes ``INSERT ... ON CONFLICT DO NOTHING``; ``INSERT OR REPLACE`` an upsert
  on the table's primary key (read from the catalog);
- DDL: ``id INTEGER PRIMARY KEY`` becomes an identity column, ``INTEGER``/``INT`` ``BIGINT``,
  ``BLOB`` ``BYTEA``, ``REAL`` ``DOUBLE PRECISION``; ``WITHOUT ROWID`` is dropped;
- ``LIKE`` becomes ``ILIKE`` (SQLite's LIKE ignores ASCII case); ``sqlite_master`` a subquery over
  ``information_schema.tables`` and ``pg_indexes`` (type, name, tbl_name);
- ``BEGIN IMMEDIATE``/``EXCLUSIVE`` (SQLite's write lock) is ``BEGIN`` plus the writers'
  ``pg_advisory_xact_lock`` (``NS_WRITE``), so every writer of the corpus takes its turn there;
- ``cursor.lastrowid`` comes from ``RETURNING id`` on tables with an identity ``id``;
- ``numeric`` results (``SUM`` of integers) are returned as int, or float when not integral;
- errors are raised as the ``sqlite3`` exception of the same meaning (``OperationalError`` "no such
  table", "attempt to write a readonly database", ``IntegrityError``), chained to psycopg's, so the
  callers' handlers work for both stores.

Derived data stays local: the tables of the caches (``embed_cache``, ``segment_cache``,
``action_cache``, see ``LOCAL_TABLES``) are routed to a SQLite file in the local home folder
(``cache.sqlite3``), so vectors and segmentations are never shipped to the database server.

Locks (``pg_advisory_lock`` and friends take two int4 keys: a namespace and a key):
``NS_WRITE`` the writers' turn (transaction-scoped), ``NS_CLAIM`` a content hash being extracted
(session-scoped, dropped by the server with the connection), ``NS_INDEX`` the index hooks (session).
"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence
from urllib.parse import urlsplit, urlunsplit

from kehoach.errors import KehoachError

STORE_ENV = "KEHOACH_STORE"
PG_SCHEMES = ("postgresql", "postgres")
LOCAL_TABLES = ("embed_cache", "segment_cache", "action_cache")
LOCAL_MODULES = ("embed", "segment", "action")     # their schema versions are kept in the local file
LOCAL_DB_NAME = "cache.sqlite3"

# advisory-lock namespaces (first int4 key)
NS_WRITE, NS_CLAIM, NS_INDEX = 0x6B680001, 0x6B680002, 0x6B680003



def is_readonly_write(e: BaseException) -> bool:
    """A write refused by a read-only connection: sqlite3's "attempt to write a readonly database",
    which PostgreSQL's read-only refusals are translated to here."""
    return isinstance(e, sqlite3.OperationalError) and "readonly" in str(e)

class StoreError(KehoachError):
    """The store URL cannot be used."""


def store_url(explicit: Optional[str] = None) -> Optional[str]:
    """The PostgreSQL URL to use: ``explicit``, else ``$KEHOACH_STORE``; None for the SQLite default
    (also for "", "sqlite" or "sqlite:")."""
    raw = explicit if explicit is not None else os.environ.get(STORE_ENV)
    raw = (raw or "").strip()
    if not raw or raw.lower().rstrip(":/") == "sqlite":
        return None
    scheme = raw.split(":", 1)[0].lower()
    if scheme not in PG_SCHEMES:
        raise StoreError(f"{redact(raw)}: unknown store (use postgresql://USER@HOST/DB, or nothing for SQLite "
                         f"in the corpus home)")
    return raw


def redact(url: str) -> str:
    """The URL without its password (for messages and keys)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<store URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


def store_key(url: str) -> str:
    """A folder name for the local derived files of the store at ``url`` (search index, caches):
    ``pg-<host>-<db>-<12 hex>``, the hash over the URL without its password."""
    safe = redact(url)
    parts = urlsplit(safe)
    host = (parts.hostname or "local").replace("/", "_")[:24]
    db = (parts.path.strip("/") or "db")[:24]
    tag = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{host}-{db}")
    return f"pg-{tag}-{hashlib.sha1(safe.encode('utf-8')).hexdigest()[:12]}"


def lock_key(text: str) -> int:
    """A signed int4 from a hex digest (the second key of an advisory lock)."""
    v = int(text[:8], 16)
    return v - (1 << 32) if v >= (1 << 31) else v


# --------------------------------------------------------------------------- SQL dialect

_INSERT_OR = re.compile(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\w+)\s*\(([^)]*)\)", re.I)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.I)
_BEGIN = re.compile(r"^\s*BEGIN(\s+(IMMEDIATE|DEFERRED|EXCLUSIVE))?(\s+TRANSACTION)?\s*;?\s*$", re.I)
_DDL = re.compile(r"^\s*(CREATE|ALTER)\s", re.I)
_LOCAL = re.compile(r"\b(" + "|".join(LOCAL_TABLES) + r")\b")


# SQLite's catalog of tables and indexes, for the callers that ask it which tables exist
_SQLITE_MASTER = ("(SELECT 'table'::text AS type, table_name::text AS name, table_name::text AS tbl_name "
                  "FROM information_schema.tables WHERE table_schema = current_schema() UNION ALL "
                  "SELECT 'index'::text, indexname::text, tablename::text FROM pg_indexes "
                  "WHERE schemaname = current_schema()) AS sqlite_master")


def _placeholders(sql: str) -> str:
    """``?`` to ``%s`` and ``%`` to ``%%``, outside quoted literals."""
    out, quote = [], None
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


def _ddl(sql: str) -> str:
    s = re.sub(r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
               sql, flags=re.I)
    s = re.sub(r"\bWITHOUT\s+ROWID\b", "", s, flags=re.I)
    s = re.sub(r"\b(INTEGER|INT)\b(?!\s+GENERATED)", "BIGINT", s, flags=re.I)
    s = re.sub(r"\bBLOB\b", "BYTEA", s, flags=re.I)
    s = re.sub(r"\bREAL\b", "DOUBLE PRECISION", s, flags=re.I)
    return s


@lru_cache(maxsize=4096)
def translate(sql: str) -> tuple[str, Optional[tuple[str, str, tuple[str, ...]]]]:
    """SQLite SQL -> (PostgreSQL SQL, upsert) where upsert is (kind, table, columns) for ``INSERT OR
    IGNORE/REPLACE`` (the conflict clause is added by the connection, which knows the keys)."""
    s = sql.strip().rstrip(";")
    if _DDL.match(s):
        s = _ddl(s)
    upsert = None
    m = _INSERT_OR.match(s)
    if m:
        kind, table, cols = m.group(1).upper(), m.group(2), tuple(c.strip() for c in m.group(3).split(","))
        s = f"INSERT INTO {table}({m.group(3)})" + s[m.end():]
        upsert = (kind, table, cols)
    s = re.sub(r"\bLIKE\b", "ILIKE", s)
    s = re.sub(r"\bsqlite_master\b", _SQLITE_MASTER, s)
    return _placeholders(s), upsert


# --------------------------------------------------------------------------- the connection

class PgCursor:
    """The part of ``sqlite3.Cursor`` the callers use: rows, ``lastrowid``, ``rowcount``."""

    def __init__(self, rows: list, lastrowid: Optional[int] = None, rowcount: int = -1):
        self._rows = rows
        self._i = 0
        self.lastrowid = lastrowid
        self.rowcount = rowcount

    def fetchone(self):
        if self._i >= len(self._rows):
            return None
        self._i += 1
        return self._rows[self._i - 1]

    def fetchall(self) -> list:
        rest = self._rows[self._i:]
        self._i = len(self._rows)
        return rest

    def fetchmany(self, n: int = 1) -> list:
        rest = self._rows[self._i:self._i + n]
        self._i += len(rest)
        return rest

    def __iter__(self):
        while self._i < len(self._rows):
            self._i += 1
            yield self._rows[self._i - 1]


def _sqlite_error(e: Exception) -> sqlite3.Error:
    """The ``sqlite3`` exception that means what psycopg's ``e`` means."""
    from psycopg import errors as E
    msg = " ".join(str(e).split())
    if isinstance(e, (E.UndefinedTable, E.UndefinedColumn)):
        return sqlite3.OperationalError(f"no such table or column: {msg}")
    if isinstance(e, E.ReadOnlySqlTransaction):
        return sqlite3.OperationalError(f"attempt to write a readonly database ({msg})")
    if isinstance(e, E.IntegrityError):
        return sqlite3.IntegrityError(msg)
    if isinstance(e, E.OperationalError):
        return sqlite3.OperationalError(msg)
    return sqlite3.DatabaseError(msg)


class PgConnection:
    """A psycopg 3 connection (autocommit; transactions are explicit ``BEGIN``/``COMMIT``) with the
    methods of ``sqlite3.Connection`` the store and its readers call: ``execute``, ``executemany``,
    ``commit``, ``rollback``, ``in_transaction``, ``with conn:``, ``close``. Thread-safe (one lock)."""

    def __init__(self, url: str, *, readonly: bool = False, local: Optional[Path] = None,
                 connect_timeout: float = 30.0):
        try:
            import psycopg
        except ImportError:
            raise StoreError("a PostgreSQL store needs psycopg 3: pip install 'kehoach[postgres]'") from None
        from psycopg.types.numeric import NumericLoader

        class _Number(NumericLoader):
            def load(self, data):
                d = super().load(data)
                return int(d) if d == d.to_integral_value() else float(d)

        self.url = url
        self.readonly = readonly
        try:
            self.pg = psycopg.connect(url, autocommit=True, connect_timeout=int(connect_timeout),
                                      application_name=f"kehoach pid {os.getpid()}")
        except psycopg.Error as e:
            raise StoreError(f"{redact(url)}: cannot connect to the PostgreSQL store "
                             f"({' '.join(str(e).split())})") from None
        self.pg.adapters.register_loader("numeric", _Number)
        if readonly:
            self.pg.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        self._lock = threading.RLock()
        self._keys: dict[str, tuple[str, ...]] = {}
        self._identity: Optional[set[str]] = None
        self._local_path = local
        self._local: Optional[sqlite3.Connection] = None

    # ------------------------------------------------------------ local caches
    @property
    def local(self) -> sqlite3.Connection:
        """The SQLite file of the local derived tables (``LOCAL_TABLES``), opened on first use."""
        if self._local is None:
            if self._local_path is None:
                raise sqlite3.OperationalError("no local cache file for this PostgreSQL store")
            self._local_path.parent.mkdir(parents=True, exist_ok=True)
            c = sqlite3.connect(str(self._local_path), check_same_thread=False, timeout=60.0)
            c.execute("PRAGMA busy_timeout = 60000")
            try:
                c.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:   # pragma: no cover - read-only file
                pass
            self._local = c
        return self._local

    def _local_run(self, sql: str, params, many: bool):
        c = self.local
        try:
            cur = c.executemany(sql, params) if many else c.execute(sql, params or ())
            rows = cur.fetchall() if cur.description else []
            if c.in_transaction:
                c.commit()
            return PgCursor(rows, cur.lastrowid, cur.rowcount)
        except BaseException:
            if c.in_transaction:
                c.rollback()
            raise

    # ------------------------------------------------------------ catalog
    def _primary_key(self, table: str) -> tuple[str, ...]:
        if table not in self._keys:
            rows = self.pg.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(%s) AND i.indisprimary "
                "ORDER BY array_position(i.indkey::int2[], a.attnum)", (table,)).fetchall()
            self._keys[table] = tuple(r[0] for r in rows)
        return self._keys[table]

    def _identity_tables(self) -> set[str]:
        if self._identity is None:
            self._identity = {r[0] for r in self.pg.execute(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND column_name = 'id' AND is_identity = 'YES'").fetchall()}
        return self._identity

    def _conflict(self, upsert) -> str:
        kind, table, cols = upsert
        if kind == "IGNORE":
            return " ON CONFLICT DO NOTHING"
        key = self._primary_key(table)
        if not key:
            raise sqlite3.OperationalError(f"INSERT OR REPLACE INTO {table}: the table has no primary key")
        rest = [c for c in cols if c not in key]
        if not rest:
            return f" ON CONFLICT ({', '.join(key)}) DO NOTHING"
        return f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in rest)

    # ------------------------------------------------------------ statements
    def _prepare(self, sql: str, many: bool) -> tuple[str, bool]:
        """(PostgreSQL SQL, returns id)."""
        s, upsert = translate(sql)
        if upsert:
            s += self._conflict(upsert)
        wants_id = False
        if not many:
            m = _INSERT.match(s)
            if m and " RETURNING " not in s.upper() and m.group(1) in self._identity_tables():
                s += " RETURNING id"
                wants_id = True
        return s, wants_id

    def execute(self, sql: str, params: Sequence[Any] | None = ()) -> PgCursor:
        head = sql.lstrip()[:40].upper()
        if head.startswith("PRAGMA"):
            if "INTEGRITY_CHECK" in head or "QUICK_CHECK" in head:
                return PgCursor([("ok",)])
            return PgCursor([])
        if _LOCAL.search(sql):
            return self._local_run(sql, params, many=False)
        m = _BEGIN.match(sql)
        if m:         # BEGIN IMMEDIATE / EXCLUSIVE takes SQLite's write lock: here, the writers' advisory lock
            with self._lock:
                self.pg.execute("BEGIN")
                if (m.group(2) or "").upper() in ("IMMEDIATE", "EXCLUSIVE") and not self.readonly:
                    self.xact_lock(NS_WRITE)
            return PgCursor([])
        with self._lock:
            s, wants_id = self._prepare(sql, many=False)
            try:
                cur = self.pg.execute(s, tuple(params or ()))
                rows = cur.fetchall() if cur.description else []
            except Exception as e:
                import psycopg
                if isinstance(e, psycopg.Error):
                    raise _sqlite_error(e) from e
                raise
            if _DDL.match(s):
                self._identity = None
                self._keys.clear()
            if wants_id:
                return PgCursor([], rows[0][0] if rows else None, cur.rowcount)
            return PgCursor(rows, None, cur.rowcount)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> PgCursor:
        if _LOCAL.search(sql):
            return self._local_run(sql, list(seq), many=True)
        seq = [tuple(p) for p in seq]
        if not seq:
            return PgCursor([], None, 0)
        with self._lock:
            s, _ = self._prepare(sql, many=True)
            try:
                with self.pg.cursor() as cur:
                    cur.executemany(s, seq)
                    return PgCursor([], None, cur.rowcount)
            except Exception as e:
                import psycopg
                if isinstance(e, psycopg.Error):
                    raise _sqlite_error(e) from e
                raise

    # ------------------------------------------------------------ transactions
    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus
        return self.pg.info.transaction_status != TransactionStatus.IDLE

    def commit(self) -> None:
        if self.in_transaction:
            self.pg.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.pg.execute("ROLLBACK")

    def __enter__(self) -> "PgConnection":
        """``with conn:`` is one transaction (committed, or rolled back on an exception)."""
        self._lock.acquire()
        self._outer = getattr(self, "_outer", [])
        own = not self.in_transaction
        if own:
            self.pg.execute("BEGIN")
        self._outer.append(own)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            own = self._outer.pop()
            if own:
                self.pg.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self._lock.release()

    # ------------------------------------------------------------ locks
    def xact_lock(self, ns: int, key: int = 0) -> None:
        """``pg_advisory_xact_lock``: held until this transaction ends."""
        self.execute("SELECT pg_advisory_xact_lock(?, ?)", (ns, key))

    def session_lock(self, ns: int, key: int = 0, *, wait: bool = True, timeout: Optional[float] = None) -> bool:
        """``pg_advisory_lock`` (or the ``try`` form when not ``wait``): held until ``session_unlock``
        or until the connection ends (a killed process loses it with its connection). With ``timeout``
        (seconds) False when it could not be had in that time."""
        if not wait:
            return bool(self.execute("SELECT pg_try_advisory_lock(?, ?)", (ns, key)).fetchone()[0])
        if timeout is None:
            self.execute("SELECT pg_advisory_lock(?, ?)", (ns, key))
            return True
        with self._lock:
            self.execute(f"SET lock_timeout = {max(1, int(timeout * 1000))}")
            try:
                self.execute("SELECT pg_advisory_lock(?, ?)", (ns, key))
                return True
            except sqlite3.OperationalError as e:
                from psycopg import errors as E
                if isinstance(e.__cause__, E.LockNotAvailable):
                    return False
                raise
            finally:
                self.execute("SET lock_timeout = 0")

    def lock_holder(self, ns: int, key: int = 0) -> Optional[str]:
        """The client pid (from ``application_name``) of the session holding this advisory lock."""
        row = self.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = ? AND l.objid::bigint = ? "
            "AND l.objsubid = 2 LIMIT 1", (ns & 0xFFFFFFFF, key & 0xFFFFFFFF)).fetchone()
        if not row:
            return None
        name = row[0] or ""
        return name.rsplit(" ", 1)[-1] if name.startswith("kehoach pid ") else (name or None)

    def session_unlock(self, ns: int, key: int = 0) -> None:
        self.execute("SELECT pg_advisory_unlock(?, ?)", (ns, key))

    # ------------------------------------------------------------ the rest of sqlite3's API the store uses
    def backup(self, target) -> None:
        raise StoreError(f"{redact(self.url)}: a PostgreSQL store is backed up with pg_dump "
                         f"(pg_dump -Fc -f kehoach.dump '{redact(self.url)}'), not 'kehoach backup'")

    def close(self) -> None:
        try:
            self.pg.close()
        finally:
            if self._local is not None:
                self._local.close()
                self._local = None
