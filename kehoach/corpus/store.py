"""The corpus store: one SQLite database (WAL) in the corpus home.

``Corpus.add(paths)`` runs ingest -> extract -> store for each file:

- the content hash decides: a file whose path is stored with the same SHA-256 is
  skipped without ingesting it; the same content already stored under another path
  is skipped too ("same content as <path>");
- a changed file replaces its old records in one transaction and **keeps its plan id**
  (its tasks are rewritten; ``on_change`` hooks get the id in both ``removed`` and ``added``);
- each file is one transaction: a failure, a crash or Ctrl-C mid-way leaves the corpus as it
  was before that file; a file that fails is reported and the others go on;
- writers serialize on an ``fcntl`` lock file in the home (a second process waits with a
  message, then fails clearly after ``lock_timeout`` seconds) plus the SQLite busy timeout;
  readers never wait (WAL). Ingest and extraction run outside the lock, so two ``add``
  processes extract in parallel and only their writes take turns;
- two ``add`` processes share the work: before extracting a file, a process claims its content
  hash (an ``fcntl`` byte-range lock in ``home/kehoach.claims``, released by the kernel if the
  process dies) and looks in the database again; a file another process is extracting is put off
  to the end of the batch and then found stored ("unchanged"), never extracted twice;
- the index hooks (``on_change``: links, embeddings) of concurrent processes take turns on
  ``home/kehoach.index.lock``, so the second one reuses what the first embedded. The plans a hook
  has not yet seen are kept in ``meta`` (``index_pending``) in the same transaction that stores
  them: an ``add`` killed before its hooks finished is caught up by the next ``add`` with hooks.

Test hook: ``KEHOACH_TEST_CRASH_AT=point[:n]`` makes the process ``os._exit(137)`` the n-th time
(default first) it reaches ``point``: after_extract, mid_transaction (plan rows written, not
committed), before_index, after_index (hooks done, pending not cleared). ``tests/test_kill.py``
uses it; unset, it costs one dictionary lookup per point.

Schema (module "store", versioned in ``schema_versions``): plans, tasks, refs, bodies,
body_aliases, task_bodies, meta (the change ``generation``).

PostgreSQL (``Corpus(home, store="postgresql://...")`` or ``$KEHOACH_STORE``; ``kehoach/corpus/backend.py``
holds the dialect): the same schema and migrations; the home is then only the local folder of derived
files (search index, caches). The locks come from the database instead of files: each write
transaction takes its turn on ``pg_advisory_xact_lock`` (the generation bump and the path/content
checks stay atomic across machines), a content hash being extracted is a session advisory lock (dropped
by the server when the process dies), and the index hooks take turns on another session advisory lock.
"""
from __future__ import annotations

import errno
import fcntl
import glob
import hashlib
import json
import os
import sqlite3
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

from kehoach.corpus import backend as PG
from kehoach.corpus import bodies as B
from kehoach.corpus.home import DB_NAME, LOCK_NAME

CLAIMS_NAME = "kehoach.claims"           # byte-range locks: one byte per content hash (mod CLAIM_SLOTS)
INDEX_LOCK_NAME = "kehoach.index.lock"   # the index hooks of concurrent processes take turns
CLAIM_SLOTS = 1 << 30
_CRASH_COUNTS: dict[str, int] = {}


def crash_point(name: str) -> None:
    """``os._exit(137)`` here when ``KEHOACH_TEST_CRASH_AT`` names this point (``name`` or
    ``name:n`` for its n-th passage): a crash at a chosen instant, for the kill tests."""
    want = os.environ.get("KEHOACH_TEST_CRASH_AT")
    if not want:
        return
    point, _, nth = want.partition(":")
    if point != name:
        return
    _CRASH_COUNTS[name] = _CRASH_COUNTS.get(name, 0) + 1
    if _CRASH_COUNTS[name] >= int(nth or 1):
        os._exit(137)
from kehoach.corpus.progress import Progress
from kehoach.errors import KehoachError, NotAPlanError, printable
from kehoach.ingest import SUFFIXES
from kehoach.models import Extraction, IngestedDocument


class CorpusError(KehoachError):
    """The corpus database cannot be used as asked."""


class CorpusLockedError(CorpusError):
    """Another process holds the corpus write lock for too long."""


class AmbiguousPlanError(CorpusError):
    """A plan reference matches several plans."""


# file types ``add`` picks up when walking a folder (explicit files of any type are tried)
FOLDER_SUFFIXES = SUFFIXES   # every format ingest reads (kehoach.ingest.READERS)

STORE_MIGRATIONS: list[str] = [
    # v1
    """
    CREATE TABLE plans (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,              -- the path as given to ``add``
        path TEXT NOT NULL UNIQUE,         -- resolved absolute path: one plan per path
        sha256 TEXT NOT NULL,
        format TEXT,
        size INTEGER,
        number TEXT, type TEXT, issuer TEXT, place TEXT, date TEXT, title TEXT,
        signer_name TEXT, signer_title TEXT,
        province TEXT,                     -- from the issuer (bodies.plan_scope)
        territory TEXT,                    -- "thành phố Trà Vinh" when the issuer is below the province
        unit TEXT,                         -- the issuing unit sub-units of which a plan may name
        task_count INTEGER NOT NULL DEFAULT 0,
        ref_count INTEGER NOT NULL DEFAULT 0,
        extraction TEXT NOT NULL,          -- SPEC JSON
        text TEXT NOT NULL,                -- the normalized text (spans index into it)
        warnings TEXT NOT NULL DEFAULT '[]',
        added_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX plans_sha256 ON plans(sha256);
    CREATE INDEX plans_number ON plans(number);
    CREATE TABLE tasks (
        plan_id INTEGER NOT NULL,
        task_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL, section TEXT, text TEXT NOT NULL,
        lead TEXT NOT NULL, support TEXT NOT NULL,          -- JSON lists of names as written
        deadline TEXT, deadline_date TEXT, recurrence TEXT,
        targets TEXT NOT NULL, legal_refs TEXT NOT NULL, span TEXT,
        PRIMARY KEY (plan_id, task_id)
    );
    CREATE TABLE refs (
        plan_id INTEGER NOT NULL,
        ref_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        text TEXT, type TEXT, number TEXT, symbol TEXT, date TEXT, issuer TEXT,
        status_in_text TEXT, span TEXT, data TEXT NOT NULL,
        PRIMARY KEY (plan_id, ref_id)
    );
    CREATE INDEX refs_symbol ON refs(symbol);
    CREATE TABLE bodies (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,          -- bodies.canonical_key
        canonical TEXT NOT NULL,
        kind TEXT NOT NULL,
        province TEXT,
        locality TEXT,
        plan_id INTEGER                    -- generic owners: the plan they belong to
    );
    CREATE INDEX bodies_plan ON bodies(plan_id);
    CREATE TABLE body_aliases (
        body_id INTEGER NOT NULL,
        alias TEXT NOT NULL,               -- a name as written in some plan
        PRIMARY KEY (body_id, alias)
    );
    CREATE TABLE task_bodies (
        plan_id INTEGER NOT NULL,
        task_id TEXT NOT NULL,
        body_id INTEGER NOT NULL,
        role TEXT NOT NULL,                -- "lead" | "support"
        pos INTEGER NOT NULL,
        PRIMARY KEY (plan_id, task_id, role, pos)
    );
    CREATE INDEX task_bodies_body ON task_bodies(body_id);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    INSERT INTO meta(key, value) VALUES ('generation', '0');
    """,
    # v2: a checksum of what is stored for a plan (its normalized text and extraction), so that
    # ``kehoach check`` finds rows edited in place
    """
    ALTER TABLE plans ADD COLUMN record_sha256 TEXT;
    """,
]


