"""Facts the corpus itself states about the documents its plans cite, each with its evidence span.

- a cited document "đã hết hiệu lực" / "đã bị bãi bỏ" / "đã được thay thế" (the extraction's
  ``status_in_text`` + ``evidence`` on the LegalRef, else the words right after the citation);
- "A (được sửa đổi, bổ sung tại B)": B amends A (``LegalRef.relation``, else the words between them);
- a document that acts on what it cites: "Bãi bỏ Quyết định số ...", "Quyết định này ... thay thế ...".

Matching tables: kehoach/data/legal_phrases.tsv, legal_relations.tsv, legal_acts.tsv.
``derive_facts`` is pure (extraction + text -> facts); ``apply_facts`` puts them in a Registry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable, Optional

from kehoach.corpus.legal.registry import Change, LegalDoc, Registry, Relation, StatusFact
from kehoach.corpus.legal.symbols import cited_start, doc_type, load_tsv, province_in
from kehoach.models import DocumentInfo, Extraction, LegalRef, Span

WINDOW = 160          # characters read after a citation for a status statement
GAP = 80              # longest text between two citations that can state a relation between them
CLAUSE = 200          # characters read before a citation for an act ("Bãi bỏ ...")


@lru_cache(maxsize=None)
def _phrases() -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((st, re.compile(r"[\s*(,\-–]*(" + pat + r")\b", re.I)) for st, pat in load_tsv("legal_phrases.tsv"))


@lru_cache(maxsize=None)
def _relations() -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((k, re.compile(p, re.I)) for k, p in load_tsv("legal_relations.tsv"))


@lru_cache(maxsize=None)
def _acts() -> tuple[tuple[tuple[str, re.Pattern], ...], Optional[re.Pattern]]:
    rows = load_tsv("legal_acts.tsv")
    acts = tuple((k, re.compile(p, re.I)) for k, p in rows if k != "not")
    nots = [p for k, p in rows if k == "not"]
    return acts, re.compile("|".join(nots), re.I) if nots else None


def status_after(text: str) -> Optional[tuple[str, str]]:
    """(status, the words) when ``text`` (what follows a citation) opens with a status statement.
    The longest statement wins ("đã hết hiệu lực một phần" is partly_expired, not expired)."""
    best = None
    for status, pat in _phrases():
        m = pat.match(text)
        if m and (best is None or len(m.group(1)) > len(best[1])):
            best = (status, m.group(1))
    return best


def relation_between(gap: str) -> Optional[str]:
    """The kind of "B <kind> A" told by the words between A's and B's citations."""
    if len(gap) > GAP:
        return None
    for kind, pat in _relations():
        if pat.fullmatch(gap):
            return kind
    return None


def act_before(clause: str) -> Optional[str]:
    """"abolishes"/"replaces"/"amends" when the clause leading to a citation makes the citing document
    act on it; None for anything else, proposals included ("đề nghị bãi bỏ ...")."""
    acts, nots = _acts()
    if nots is not None and nots.search(clause):
        return None
    for kind, pat in acts:
        if pat.search(clause):
            return kind
    return None


def clause_before(text: str, start: int) -> str:
    """The text from the last sentence/article break (. ; : newline) before ``start`` up to it."""
    lo = max(0, start - CLAUSE)
    seg = text[lo:start]
    cut = max(seg.rfind("\n"), seg.rfind(". "), seg.rfind(";"), seg.rfind(":"))
    return seg[cut + 1:] if cut >= 0 else seg


@dataclass(frozen=True)
class DerivedStatus:
    ref: str                 # LegalRef id
    status: str
    words: str
    where: str


@dataclass(frozen=True)
class DerivedRelation:
    subject: Optional[str]   # LegalRef id; None = the citing document itself
    kind: str                # replaces | amends | abolishes | guides | ... (inverse kinds allowed)
    object: str              # LegalRef id
    words: str
    where: str


def where(source: str, start: int, end: int, page: Optional[int] = None) -> str:
    return f"{source}@{start}-{end}" + (f" (p.{page})" if page else "")


def derive_facts(ex: Extraction, text: Optional[str]) -> tuple[list[DerivedStatus], list[DerivedRelation]]:
    """What this plan says about the documents it cites. ``text`` is its normalized text
    (spans index into it); without it only what the extraction states is used."""
    statuses: list[DerivedStatus] = []
    relations: list[DerivedRelation] = []
    refs = [r for r in ex.legal_refs if r.symbol]
    by_id = {r.id: r for r in refs}
    for r in refs:
        sp = r.span
        if r.status_in_text:
            w = where(ex.source, sp.start, sp.end, sp.page) if sp else ex.source
            statuses.append(DerivedStatus(r.id, r.status_in_text, r.evidence or r.status_in_text, w))
        elif text is not None and sp is not None:
            hit = status_after(text[sp.end:sp.end + WINDOW])
            if hit:
                statuses.append(DerivedStatus(r.id, hit[0], text[sp.start:sp.end] + " " + hit[1],
                                              where(ex.source, sp.start, sp.end + len(hit[1]) + 1, sp.page)))
        if r.relation and r.relation.get("ref") in by_id:
            w = where(ex.source, sp.start, sp.end, sp.page) if sp else ex.source
            relations.append(DerivedRelation(r.id, r.relation["kind"], r.relation["ref"], r.text, w))
    if text is None:
        return statuses, relations
    spanned = sorted((r for r in refs if r.span), key=lambda r: r.span.start)
    stated = {(x.subject, x.object) for x in relations} | {(x.object, x.subject) for x in relations}
    for a, b in zip(spanned, spanned[1:]):
        if (a.id, b.id) in stated:
            continue
        kind = relation_between(text[a.span.end:b.span.start])
        if kind:
            relations.append(DerivedRelation(b.id, kind, a.id, text[a.span.start:b.span.end],
                                             where(ex.source, a.span.start, b.span.end, a.span.page)))
    for r in spanned:
        clause = clause_before(text, r.span.start)
        kind = act_before(clause)
        if kind:
            relations.append(DerivedRelation(None, kind, r.id, (clause + text[r.span.start:r.span.end]).strip(),
                                             where(ex.source, r.span.start - len(clause), r.span.end, r.span.page)))
    return statuses, relations


def locate_refs(ex: Extraction, text: Optional[str]) -> Extraction:
    """The extraction with a span on every LegalRef whose span is missing but whose printed ``text``
    is found in the document (records loaded without spans, e.g. hand-made ones)."""
    if text is None or all(r.span is not None or not r.text for r in ex.legal_refs):
        return ex
    pos: dict[str, int] = {}
    refs = []
    for r in ex.legal_refs:
        if r.span is None and r.text:
            i = text.find(r.text, pos.get(r.text, 0))
            if i < 0:
                i = text.find(r.text)
            if i >= 0:
                pos[r.text] = i + len(r.text)
                r = replace(r, span=Span(i, i + len(r.text)))
        refs.append(r)
    return replace(ex, legal_refs=refs)


def trim_refs(ex: Extraction) -> Extraction:
    """The extraction with each LegalRef's printed text (and span) starting at its own type word: a
    citation read from "thi hành pháp luật theo quy định tại Nghị định số ..." is "Nghị định số ...",
    and its evidence quotes no other clause."""
    refs, changed = [], False
    for r in ex.legal_refs:
        i = cited_start(r.text, r.symbol, doc_type(r.symbol, r.type, r.text)) if r.symbol else 0
        if i:
            sp = r.span
            ev = r.evidence[i:] if r.evidence and r.evidence.startswith(r.text[:i]) else r.evidence
            r = replace(r, text=r.text[i:], evidence=ev, span=replace(sp, start=sp.start + i) if sp else None)
            changed = True
        refs.append(r)
    return replace(ex, legal_refs=refs) if changed else ex


def ref_doc(reg: Registry, ref: LegalRef, source: str, change: Optional[Change] = None) -> LegalDoc:
    return reg.upsert(ref.symbol, type=doc_type(ref.symbol, ref.type, ref.text), issuer=ref.issuer, province=province_in(ref.issuer),
                      date_issued=ref.date, title=ref.title, source=source, change=change)


@dataclass(frozen=True)
class PlanFacts:
    """What one plan states about the documents it cites, with what putting it in a Registry needs:
    small enough to keep for a whole corpus (``check.corpus_facts``) instead of its extractions."""
    source: str
    document: DocumentInfo
    refs: dict                           # LegalRef id -> LegalRef, the refs the facts name
    statuses: tuple[DerivedStatus, ...]
    relations: tuple[DerivedRelation, ...]


def plan_facts(ex: Extraction, text: Optional[str]) -> Optional[PlanFacts]:
    """``derive_facts`` of one plan, None when it states nothing."""
    statuses, relations = derive_facts(ex, text)
    if not statuses and not relations:
        return None
    named = {s.ref for s in statuses} | {r.object for r in relations} | {r.subject for r in relations if r.subject}
    return PlanFacts(ex.source, ex.document, {r.id: r for r in ex.legal_refs if r.id in named},
                     tuple(statuses), tuple(relations))


def apply_facts(reg: Registry, plans: Iterable[tuple[Extraction, Optional[str]]]) -> Change:
    """Add to ``reg`` what the plans state (evidence kind "corpus"). Call it on a ``Registry.copy()``
    so the imported registry stays as imported."""
    return apply_plan_facts(reg, (f for f in (plan_facts(ex, text) for ex, text in plans) if f is not None))


def apply_plan_facts(reg: Registry, facts: Iterable[PlanFacts]) -> Change:
    """``apply_facts`` from facts derived before (``plan_facts``)."""
    change = Change()
    for f in facts:
        refs = f.refs
        seen = f.document.date
        for s in f.statuses:
            d = ref_doc(reg, refs[s.ref], s.where, change)
            reg.add_fact(StatusFact(d.id, s.status, None, seen, s.where, s.words, kind="corpus"), change)
        for rel in f.relations:
            obj = ref_doc(reg, refs[rel.object], rel.where, change)
            if rel.subject is not None:
                subj = ref_doc(reg, refs[rel.subject], rel.where, change)
                reg.add_relation(Relation(subj.id, rel.kind, obj.id, None, rel.where, rel.words, "corpus"), change)
            elif f.document.number:
                doc = f.document
                subj = reg.upsert(doc.number, type=doc_type(doc.number, doc.type), issuer=doc.issuer, province=province_in(doc.issuer),
                                  date_issued=doc.date, title=doc.title, source=f.source, change=change)
                reg.add_relation(Relation(subj.id, rel.kind, obj.id, doc.date, rel.where, rel.words, "corpus"), change)
            else:
                status = {"replaces": "replaced", "abolishes": "abolished", "amends": "amended"}[rel.kind]
                reg.add_fact(StatusFact(obj.id, status, seen, seen, rel.where, rel.words, kind="corpus"), change)
    return change
