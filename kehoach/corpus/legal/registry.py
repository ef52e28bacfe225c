"""The registry of legal documents: who they are, what happened to them, and on what evidence.

- ``LegalDoc``: one document, keyed by its normalized symbol and told apart from a
  document with the same symbol by its issuer's province and its date (after the 2025
  mergers An Giang holds two "09/2024/NQ-HĐND": An Giang's and the former Kiên Giang's).
- ``StatusFact``: a status a source gives the document (in_force, expired, ...), with the
  day it holds from (``since``) and/or the day the source saw it (``observed``).
- ``Relation``: subject replaces / amends / abolishes / guided_by object, each with its source.
  Inverse kinds (replaced_by, amended_by, abolished_by, guides) are turned around on entry.

``Registry`` is in memory (dicts, fast lookups for the check); ``load(conn)`` and
``save(conn)`` persist it in the corpus database (module "legal", versioned migrations).
Evidence keeps its origin: ``kind`` "registry" (an imported table) or "corpus" (a plan's text).
"""
from __future__ import annotations

import datetime as _dt
import sqlite3
from dataclasses import dataclass, field, fields, replace
from typing import Callable, Optional

from kehoach.corpus.legal.symbols import (clean_symbol, date_prefix_agrees, doc_type, place_key, province_in,
                                          symbol_key, to_date)

STATUSES = ("in_force", "partly_expired", "expired", "replaced", "abolished", "amended",
            "not_yet_in_force", "period_ended", "unknown")
TERMINAL = ("replaced", "abolished", "expired")           # in this order of precedence
RELATION_KINDS = ("replaces", "amends", "abolishes", "guided_by")
INVERSE = {"replaced_by": "replaces", "amended_by": "amends", "abolished_by": "abolishes", "guides": "guided_by"}
# the status a relation gives its object from the relation's date
RELATION_STATUS = {"replaces": "replaced", "abolishes": "abolished", "amends": "amended"}


_DOC_COLUMNS = ("id", "symbol", "type", "issuer", "province", "date_issued", "date_effective", "date_expiry",
                "title", "source")


@dataclass
class DocSpec:
    """A document as a source names it: its identity and dates."""
    symbol: str
    type: Optional[str] = None
    issuer: Optional[str] = None
    province: Optional[str] = None
    date_issued: Optional[str] = None
    date_effective: Optional[str] = None
    date_expiry: Optional[str] = None
    title: Optional[str] = None


@dataclass
class LegalDoc(DocSpec):
    """A document of the registry."""
    id: int = 0
    source: str = ""                 # where the document was first seen (file:line or plan span)

    @property
    def key(self) -> str:
        return symbol_key(self.symbol)

    def label(self) -> str:
        parts = [self.symbol]
        if self.date_issued:
            parts.append(f"ngày {self.date_issued}")
        if self.issuer:
            parts.append(f"của {self.issuer}")
        elif self.province:
            parts.append(f"({self.province})")
        return " ".join(parts)


@dataclass(frozen=True)
class StatusFact:
    doc_id: int
    status: str
    since: Optional[str] = None      # the day the status holds from, when known
    observed: Optional[str] = None   # the day the source saw it, when known
    source: str = ""                 # file:line, or plan source@start-end
    text: str = ""                   # the words that say it
    kind: str = "registry"           # "registry" | "corpus"


@dataclass(frozen=True)
class Relation:
    subject_id: int
    kind: str                        # replaces | amends | abolishes | guided_by
    object_id: int
    date: Optional[str] = None       # the day it takes effect (the subject's effective or issue date)
    source: str = ""
    text: str = ""
    kind_of_evidence: str = "registry"


@dataclass
class Change:
    """What one import or derivation did to the registry."""
    docs_added: int = 0
    docs_updated: int = 0
    facts_added: int = 0
    relations_added: int = 0

    def __bool__(self) -> bool:
        return bool(self.docs_added or self.docs_updated or self.facts_added or self.relations_added)


def compatible(doc: LegalDoc, date: Optional[str], province: Optional[str]) -> Optional[bool]:
    """False when date or province conflict; True when one agrees; None when neither is known on both sides."""
    agree = []
    d = date_prefix_agrees(doc.date_issued, date)
    if d is False:
        return False
    if d:
        agree.append(True)
    if doc.province and province:
        if place_key(doc.province) != place_key(province):
            return False
        agree.append(True)
    return True if agree else None