def record_checksum(text: str, extraction_json: str) -> str:
    """SHA-256 over a plan's stored normalized text and extraction JSON."""
    h = hashlib.sha256(text.encode("utf-8"))
    h.update(b"\x00")
    h.update(extraction_json.encode("utf-8"))
    return h.hexdigest()

_PLAN_COLS = "id, source, path, sha256, number, type, issuer, date, title, province, task_count, added_at, " \
             "place, territory, ref_count, format, updated_at"


# --------------------------------------------------------------------------- records

@dataclass
class PlanInfo:
    id: int
    source: str
    path: str
    sha256: str
    number: Optional[str]
    type: Optional[str]
    issuer: Optional[str]
    date: Optional[str]
    title: Optional[str]
    province: Optional[str]
    task_count: int
    added_at: str
    place: Optional[str] = None
    territory: Optional[str] = None
    ref_count: int = 0
    format: Optional[str] = None
    updated_at: Optional[str] = None

    @property
    def stem(self) -> str:
        return Path(self.path).stem

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TaskRecord:
    key: str                      # f"{plan_id}:{task_id}", stable while the plan is unchanged
    plan_id: int
    task_id: str
    kind: str
    section: str
    text: str
    lead: list[str]
    support: list[str]
    deadline: Optional[dict]
    targets: list[dict]
    legal_refs: list[str]
    span: Optional[dict]
    plan: PlanInfo
    lead_bodies: list[int] = field(default_factory=list)
    support_bodies: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "plan"}
        d["plan"] = {"id": self.plan.id, "number": self.plan.number, "source": self.plan.source}
        return d


@dataclass
class AddReport:
    added: list[tuple[str, int]] = field(default_factory=list)       # (path, plan id)
    replaced: list[tuple[str, int]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, path of the same content)
    failed: list[tuple[str, str]] = field(default_factory=list)      # (path, reason)
    not_plans: list[tuple[str, str]] = field(default_factory=list)   # (path, reason): read, but no plan in it
    hook_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    extracted: int = 0          # files this process ingested and extracted (the others were skipped)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.hook_errors

    def record(self, given: str, kind: str, plan_id: Optional[int], other: Optional[str],
               added_ids: list[int], removed_ids: list[int]) -> Optional[str]:
        """Note one stored file's outcome ("added"|"replaced"|"unchanged"|"duplicate") here and in the
        plan ids the index hooks get; returns the line to show the user, if any."""
        if kind == "added":
            self.added.append((given, plan_id))
            added_ids.append(plan_id)
        elif kind == "replaced":
            self.replaced.append((given, plan_id))
            added_ids.append(plan_id)
            removed_ids.append(plan_id)
        elif kind == "unchanged":
            self.unchanged.append(given)
        elif kind == "duplicate":
            self.duplicates.append((given, other))
            if plan_id is not None:          # the path's old content was removed
                removed_ids.append(plan_id)
            return f"{printable(given)}: skipped, same content as {printable(other)}"
        return None

    @property
    def exit_code(self) -> int:
        """0 all stored; 1 a file could not be read or stored; 3 only files that are not plans were left out."""
        if not self.ok:
            return 1
        return EXIT_NOT_A_PLAN if self.not_plans else 0

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.replaced)} replaced", f"{len(self.unchanged)} unchanged"]
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} duplicate")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.not_plans:
            parts.append(f"{len(self.not_plans)} not a plan")
        return ", ".join(parts) + f" in {self.seconds:.1f} s"

    def to_dict(self) -> dict:
        return {"added": [{"path": p, "plan": i} for p, i in self.added],
                "replaced": [{"path": p, "plan": i} for p, i in self.replaced],
                "unchanged": list(self.unchanged),
                "duplicates": [{"path": p, "same_as": o} for p, o in self.duplicates],
                "failed": [{"path": p, "reason": r} for p, r in self.failed],
                "not_plans": [{"path": p, "reason": r} for p, r in self.not_plans],
                "hook_errors": list(self.hook_errors), "extracted": self.extracted,
                "seconds": round(self.seconds, 3)}


# --------------------------------------------------------------------------- helpers

def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _split_sql(script: str) -> list[str]:
    """Statements of a migration script (``;`` inside a trigger body is kept)."""
    out, buf = [], ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                out.append(buf.strip())
            buf = ""
    if buf.strip(" \n\t;"):
        out.append(buf.strip())
    return out


def _j(x) -> str:
    return json.dumps(x, ensure_ascii=False, separators=(",", ":"))


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_SQLITE_MAGIC = b"SQLite format 3\x00"
_RECOVER = "restore a backup, or move the file away and add the plans again"


def _check_file(db: Path) -> None:
    """Refuse an existing database file that cannot be a corpus: empty, or not SQLite."""
    try:
        size = db.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        raise CorpusError(f"{db}: empty file where the corpus database should be; {_RECOVER}")
    with open(db, "rb") as f:
        head = f.read(len(_SQLITE_MAGIC))
    if head != _SQLITE_MAGIC:
        raise CorpusError(f"{db}: not a usable corpus database (not SQLite: bad header); {_RECOVER}")


def discover(paths: Sequence[str]) -> tuple[list[tuple[str, Path]], list[tuple[str, str]]]:
    """Files to add from files, folders (recursive, the FOLDER_SUFFIXES, hidden entries skipped) and
    globs. Returns ((as given, resolved path) in order without repeats, (arg, reason) failures)."""
    found: list[tuple[str, Path]] = []
    bad: list[tuple[str, str]] = []
    seen: set[Path] = set()

    def take(given: str, p: Path) -> None:
        try:
            rp = p.resolve(strict=True)
        except RuntimeError:            # Python < 3.13 raises this for a symlink loop
            bad.append((given, "symbolic link loop"))
            return
        except OSError as e:
            bad.append((given, _link_reason(p, e)))
            return
        if rp not in seen:
            seen.add(rp)
            found.append((given, rp))

    def walk(given: str, d: Path) -> None:
        before = len(found) + len(bad)
        _walk(given, d)
        if len(found) + len(bad) == before:
            bad.append((given, f"folder holds no file to add (none of {', '.join(FOLDER_SUFFIXES)})"))

    def _walk(given: str, d: Path) -> None:
        for root, dirs, files in os.walk(d):
            dirs[:] = sorted(x for x in dirs if not x.startswith("."))
            for f in sorted(files):
                if f.startswith(".") or not f.lower().endswith(FOLDER_SUFFIXES):
                    continue
                fp = Path(root) / f
                take(str(Path(given) / fp.relative_to(d)), fp)

    for arg in paths:
        p = Path(arg).expanduser()
        if p.is_dir():
            walk(arg, p)
        elif p.exists():
            take(arg, p)
        elif glob.has_magic(arg):
            hits = sorted(glob.glob(os.path.expanduser(arg), recursive=True))
            if not hits:
                bad.append((arg, "no file matches"))
            for h in hits:
                hp = Path(h)
                if hp.is_dir():
                    walk(h, hp)
                elif hp.is_file():
                    take(h, hp)
        elif p.is_symlink():
            bad.append((arg, _link_reason(p, None)))
        else:
            bad.append((arg, "no such file"))
    return found, bad