class Registry:
    def __init__(self) -> None:
        self.docs: dict[int, LegalDoc] = {}
        self.by_key: dict[str, list[int]] = {}
        self.facts: dict[int, list[StatusFact]] = {}
        self.rel_by_subject: dict[int, list[Relation]] = {}
        self.rel_by_object: dict[int, list[Relation]] = {}
        self._fact_set: set[tuple] = set()
        self._rel_set: set[tuple] = set()
        self._next_id = 1
        self._dirty_docs: set[int] = set()
        self._new_facts: list[StatusFact] = []
        self._new_rels: list[Relation] = []

    # ------------------------------------------------------------ building

    def copy(self) -> "Registry":
        """A copy whose additions (e.g. facts derived from the corpus) leave this one untouched."""
        r = Registry()
        r.docs = {i: replace(d) for i, d in self.docs.items()}
        r.by_key = {k: list(v) for k, v in self.by_key.items()}
        r.facts = {k: list(v) for k, v in self.facts.items()}
        r.rel_by_subject = {k: list(v) for k, v in self.rel_by_subject.items()}
        r.rel_by_object = {k: list(v) for k, v in self.rel_by_object.items()}
        r._fact_set, r._rel_set, r._next_id = set(self._fact_set), set(self._rel_set), self._next_id
        return r

    def find(self, symbol: str, date: Optional[str] = None, province: Optional[str] = None) -> list[LegalDoc]:
        """Documents with this symbol that nothing rules out (date, province)."""
        return [self.docs[i] for i in self.by_key.get(symbol_key(symbol), ())
                if compatible(self.docs[i], date, province) is not False]

    def upsert_spec(self, spec: DocSpec, *, source: str = "", change: Optional[Change] = None) -> LegalDoc:
        return self.upsert(**{f.name: getattr(spec, f.name) for f in fields(DocSpec)}, source=source, change=change)

    def upsert(self, symbol: str, *, type: Optional[str] = None, issuer: Optional[str] = None,
               province: Optional[str] = None, date_issued: Optional[str] = None,
               date_effective: Optional[str] = None, date_expiry: Optional[str] = None,
               title: Optional[str] = None, source: str = "", change: Optional[Change] = None) -> LegalDoc:
        """The document with this identity, created or completed (known fields are never overwritten).
        Identity: same symbol, and no conflict of date or province; when several fit, the one that
        agrees on both, else a new document."""
        symbol = clean_symbol(symbol)
        province = province or province_in(issuer)
        cands = self.find(symbol, date_issued, province)
        doc = None
        if len(cands) == 1:
            doc = cands[0]
        elif len(cands) > 1:
            exact = [d for d in cands if compatible(d, date_issued, province) and
                     (d.date_issued == date_issued) and (place_key(d.province) == place_key(province))]
            doc = exact[0] if len(exact) == 1 else None
        new = dict(type=doc_type(symbol, type), issuer=issuer, province=province,
                   date_issued=date_issued, date_effective=date_effective, date_expiry=date_expiry, title=title)
        if doc is None:
            doc = LegalDoc(id=self._next_id, symbol=symbol, source=source, **new)
            self._next_id += 1
            self.docs[doc.id] = doc
            self.by_key.setdefault(doc.key, []).append(doc.id)
            self._dirty_docs.add(doc.id)
            if change is not None:
                change.docs_added += 1
            return doc
        updated = False
        for k, v in new.items():
            if v and not getattr(doc, k):
                setattr(doc, k, v)
                updated = True
        if updated:
            self._dirty_docs.add(doc.id)
            if change is not None:
                change.docs_updated += 1
        return doc

    def add_fact(self, fact: StatusFact, change: Optional[Change] = None) -> bool:
        key = (fact.doc_id, fact.status, fact.since or "", fact.observed or "", fact.source)
        if key in self._fact_set:
            return False
        self._fact_set.add(key)
        self.facts.setdefault(fact.doc_id, []).append(fact)
        self._new_facts.append(fact)
        if change is not None:
            change.facts_added += 1
        return True

    def add_relation(self, rel: Relation, change: Optional[Change] = None) -> bool:
        if rel.kind in INVERSE:
            rel = replace(rel, kind=INVERSE[rel.kind], subject_id=rel.object_id, object_id=rel.subject_id)
        if rel.kind not in RELATION_KINDS:
            raise ValueError(f"unknown relation kind {rel.kind!r}")
        key = (rel.subject_id, rel.kind, rel.object_id, rel.source)
        if key in self._rel_set:
            return False
        self._rel_set.add(key)
        self.rel_by_subject.setdefault(rel.subject_id, []).append(rel)
        self.rel_by_object.setdefault(rel.object_id, []).append(rel)
        self._new_rels.append(rel)
        if change is not None:
            change.relations_added += 1
        return True

    def __len__(self) -> int:
        return len(self.docs)

    # ------------------------------------------------------------ status as of a day

    def resolve(self, doc: LegalDoc, as_of: _dt.date) -> "Resolution":
        """The document's status on ``as_of`` from its dates, facts and relations (never guessed)."""
        ev: list[dict] = []
        start = to_date(doc.date_effective) or _day_of(doc.date_issued)
        if start and as_of < start:
            what = "takes effect" if doc.date_effective else "issued"
            return Resolution("not_yet_in_force", None, None,
                              [_ev("registry", doc.source, f"{doc.symbol} {what} {start.isoformat()}")])
        hits: dict[str, list[tuple[Optional[str], dict, Optional[LegalDoc]]]] = {}
        later_end: list[dict] = []   # terminal events after as_of: the document was in force until then
        for rel in self.rel_by_object.get(doc.id, ()):
            status = RELATION_STATUS.get(rel.kind)
            if not status:
                continue
            by = self.docs[rel.subject_id]
            when = to_date(rel.date) or to_date(by.date_effective) or _day_of(by.date_issued)
            e = _ev(rel.kind_of_evidence, rel.source, rel.text or f"{by.label()} {rel.kind} {doc.symbol}")
            if when is None or when <= as_of:
                hits.setdefault(status, []).append((when.isoformat() if when else None, e, by))
            elif status in TERMINAL:
                later_end.append(e)
        for f in self.facts.get(doc.id, ()):
            e = _ev(f.kind, f.source, f.text or f.status)
            since, seen = to_date(f.since), to_date(f.observed)
            if f.status == "in_force":
                if seen and seen >= as_of:
                    hits.setdefault("in_force", []).append((None, e, None))
                else:
                    hits.setdefault("_last_in_force", []).append((f.observed, e, None))
                continue
            if since and since > as_of:
                if f.status in TERMINAL:
                    later_end.append(e)
                continue
            if since is None and seen and seen > as_of:
                continue            # seen later, start unknown: cannot say for as_of
            hits.setdefault(f.status, []).append((since.isoformat() if since else None, e, None))
        exp = to_date(doc.date_expiry)
        if exp is not None:
            if exp <= as_of:
                hits.setdefault("expired", []).append(
                    (exp.isoformat(), _ev("registry", doc.source, f"{doc.symbol} expires {exp.isoformat()}"), None))
            else:
                later_end.append(_ev("registry", doc.source, f"{doc.symbol} in force until {exp.isoformat()}"))
        for status in TERMINAL + ("partly_expired", "amended"):
            if status in hits:
                items = hits[status]
                ev = [e for _, e, _ in items]
                by = [d for _, _, d in items if d is not None]
                since = min((s for s, _, _ in items if s), default=None)
                return Resolution(status, since, by[0] if by and status == "replaced" else None, ev)
        if "in_force" in hits:
            return Resolution("in_force", None, None, [e for _, e, _ in hits["in_force"]])
        if later_end and start:
            return Resolution("in_force", None, None, later_end)
        last = hits.get("_last_in_force")
        if last:
            seen = max(s for s, _, _ in last if s) if any(s for s, _, _ in last) else None
            return Resolution("unknown", None, None, [e for _, e, _ in last],
                              last_known={"status": "in_force", "date": seen})
        return Resolution("unknown", None, None, [])

    # ------------------------------------------------------------ persistence

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> "Registry":
        r = cls()
        for row in conn.execute(f"SELECT {', '.join(_DOC_COLUMNS)} FROM legal_docs ORDER BY id"):
            d = LegalDoc(**dict(zip(_DOC_COLUMNS, row)))
            r.docs[d.id] = d
            r.by_key.setdefault(d.key, []).append(d.id)
            r._next_id = max(r._next_id, d.id + 1)
        for doc_id, status, since, observed, source, text in conn.execute(
                "SELECT doc_id, status, since, observed, source, text FROM legal_facts ORDER BY id"):
            r.add_fact(StatusFact(doc_id, status, since or None, observed or None, source, text))
        for s, kind, o, date, source, text in conn.execute(
                "SELECT subject_id, kind, object_id, date, source, text FROM legal_relations ORDER BY id"):
            r.add_relation(Relation(s, kind, o, date or None, source, text))
        r._dirty_docs.clear()
        r._new_facts.clear()
        r._new_rels.clear()
        return r

    def save(self, conn: sqlite3.Connection) -> None:
        """Write what changed since ``load`` (one transaction)."""
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT OR REPLACE INTO legal_docs(id, key, symbol, type, issuer, province, date_issued, "
                "date_effective, date_expiry, title, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(d.id, d.key, d.symbol, d.type, d.issuer, d.province, d.date_issued, d.date_effective,
                  d.date_expiry, d.title, d.source) for d in (self.docs[i] for i in sorted(self._dirty_docs))])
            conn.executemany(
                "INSERT OR IGNORE INTO legal_facts(doc_id, status, since, observed, source, text) VALUES (?,?,?,?,?,?)",
                [(f.doc_id, f.status, f.since or "", f.observed or "", f.source, f.text) for f in self._new_facts])
            conn.executemany(
                "INSERT OR IGNORE INTO legal_relations(subject_id, kind, object_id, date, source, text) "
                "VALUES (?,?,?,?,?,?)",
                [(x.subject_id, x.kind, x.object_id, x.date or "", x.source, x.text) for x in self._new_rels])
        except BaseException:
            if own and conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if own:
            conn.execute("COMMIT")
        self._dirty_docs.clear()
        self._new_facts.clear()
        self._new_rels.clear()


MIGRATIONS = [
    """
    CREATE TABLE legal_docs(
        id INTEGER PRIMARY KEY, key TEXT NOT NULL, symbol TEXT NOT NULL, type TEXT, issuer TEXT,
        province TEXT, date_issued TEXT, date_effective TEXT, date_expiry TEXT, title TEXT,
        source TEXT NOT NULL DEFAULT '');
    CREATE INDEX legal_docs_key ON legal_docs(key);
    CREATE TABLE legal_facts(
        id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL REFERENCES legal_docs(id), status TEXT NOT NULL,
        since TEXT NOT NULL DEFAULT '', observed TEXT NOT NULL DEFAULT '', source TEXT NOT NULL,
        text TEXT NOT NULL DEFAULT '', UNIQUE(doc_id, status, since, observed, source));
    CREATE TABLE legal_relations(
        id INTEGER PRIMARY KEY, subject_id INTEGER NOT NULL REFERENCES legal_docs(id), kind TEXT NOT NULL,
        object_id INTEGER NOT NULL REFERENCES legal_docs(id), date TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL, text TEXT NOT NULL DEFAULT '', UNIQUE(subject_id, kind, object_id, source));
    """,
]


def ensure_schema(conn: sqlite3.Connection, ensure: Optional[Callable[[str, list[str]], None]] = None) -> None:
    """Create/upgrade the registry tables: through the corpus' ``ensure_schema`` when given, else the same
    versioned scheme on a bare connection (tests, a registry outside a corpus)."""
    if ensure is not None:
        ensure("legal", MIGRATIONS)
        return
    with conn:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_versions(module TEXT PRIMARY KEY, version INT)")
        row = conn.execute("SELECT version FROM schema_versions WHERE module='legal'").fetchone()
        version = row[0] if row else 0
        for sql in MIGRATIONS[version:]:
            for stmt in sql.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
        conn.execute("INSERT OR REPLACE INTO schema_versions(module, version) VALUES ('legal', ?)", (len(MIGRATIONS),))


@dataclass
class Resolution:
    status: str
    since: Optional[str]
    replaced_by: Optional[LegalDoc]
    evidence: list[dict] = field(default_factory=list)
    last_known: Optional[dict] = None


def _ev(kind: str, where: str, text: str) -> dict:
    return {"kind": kind, "where": where, "text": text}


def _day_of(date: Optional[str]) -> Optional[_dt.date]:
    """The FIRST day a (possibly partial) issue date may mean: a document dated "2021-08" exists from 2021-08-01."""
    if not date:
        return None
    parts = date.split("-")
    try:
        return _dt.date(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, int(parts[2]) if len(parts) > 2 else 1)
    except (ValueError, IndexError):
        return None