def _not_a_file(p: Path) -> str:
    """Why an existing name is no file to read: a folder, a FIFO, a device, a socket."""
    import stat
    try:
        mode = os.stat(p).st_mode
    except OSError as e:
        return e.strerror.lower() if e.strerror else "cannot be read"
    for test, what in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return f"not a regular file ({what})"
    return "not a regular file"


def _link_reason(p: Path, err: Optional[OSError]) -> str:
    """Why a path that exists as a name cannot be read: a symlink loop or a dangling link."""
    if err is not None and err.errno == errno.ELOOP:
        return "symbolic link loop"
    if p.is_symlink():
        try:
            os.stat(p)
        except OSError as e:
            return "symbolic link loop" if e.errno == errno.ELOOP else f"broken symbolic link (to {os.readlink(p)})"
    return err.strerror.lower() if err is not None and err.strerror else "cannot be read"


Extractor = Callable[[IngestedDocument], Extraction]


def default_extractor() -> Extractor:
    try:
        from kehoach.extract import extract
    except ImportError as e:  # the extraction stage is not installed/built
        raise CorpusError(f"extraction stage unavailable ({e})") from None
    return extract


EXIT_NOT_A_PLAN = 3


def not_a_plan(ext: Extraction) -> Optional[str]:
    """Why an extraction reads as no administrative document, or None. Nghị định 30/2020/NĐ-CP gives
    every document a tên loại, a số/ký hiệu and a date line; a text with none of them, no task and no
    citation of another document is not a plan (lorem ipsum, a random file, mis-decoded bytes)."""
    d = ext.document
    if d.type or d.number or d.date or ext.tasks or ext.legal_refs:
        return None
    return "no document type, number or date line, no task and no cited document"


def ingest_and_extract(path: Path, source: str, extract: Optional[Extractor] = None
                       ) -> tuple[IngestedDocument, Extraction]:
    """The pipeline up to the corpus: ``kehoach.ingest.read`` then the extractor
    (default ``kehoach.extract.extract``)."""
    from kehoach.ingest import read
    doc = read(path, source=source)
    return doc, (extract or default_extractor())(doc)


# --------------------------------------------------------------------------- the corpus

def corpus_exists(home: Path | str, store: Optional[str] = None) -> bool:
    """Whether there is a corpus to open read-only: the home's SQLite file, or (PostgreSQL) a store URL
    is set; whether its schema is there is then the store's to say (``Corpus(..., readonly=True)``)."""
    return bool(PG.store_url(store)) or (Path(home) / DB_NAME).exists()


ChangeHook = Callable[["Corpus", list, list], None]


# tables of derived data that other modules keep in the corpus file (vectors, words, actions, link
# candidates): recomputable, and most of the file (at 100k tasks the embedding cache alone is 3/4 of
# the 0.9-2 s ``quick_check`` of the whole file)
DERIVED_TABLES = frozenset({"embed_cache", "segment_cache", "action_cache", "link_candidates", "link_searched"})


def _quick_check(conn: sqlite3.Connection) -> list[str]:
    """``PRAGMA quick_check`` of the store's own tables and their indexes (the schema is read first,
    so a damaged schema page fails here too), not of ``DERIVED_TABLES``: opening a corpus costs
    the store, not its caches. ["ok"] when sound, else SQLite's first messages."""
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
             if n not in DERIVED_TABLES and not n.startswith("sqlite_")]
    if sqlite3.sqlite_version_info < (3, 33, 0):     # no per-table check before 3.33: the whole file
        names = []
    for name in names or [None]:
        q = "PRAGMA quick_check(3)" if name is None else f'PRAGMA quick_check("{name}")'
        bad = [r[0] for r in conn.execute(q).fetchall()]
        if bad != ["ok"]:
            return bad
    return ["ok"]


class Corpus:
    """The corpus in ``home`` (``home/kehoach.sqlite3``), or in the PostgreSQL database ``store``
    (default ``$KEHOACH_STORE``; ``home`` then keeps only the local derived files)."""

    def __init__(self, home: Path | str, *, readonly: bool = False, lock_timeout: float = 600.0,
                 busy_timeout: float = 60.0, store: Optional[str] = None):
        self.home = Path(home)
        self.readonly = readonly
        self.lock_timeout = lock_timeout
        self.db_path = self.home / DB_NAME
        self._hooks: list[ChangeHook] = []
        self._stored_hooks: list[Callable[["Corpus", int], None]] = []
        self._extracting_hooks: list[Callable[[], None]] = []
        self._lock_depth = 0
        self._lock_fd: Optional[int] = None
        self._claims_fd: Optional[int] = None
        self.store_url = PG.store_url(store)
        self.backend = "postgresql" if self.store_url else "sqlite"
        if self.store_url:
            self._open_postgres(self.store_url)
            return
        if readonly:
            _check_file(self.db_path)
            if not self.db_path.exists():
                raise CorpusError(f"{self.home}: no corpus here yet (run 'kehoach add' first)")
            uri = f"file:{self.db_path}?mode=ro"
            self.conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False,
                                        timeout=busy_timeout)
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        else:
            self.home.mkdir(parents=True, exist_ok=True)
            # under the writer lock: another process creating the database holds it from the empty
            # file to its first page, so an empty file seen here is really left empty
            with self._write_lock():
                _check_file(self.db_path)
                try:
                    self.conn = sqlite3.connect(str(self.db_path), isolation_level=None, check_same_thread=False,
                                                timeout=busy_timeout)
                except sqlite3.Error as e:
                    raise CorpusError(f"{self.db_path}: cannot open the corpus database ({e})") from None
                try:
                    self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
                    if self.conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                        self.conn.execute("PRAGMA journal_mode = WAL")
                except sqlite3.DatabaseError as e:
                    self.conn.close()
                    raise CorpusError(f"{self.db_path}: damaged corpus database ({e}); {_RECOVER}") from None
        try:
            self.conn.execute("PRAGMA synchronous = NORMAL")
            bad = _quick_check(self.conn)
            if bad != ["ok"]:
                raise sqlite3.DatabaseError(" ".join(" ".join(bad).replace("*** in database main ***", "").split()))
            self.ensure_schema("store", STORE_MIGRATIONS)
        except sqlite3.DatabaseError as e:
            self.conn.close()
            raise CorpusError(f"{self.db_path}: damaged corpus database ({e}); {_RECOVER}") from None

    def _open_postgres(self, url: str) -> None:
        """Connect to the PostgreSQL store and bring its schema up to date (or, read-only, check it)."""
        self.db_path = PG.redact(url)
        if not self.readonly:
            self.home.mkdir(parents=True, exist_ok=True)
        self.conn = PG.PgConnection(url, readonly=self.readonly, local=self.home / PG.LOCAL_DB_NAME)
        try:
            if self.readonly and self.schema_version("store") == 0:
                raise CorpusError(f"{self.db_path}: no corpus here yet (run 'kehoach add' first)")
            self.ensure_schema("store", STORE_MIGRATIONS)
        except BaseException:
            self.conn.close()
            raise

    @property
    def is_postgres(self) -> bool:
        return self.backend == "postgresql"

    @property
    def cache_conn(self) -> sqlite3.Connection:
        """The SQLite connection of the derived caches (segmentations, actions, vectors): the corpus
        database itself, or for a PostgreSQL store the local ``home/cache.sqlite3``."""
        return self.conn.local if self.is_postgres else self.conn

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.conn.close()
        for name in ("_lock_fd", "_claims_fd"):
            fd = getattr(self, name)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)

    def __enter__(self) -> "Corpus":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ locking and schema
    @contextmanager
    def _write_lock(self):
        """Exclusive writer lock (fcntl on ``home/kehoach.lock``), re-entrant in this object."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        if self.is_postgres:
            with self._pg_write_lock():
                yield
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(str(self.home / LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
        fd = self._lock_fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            print(f"kehoach: waiting for another kehoach process (pid {holder}) writing to {self.home} ...",
                  file=sys.stderr, flush=True)
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise CorpusLockedError(
                            f"{self.home}: corpus is locked by another kehoach process (pid {holder}) "
                            f"for more than {self.lock_timeout:.0f} s") from None
                    time.sleep(0.05)
        os.pwrite(fd, str(os.getpid()).ljust(16).encode(), 0)   # who holds it, for the waiting message
        self._lock_depth = 1
        try:
            yield
        finally:
            self._lock_depth = 0
            fcntl.flock(fd, fcntl.LOCK_UN)

    @contextmanager
    def _pg_write_lock(self):
        """PostgreSQL: the writers' advisory lock (``backend.NS_WRITE``) held by this session, with the
        same waiting message and ``lock_timeout`` as the lock file; ``BEGIN IMMEDIATE`` then takes the
        same key at transaction level, which writers outside ``Corpus`` wait for too."""
        conn = self.conn
        # a turn of a few writes is normal with several writers: only a longer wait is worth a message
        if not conn.session_lock(PG.NS_WRITE, timeout=min(2.0, self.lock_timeout)):
            holder = conn.lock_holder(PG.NS_WRITE) or "?"
            print(f"kehoach: waiting for another kehoach process (pid {holder}) writing to {self.db_path} ...",
                  file=sys.stderr, flush=True)
            if not conn.session_lock(PG.NS_WRITE, timeout=self.lock_timeout):
                raise CorpusLockedError(
                    f"{self.db_path}: corpus is locked by another kehoach process (pid {holder}) "
                    f"for more than {self.lock_timeout:.0f} s") from None
        self._lock_depth = 1
        try:
            yield
        finally:
            self._lock_depth = 0
            conn.session_unlock(PG.NS_WRITE)

    @contextmanager
    def _claim(self, sha: str, wait: bool):
        """Claim a content hash for extraction (yields True), or yield False when another process
        holds it and ``wait`` is False. A byte-range lock: the kernel drops it with the process
        (PostgreSQL: a session advisory lock, which the server drops with the connection)."""
        if self.is_postgres:
            key = PG.lock_key(sha)
            if not self.conn.session_lock(PG.NS_CLAIM, key, wait=wait):
                yield False
                return
            try:
                yield True
            finally:
                self.conn.session_unlock(PG.NS_CLAIM, key)
            return
        if self._claims_fd is None:
            self._claims_fd = os.open(str(self.home / CLAIMS_NAME), os.O_RDWR | os.O_CREAT, 0o644)
        fd, slot = self._claims_fd, int(sha[:15], 16) % CLAIM_SLOTS
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB), 1, slot)
        except (BlockingIOError, PermissionError):
            yield False
            return
        try:
            yield True
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, slot)

    @contextmanager
    def _index_lock(self):
        """The index hooks of concurrent processes take turns (blocking; the kernel drops it with
        the process; PostgreSQL: a session advisory lock, dropped with the connection)."""
        if self.is_postgres:
            self.conn.session_lock(PG.NS_INDEX)
            try:
                yield
            finally:
                self.conn.session_unlock(PG.NS_INDEX)
            return
        fd = os.open(str(self.home / INDEX_LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def hooks_running(self) -> bool:
        """Another process's index hooks hold the index lock (``_index_lock``) right now."""
        if self.is_postgres:
            if not self.conn.session_lock(PG.NS_INDEX, wait=False):
                return True
            self.conn.session_unlock(PG.NS_INDEX)
            return False
        try:
            fd = os.open(str(self.home / INDEX_LOCK_NAME), os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        except OSError:
            return True
        finally:
            os.close(fd)

    def hooks_pending(self) -> bool:
        """An ``add`` stored plans whose index hooks have not run yet (``_pending``)."""
        got = self._pending()
        return bool(got["added"] or got["removed"])

    @contextmanager
    def _transaction(self):
        """BEGIN IMMEDIATE ... COMMIT under the writer lock; any exception (Ctrl-C too) rolls back."""
        if self.readonly:
            raise CorpusError(f"{self.home}: corpus opened read-only")
        with self._write_lock():
            self.conn.execute("BEGIN IMMEDIATE")       # PostgreSQL: BEGIN + the writers' advisory lock
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    def _schema_conn(self, module: str):
        """Where ``module``'s tables live: the store, or the local cache file for the derived caches
        of a PostgreSQL store (``backend.LOCAL_MODULES``)."""
        return self.conn.local if self.is_postgres and module in PG.LOCAL_MODULES else self.conn

    def schema_version(self, module: str) -> int:
        try:
            row = self._schema_conn(module).execute("SELECT version FROM schema_versions WHERE module=?", (module,)).fetchone()
        except sqlite3.OperationalError:
            return 0
        return int(row[0]) if row else 0

    def ensure_schema(self, module: str, migrations: list[str]) -> None:
        """Bring ``module``'s tables to ``len(migrations)``: applies ``migrations[version:]`` in one
        transaction and records the version in ``schema_versions``."""
        version = self.schema_version(module)
        if version == len(migrations):
            return
        if version > len(migrations):
            raise CorpusError(f"{self.db_path}: made by a newer kehoach (schema '{module}' v{version} > "
                              f"v{len(migrations)}); upgrade kehoach")
        if self.is_postgres and module in PG.LOCAL_MODULES:     # derived caches stay local
            from kehoach.corpus.embed import _ensure_schema
            _ensure_schema(self.conn.local, module, migrations)
            return
        if self.readonly:
            raise CorpusError(f"{self.db_path}: schema '{module}' needs an upgrade; open it writable once")
        with self._transaction() as c:
            c.execute("CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INT)")
            row = c.execute("SELECT version FROM schema_versions WHERE module=?", (module,)).fetchone()
            version = int(row[0]) if row else 0        # another process may have migrated meanwhile
            for script in migrations[version:]:
                for stmt in _split_sql(script):
                    c.execute(stmt)
            c.execute("INSERT OR REPLACE INTO schema_versions(module, version) VALUES (?, ?)",
                      (module, len(migrations)))

    # ------------------------------------------------------------------ change tracking
    def generation(self) -> int:
        """Increases on every change (add, replace, remove)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def _bump(self, c: sqlite3.Connection) -> None:
        c.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")

    def _pending(self, c: Optional[sqlite3.Connection] = None) -> dict[str, list[int]]:
        """The plan ids written (``added``) or dropped/rewritten (``removed``) that the index hooks
        have not yet been given."""
        row = (c or self.conn).execute("SELECT value FROM meta WHERE key='index_pending'").fetchone()
        try:
            got = json.loads(row[0]) if row else {}
        except ValueError:
            got = {}
        return {"added": [int(x) for x in got.get("added", [])], "removed": [int(x) for x in got.get("removed", [])]}

    def _mark_pending(self, c: sqlite3.Connection, added: Sequence[int] = (), removed: Sequence[int] = ()) -> None:
        """Inside a write transaction: the hooks are owed these ids (only when hooks are attached)."""
        if not self._hooks:
            return
        p = self._pending(c)
        p["added"] = sorted(set(p["added"]) | set(added))
        p["removed"] = sorted(set(p["removed"]) | set(removed))
        c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('index_pending', ?)", (_j(p),))

    def _clear_pending(self, added: Sequence[int], removed: Sequence[int]) -> None:
        with self._transaction() as c:
            p = self._pending(c)
            p["added"] = sorted(set(p["added"]) - set(added))
            p["removed"] = sorted(set(p["removed"]) - set(removed))
            c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('index_pending', ?)", (_j(p),))

    def on_change(self, hook: ChangeHook) -> None:
        """``hook(corpus, added_plan_ids, removed_plan_ids)`` after each ``add``/``remove`` that changed
        something (a replaced plan keeps its id and is in both lists)."""
        if hook not in self._hooks:
            self._hooks.append(hook)

    def on_stored(self, hook: Callable[["Corpus", int], None]) -> None:
        """``hook(corpus, plan_id)`` right after ``add`` committed a new or replaced plan, before the
        next file is read (``kehoach add`` embeds the plan's texts ahead there, on a thread, while
        the next file is extracted); an error in it is ignored (the ``on_change`` hooks do the work)."""
        if hook not in self._stored_hooks:
            self._stored_hooks.append(hook)

    def on_extracting(self, hook: Callable[[], None]) -> None:
        """``hook()`` before ``add`` reads and extracts a file whose content is not stored (once per
        file; ``kehoach add`` starts loading the embedding model there, on a thread); errors ignored."""
        if hook not in self._extracting_hooks:
            self._extracting_hooks.append(hook)

    def _extracting(self) -> None:
        for hook in self._extracting_hooks:
            try:
                hook()
            except KeyboardInterrupt:
                raise
            except Exception:
                pass

    def _stored_plan(self, plan_id: Optional[int]) -> None:
        for hook in self._stored_hooks:
            try:
                hook(self, int(plan_id))
            except KeyboardInterrupt:
                raise
            except Exception:
                pass

    def _fire(self, added: list[int], removed: list[int], report: Optional[AddReport] = None) -> None:
        """Run the hooks for these ids and for those a killed process left pending; the hooks of
        concurrent processes take turns (``_index_lock``)."""
        if not self._hooks:
            return
        with self._index_lock():
            pending = self._pending()
            added = sorted(set(added) | set(pending["added"]))
            removed = sorted(set(removed) | set(pending["removed"]))
            if not added and not removed:
                return
            crash_point("before_index")
            before = len(report.hook_errors) if report is not None else 0
            self._run_hooks(added, removed, report)
            crash_point("after_index")
            if report is None or len(report.hook_errors) == before:
                self._clear_pending(added, removed)

    def _run_hooks(self, added: list[int], removed: list[int], report: Optional[AddReport]) -> None:
        for hook in list(self._hooks):
            try:
                hook(self, list(added), list(removed))
            except KeyboardInterrupt:
                raise
            except Exception as e:
                name = getattr(hook, "__qualname__", repr(hook))
                msg = f"index update {name} failed: {type(e).__name__}: {e}"
                if report is None:
                    raise CorpusError(msg) from e
                report.hook_errors.append(msg)

    # ------------------------------------------------------------------ adding
    def add(self, paths: Sequence[str], *, progress: bool = True, debug: bool = False,
            log: Optional[Callable[[str], None]] = None, extract: Optional[Extractor] = None,
            accept_any: bool = False) -> AddReport:
        """Ingest, extract and store files, folders and globs (see the module doc).

        ``extract`` replaces ``kehoach.extract.extract`` (an ``IngestedDocument -> Extraction``
        callable); ``log`` receives the one-line failure and skip messages. A file with text that
        reads as no administrative document (``not_a_plan``) is not stored unless ``accept_any``."""
        t0 = time.perf_counter()
        report = AddReport()
        files, bad = discover(paths)
        report.failed.extend(bad)
        known = {p: s for p, s in self.conn.execute("SELECT path, sha256 FROM plans")}
        added_ids: list[int] = []
        removed_ids: list[int] = []
        say = log or (lambda line: None)
        for given, why in bad:
            say(f"{printable(given)}: {why}")
        with Progress(len(files), "adding", enabled=None if progress else False) as bar:
            def note(line: str) -> None:
                bar.message(line) if log is None and bar.enabled else say(line)

            def one(given: str, path: Path, wait: bool) -> bool:
                """Add one file; False when another process is extracting it (put off)."""
                bar.update(0, note=printable(given))
                try:
                    outcome = self._add_one(given, path, known, extract, accept_any, wait=wait, report=report)
                except KeyboardInterrupt:
                    raise
                except Exception as e:
                    if debug and not isinstance(e, KehoachError):
                        raise
                    reason = getattr(e, "reason", None) if isinstance(e, KehoachError) else None
                    if reason is None:
                        reason = str(e) if isinstance(e, KehoachError) else f"{type(e).__name__}: {e}"
                        if reason.startswith(given + ": ") or reason.startswith(str(path) + ": "):
                            reason = reason.split(": ", 1)[1]
                    reason = " ".join(reason.split())            # one line, whatever the message held
                    (report.not_plans if isinstance(e, NotAPlanError) else report.failed).append((given, reason))
                    note(f"{printable(given)}: {reason}")
                else:
                    kind, plan_id, other = outcome
                    if kind == "busy":
                        return False
                    line = report.record(given, kind, plan_id, other, added_ids, removed_ids)
                    if line:
                        note(line)
                    if kind in ("added", "replaced") and plan_id is not None and self._stored_hooks:
                        self._stored_plan(plan_id)
                bar.update(1, note=printable(given))
                return True

            try:
                later = [(given, path) for given, path in files if not one(given, path, wait=False)]
                for given, path in later:               # another process had them: wait, then look again
                    one(given, path, wait=True)
            finally:
                report.seconds = time.perf_counter() - t0
                # what was committed is indexed, even when interrupted (and what a killed add left)
                self._fire(added_ids, removed_ids, report)
        report.seconds = time.perf_counter() - t0
        return report

    def _stored(self, spath: str, sha: str) -> Optional[str]:
        """What the database holds now for this path and content: "unchanged", "duplicate" or None."""
        row = self.conn.execute("SELECT sha256 FROM plans WHERE path=?", (spath,)).fetchone()
        if row is not None and row[0] == sha:
            return "unchanged"
        other = self.conn.execute("SELECT 1 FROM plans WHERE sha256=? AND path<>? LIMIT 1", (sha, spath)).fetchone()
        return "duplicate" if other is not None else None

    def _add_one(self, given: str, path: Path, known: dict[str, str], extract: Optional[Extractor] = None,
                 accept_any: bool = False, *, wait: bool = True, report: Optional[AddReport] = None
                 ) -> tuple[str, Optional[int], Optional[str]]:
        """One file -> ("added"|"replaced"|"unchanged"|"duplicate"|"busy", plan id, other path);
        "busy" (only when not ``wait``): another process is extracting the same content."""
        spath = str(path)
        if not path.is_file():
            raise CorpusError(f"{given}: {_not_a_file(path)}")
        sha = _file_sha256(path)
        if known.get(spath) == sha:
            return "unchanged", None, None
        with self._claim(sha, wait) as mine:
            if not mine:
                return "busy", None, None
            state = self._stored(spath, sha)          # fresh: another process may have stored it meanwhile
            if state == "unchanged":
                known[spath] = sha
                return "unchanged", None, None
            if state == "duplicate":
                return self._duplicate(spath, sha, known)
            if self._extracting_hooks:
                self._extracting()
            doc, ext = ingest_and_extract(path, given, extract)
            if report is not None:
                report.extracted += 1
            crash_point("after_extract")
            if not accept_any:
                why = not_a_plan(ext)
                if why:
                    raise NotAPlanError(given, f"not a plan: {why} (add it with --accept-any to store it anyway)")
            kind, plan_id, other_path = self.store(given, path, doc, ext)
        known[spath] = doc.sha256
        return kind, plan_id, other_path

    def _duplicate(self, spath: str, sha: str, known: dict[str, str]) -> tuple[str, Optional[int], Optional[str]]:
        """``spath`` holds content stored under another path: skip it (and drop its stale old plan)."""
        with self._transaction() as c:
            other = c.execute("SELECT path FROM plans WHERE sha256=? AND path<>? LIMIT 1", (sha, spath)).fetchone()
            row = c.execute("SELECT id, sha256 FROM plans WHERE path=?", (spath,)).fetchone()
            if other is None:                # gone meanwhile (another process): treat as new next time
                return "duplicate", None, "(removed meanwhile)"
            if row is not None:
                self._delete_plan_rows(c, row[0], keep_plan_row=False)
                self._bump(c)
                self._mark_pending(c, removed=[row[0]])
                known.pop(spath, None)
        return "duplicate", (row[0] if row else None), other[0]

    def store(self, source: str, path: Path | str, doc: IngestedDocument, ext: Extraction
              ) -> tuple[str, Optional[int], Optional[str]]:
        """Write one extracted document in one transaction (the lower half of ``add``).

        Returns ("added"|"replaced"|"unchanged"|"duplicate", plan id, other path)."""
        spath = str(Path(path).resolve())
        sha = doc.sha256 or ext.sha256
        with self._transaction() as c:
            row = c.execute("SELECT id, sha256 FROM plans WHERE path=?", (spath,)).fetchone()
            if row and row[1] == sha:
                return "unchanged", row[0], None
            other = c.execute("SELECT path FROM plans WHERE sha256=? AND path<>? LIMIT 1", (sha, spath)).fetchone()
            if other is not None:
                if row:                                  # this path now holds another stored file's content
                    self._delete_plan_rows(c, row[0], keep_plan_row=False)
                    self._bump(c)
                    self._mark_pending(c, removed=[row[0]])
                return "duplicate", (row[0] if row else None), other[0]
            plan_id = self._write_plan(c, source, spath, sha, doc, ext, row[0] if row else None)
            self._bump(c)
            self._mark_pending(c, added=[plan_id], removed=[plan_id] if row else [])
            crash_point("mid_transaction")
        return ("replaced" if row else "added"), plan_id, None

    def _write_plan(self, c: sqlite3.Connection, source: str, spath: str, sha: str, doc: IngestedDocument,
                    ext: Extraction, old_id: Optional[int]) -> int:
        d = ext.document
        now = _now()
        header = dict(source=source, path=spath, sha256=sha, format=doc.format,
                      size=len(doc.text), number=d.number, type=d.type, issuer=d.issuer, place=d.place,
                      date=d.date, title=d.title, signer_name=d.signer.name if d.signer else None,
                      signer_title=d.signer.title if d.signer else None,
                      task_count=len(ext.tasks), ref_count=len(ext.legal_refs),
                      extraction=_j(ext.to_dict()), text=doc.text,
                      warnings=_j(list(dict.fromkeys([*doc.warnings, *ext.warnings]))), updated_at=now)
        header["record_sha256"] = record_checksum(header["text"], header["extraction"])
        if old_id is None:
            header["added_at"] = now
            cols = ", ".join(header)
            cur = c.execute(f"INSERT INTO plans({cols}) VALUES ({', '.join('?' * len(header))})",
                            tuple(header.values()))
            plan_id = int(cur.lastrowid)
        else:
            plan_id = old_id
            self._delete_plan_rows(c, plan_id, keep_plan_row=True)
            sets = ", ".join(f"{k}=?" for k in header)
            c.execute(f"UPDATE plans SET {sets} WHERE id=?", (*header.values(), plan_id))
        scope = B.plan_scope(d.issuer, province=getattr(d, "province", None), place=d.place,
                             text=doc.text[:600], plan_id=plan_id)
        c.execute("UPDATE plans SET province=?, territory=?, unit=? WHERE id=?",
                  (scope.province, scope.territory, scope.unit, plan_id))
        self._insert_tasks(c, plan_id, ext)
        self._insert_refs(c, plan_id, ext)
        self._insert_bodies(c, plan_id, ext, scope)
        return plan_id

    def _insert_tasks(self, c: sqlite3.Connection, plan_id: int, ext: Extraction) -> None:
        rows = []
        for i, t in enumerate(ext.tasks):
            td = t.to_dict()
            dl = td["deadline"]
            rows.append((plan_id, t.id, i, t.kind, t.section, t.text, _j(td["lead"]), _j(td["support"]),
                         _j(dl) if dl else None, dl.get("date") if dl else None,
                         dl.get("recurrence") if dl else None, _j(td["targets"]), _j(td["legal_refs"]),
                         _j(td["span"]) if td["span"] else None))
        c.executemany("INSERT INTO tasks(plan_id, task_id, seq, kind, section, text, lead, support, deadline, "
                      "deadline_date, recurrence, targets, legal_refs, span) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      rows)

    def _insert_refs(self, c: sqlite3.Connection, plan_id: int, ext: Extraction) -> None:
        rows = []
        for i, r in enumerate(ext.legal_refs):
            rd = r.to_dict()
            rows.append((plan_id, r.id, i, r.text, r.type, r.number, r.symbol, r.date, r.issuer,
                         r.status_in_text, _j(rd["span"]) if rd["span"] else None, _j(rd)))
        c.executemany("INSERT INTO refs(plan_id, ref_id, seq, text, type, number, symbol, date, issuer, "
                      "status_in_text, span, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def _insert_bodies(self, c: sqlite3.Connection, plan_id: int, ext: Extraction, scope: B.PlanScope) -> None:
        ids: dict[str, int] = {}
        resolved: dict[str, B.BodyRef] = {}
        links = []
        aliases = set()
        for t in ext.tasks:
            for role, names in (("lead", t.lead), ("support", t.support)):
                for pos, name in enumerate(names):
                    if not name or not name.strip():
                        continue
                    ref = resolved.get(name)
                    if ref is None:
                        ref = resolved[name] = B.resolve(name, scope)
                    bid = ids.get(ref.key)
                    if bid is None:
                        c.execute("INSERT INTO bodies(key, canonical, kind, province, locality, plan_id) "
                                  "VALUES (?,?,?,?,?,?) ON CONFLICT(key) DO NOTHING",
                                  (ref.key, ref.canonical, ref.kind, ref.province, ref.locality, ref.plan_id))
                        bid = ids[ref.key] = c.execute("SELECT id FROM bodies WHERE key=?", (ref.key,)).fetchone()[0]
                    aliases.add((bid, ref.surface))
                    links.append((plan_id, t.id, bid, role, pos))
        c.executemany("INSERT OR IGNORE INTO body_aliases(body_id, alias) VALUES (?, ?)", sorted(aliases))
        c.executemany("INSERT OR IGNORE INTO task_bodies(plan_id, task_id, body_id, role, pos) VALUES (?,?,?,?,?)",
                      links)

    def _delete_plan_rows(self, c: sqlite3.Connection, plan_id: int, *, keep_plan_row: bool) -> None:
        c.execute("DELETE FROM task_bodies WHERE plan_id=?", (plan_id,))
        c.execute("DELETE FROM tasks WHERE plan_id=?", (plan_id,))
        c.execute("DELETE FROM refs WHERE plan_id=?", (plan_id,))
        c.execute("DELETE FROM body_aliases WHERE body_id IN (SELECT id FROM bodies WHERE plan_id=?)", (plan_id,))
        c.execute("DELETE FROM bodies WHERE plan_id=?", (plan_id,))
        if not keep_plan_row:
            c.execute("DELETE FROM plans WHERE id=?", (plan_id,))

    def remove(self, ref: str | int) -> PlanInfo:
        """Remove one plan (and its tasks, references, generic bodies)."""
        info = self.plan(ref)
        if info is None:
            raise CorpusError(f"{ref}: no such plan in {self.home}")
        with self._transaction() as c:
            self._delete_plan_rows(c, info.id, keep_plan_row=False)
            self._bump(c)
            self._mark_pending(c, removed=[info.id])
        self._fire([], [info.id])
        return info

    # ------------------------------------------------------------------ reading
    def _plan_rows(self, where: str = "", args: tuple = ()) -> list[PlanInfo]:
        rows = self.conn.execute(f"SELECT {_PLAN_COLS} FROM plans {where} ORDER BY id", args).fetchall()
        return [PlanInfo(*r) for r in rows]

    def plans(self) -> list[PlanInfo]:
        return self._plan_rows()

    def plan(self, ref: str | int) -> Optional[PlanInfo]:
        """A plan by id, number ("116/KH-UBND"), source path, resolved path or file stem.
        Raises ``AmbiguousPlanError`` when a number or stem matches several plans."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
            got = self._plan_rows("WHERE id=?", (int(ref),))
            if got:
                return got[0]
            if isinstance(ref, int):
                return None
        s = str(ref).strip()
        if not s:
            return None
        compact = "".join(s.split())
        for where, args in (("WHERE source=?", (s,)),
                            ("WHERE path=?", (str(Path(s).expanduser().resolve()),)),
                            ("WHERE number=?", (compact,)),
                            ("WHERE upper(replace(number, ' ', ''))=upper(?)", (compact,))):
            got = self._plan_rows(where, args)
            if len(got) == 1:
                return got[0]
            if len(got) > 1:
                raise AmbiguousPlanError(f"{s}: {len(got)} plans match (ids {', '.join(str(p.id) for p in got)}); "
                                         f"use the id")
        stem = Path(s).stem
        got = [p for p in self._plan_rows("WHERE path LIKE ?", (f"%{stem}%",)) if p.stem == stem]
        if len(got) > 1:
            raise AmbiguousPlanError(f"{s}: {len(got)} plans match (ids {', '.join(str(p.id) for p in got)}); use the id")
        return got[0] if got else None

    def extraction(self, plan_id: int) -> Extraction:
        row = self.conn.execute("SELECT extraction, province, warnings FROM plans WHERE id=?", (plan_id,)).fetchone()
        if row is None:
            raise CorpusError(f"plan {plan_id}: no such plan in {self.home}")
        ext = Extraction.from_dict(json.loads(row[0]))
        ext.document.province = row[1]
        ext.warnings = json.loads(row[2] or "[]")
        return ext

    def text(self, plan_id: int) -> str:
        row = self.conn.execute("SELECT text FROM plans WHERE id=?", (plan_id,)).fetchone()
        if row is None:
            raise CorpusError(f"plan {plan_id}: no such plan in {self.home}")
        return row[0]

    def refs(self, plan_id: int) -> list[dict]:
        """The plan's legal references (SPEC LEGAL_REF dicts) in text order."""
        return [json.loads(r[0]) for r in
                self.conn.execute("SELECT data FROM refs WHERE plan_id=? ORDER BY seq", (plan_id,))]

    def tasks(self, plan_ids: Optional[Sequence[int]] = None) -> Iterator[TaskRecord]:
        """Tasks of the given plans (all plans when None), in plan then text order."""
        plans = {p.id: p for p in self.plans()} if plan_ids is None else \
            {p.id: p for pid in dict.fromkeys(plan_ids) for p in self._plan_rows("WHERE id=?", (int(pid),))}
        ids = sorted(plans)
        for i in range(0, len(ids), 200):
            chunk = ids[i:i + 200]
            q = ",".join("?" * len(chunk))
            owners: dict[tuple[int, str], tuple[list[int], list[int]]] = {}
            for pid, tid, bid, role in self.conn.execute(
                    f"SELECT plan_id, task_id, body_id, role FROM task_bodies WHERE plan_id IN ({q}) "
                    f"ORDER BY plan_id, task_id, role, pos", chunk):
                lead, sup = owners.setdefault((pid, tid), ([], []))
                (lead if role == "lead" else sup).append(bid)
            for r in self.conn.execute(
                    f"SELECT plan_id, task_id, kind, section, text, lead, support, deadline, targets, legal_refs, span "
                    f"FROM tasks WHERE plan_id IN ({q}) ORDER BY plan_id, seq", chunk):
                pid, tid = r[0], r[1]
                lead_b, sup_b = owners.get((pid, tid), ([], []))
                yield TaskRecord(key=f"{pid}:{tid}", plan_id=pid, task_id=tid, kind=r[2], section=r[3] or "",
                                 text=r[4], lead=json.loads(r[5]), support=json.loads(r[6]),
                                 deadline=json.loads(r[7]) if r[7] else None, targets=json.loads(r[8]),
                                 legal_refs=json.loads(r[9]), span=json.loads(r[10]) if r[10] else None,
                                 plan=plans[pid], lead_bodies=list(lead_b), support_bodies=list(sup_b))

    def task(self, key: str) -> Optional[TaskRecord]:
        """One task by its key "plan_id:task_id"."""
        pid, _, tid = key.partition(":")
        if not pid.isdigit():
            return None
        for t in self.tasks([int(pid)]):
            if t.task_id == tid:
                return t
        return None

    # ------------------------------------------------------------------ bodies
    def _bodies(self, where: str = "", args: tuple = ()) -> list[B.Body]:
        rows = self.conn.execute(
            f"SELECT b.id, b.key, b.canonical, b.kind, b.province, b.locality, b.plan_id, "
            f"(SELECT COUNT(DISTINCT plan_id || ':' || task_id) FROM task_bodies tb WHERE tb.body_id=b.id) "
            f"FROM bodies b {where} ORDER BY b.id", args).fetchall()
        out = [B.Body(id=r[0], key=r[1], canonical=r[2], kind=r[3], province=r[4], locality=r[5], plan_id=r[6],
                      task_count=r[7]) for r in rows]
        if out:
            by_id = {b.id: b for b in out}
            q = "" if not where else f" WHERE body_id IN ({','.join(str(i) for i in by_id)})"
            for bid, alias in self.conn.execute(f"SELECT body_id, alias FROM body_aliases{q} ORDER BY body_id, alias"):
                if bid in by_id:
                    by_id[bid].aliases.append(alias)
        return out

    def bodies(self, *, kind: Optional[str] = None, province: Optional[str] = None,
               include_unused: bool = False) -> list[B.Body]:
        """The registry of canonical bodies (by default only those some stored task names)."""
        conds, args = [], []
        if kind:
            conds.append("b.kind=?")
            args.append(kind)
        if province:
            conds.append("lower(b.province)=lower(?)")
            args.append(province)
        if not include_unused:
            conds.append("EXISTS (SELECT 1 FROM task_bodies tb WHERE tb.body_id=b.id)")
        where = ("WHERE " + " AND ".join(conds)) if conds else ""
        return self._bodies(where, tuple(args))

    def body(self, body_id: int) -> Optional[B.Body]:
        got = self._bodies("WHERE b.id=?", (int(body_id),))
        return got[0] if got else None

    def body_tasks(self, body_id: int, role: Optional[str] = None) -> list[tuple[str, str]]:
        """(task key, role) of every task the body owns."""
        sql = "SELECT plan_id, task_id, role FROM task_bodies WHERE body_id=?"
        args: tuple = (int(body_id),)
        if role:
            sql += " AND role=?"
            args += (role,)
        return [(f"{p}:{t}", r) for p, t, r in self.conn.execute(sql + " ORDER BY plan_id, task_id", args)]

    def verify(self) -> list[tuple[int, str, str]]:
        """(plan id, source, problem) for every stored plan that does not check out: its stored text or
        records edited since they were written, or its source file changed or gone. Empty when all is well."""
        problems: list[tuple[int, str, str]] = []
        ok = self.conn.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            problems.append((0, str(self.db_path), f"database integrity check: {ok}"))
        for pid, source, path, sha, text, ext, rsha in self.conn.execute(
                "SELECT id, source, path, sha256, text, extraction, record_sha256 FROM plans ORDER BY id"):
            if rsha is None:
                problems.append((pid, source, "no record checksum (stored by an older version: add it again)"))
            elif record_checksum(text, ext) != rsha:
                problems.append((pid, source, "stored text or records were edited after they were written"))
            try:
                now = _file_sha256(Path(path))
            except FileNotFoundError:
                problems.append((pid, source, f"source file is gone ({path})"))
                continue
            except OSError as e:
                problems.append((pid, source, f"source file cannot be read ({e.strerror})"))
                continue
            if now != sha:
                problems.append((pid, source, "source file changed since it was added (add it again to update)"))
        return problems

    def backup(self, dest: Path | str) -> Path:
        """An online, consistent copy of the database (SQLite's backup API) at ``dest`` (a file or a folder)."""
        if self.is_postgres:
            self.conn.backup(None)           # raises: pg_dump is the tool for a PostgreSQL store
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / f"kehoach-{time.strftime('%Y%m%d-%H%M%S')}.sqlite3"
        if dest.exists():
            raise CorpusError(f"{dest}: exists already; choose a new name")
        target = sqlite3.connect(str(dest))
        try:
            self.conn.backup(target)
        finally:
            target.close()
        return dest

    def integrity(self) -> dict:
        """Counts and SQLite's integrity check (used by tests; ``kehoach check`` runs ``verify``)."""
        c = self.conn
        return {"integrity": c.execute("PRAGMA integrity_check").fetchone()[0],
                "plans": c.execute("SELECT COUNT(*) FROM plans").fetchone()[0],
                "tasks": c.execute("SELECT COUNT(*) FROM tasks").fetchone()[0],
                "task_count_sum": c.execute("SELECT COALESCE(SUM(task_count), 0) FROM plans").fetchone()[0],
                "orphan_tasks": c.execute("SELECT COUNT(*) FROM tasks WHERE plan_id NOT IN (SELECT id FROM plans)"
                                          ).fetchone()[0],
                "orphan_links": c.execute("SELECT COUNT(*) FROM task_bodies tb WHERE NOT EXISTS (SELECT 1 FROM "
                                          "tasks t WHERE t.plan_id=tb.plan_id AND t.task_id=tb.task_id)"
                                          ).fetchone()[0],
                "duplicate_sha": c.execute("SELECT COUNT(*) FROM (SELECT sha256 FROM plans GROUP BY sha256 "
                                           "HAVING COUNT(*) > 1) AS d").fetchone()[0]}
