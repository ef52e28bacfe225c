"""Import tables of legal-document status into the registry.

Three formats, detected from the header row when not named:
- ``generic``: the documented CSV/JSON columns (docs/legal-import-format.md), header has ``symbol``;
- ``an_giang``: Sở Tư pháp An Giang's tracking of the former An Giang / Kiên Giang documents
  (Thay thế / Bãi bỏ / Hết hiệu lực theo thời gian / Giữ nguyên ...), header has ``hinh_thuc_xu_ly``;
- ``binh_duong``: Bình Dương's portal list (so_ky_hieu, ngay_ban_hanh, trich_yeu, hieu_luc).

Each adapter turns one row into a ``RowResult`` (pure: a document, its statuses, its relations),
or raises ``RowError``; ``import_rows`` applies the results to a ``Registry``. A row that cannot be
parsed is reported with its line number and the others are imported; evidence sources are
"<file name>:<line>", so importing the same file twice adds nothing.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Optional

from kehoach.corpus.legal.registry import Change, DocSpec, Registry, Relation, StatusFact, STATUSES, RELATION_KINDS, INVERSE
from kehoach.corpus.legal.symbols import (clean_symbol, fold, load_tsv, parse_date, parse_period_end, province_in,
                                          provinces_in, to_date)
from kehoach.errors import KehoachError
from kehoach.extract.citations import CitationContext, find_citations
from kehoach.ingest.normalize import clean_inline
from kehoach.models import LegalRef


class LegalImportError(KehoachError):
    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")


class RowError(ValueError):
    """A row that cannot be parsed; the message is the reason."""


@dataclass
class RowResult:
    doc: Optional[DocSpec]
    statuses: list[tuple[str, Optional[str], Optional[str], str]] = field(default_factory=list)  # status, since, observed, text
    relations: list[tuple[str, DocSpec, Optional[str], str]] = field(default_factory=list)      # row doc <kind> other, date, text
    others: list[DocSpec] = field(default_factory=list)       # documents only named (identity, no status)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    path: str
    format: str
    rows: int = 0
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    change: Change = field(default_factory=Change)

    def to_dict(self) -> dict:
        c = self.change
        return {"path": self.path, "format": self.format, "rows": self.rows, "imported": self.imported,
                "docs_added": c.docs_added, "docs_updated": c.docs_updated, "facts_added": c.facts_added,
                "relations_added": c.relations_added,
                "errors": [{"line": n, "reason": r} for n, r in self.errors],
                "warnings": [{"line": n, "message": m} for n, m in self.warnings]}


# ------------------------------------------------------------------ shared cell parsers

_SYMBOL_OK = re.compile(r"^\d+[A-Za-z]?(?:/\d{4})?[/-][A-Za-zĐđ]")


def parse_symbol(cell: str) -> str:
    s = clean_symbol(cell)
    if not s:
        raise RowError("no symbol")
    if not _SYMBOL_OK.match(s):
        raise RowError(f"not a document symbol: {cell.strip()!r}")
    return s


def parse_day(cell: str | None, what: str) -> Optional[str]:
    """ISO (or partial ISO) or dd/mm/yyyy; empty -> None; anything else is a bad row."""
    cell = (cell or "").strip()
    if not cell:
        return None
    if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", cell):
        if to_date(cell) is None:
            raise RowError(f"bad {what} {cell!r}")
        return cell
    d = parse_date(cell)
    if d is None:
        raise RowError(f"bad {what} {cell!r}")
    return d


@lru_cache(maxsize=None)
def _status_words() -> dict[str, str]:
    return {fold(w): s for w, s in load_tsv("legal_status_words.tsv")}


def parse_status(cell: str | None) -> Optional[str]:
    cell = fold(cell or "")
    if not cell:
        return None
    cell = re.sub(r"^văn bản\s+", "", cell)
    st = _status_words().get(cell)
    if st is None:
        raise RowError(f"unknown status {cell!r}")
    return st


# ------------------------------------------------------------------ generic format

GENERIC_COLUMNS = ("symbol", "type", "issuer", "province", "date_issued", "date_effective", "date_expiry",
                   "status", "status_date", "observed", "title", "evidence",
                   "replaces", "replaced_by", "amends", "amended_by", "abolishes", "abolished_by", "guided_by", "guides")


def _targets(cell, province: Optional[str]) -> list[DocSpec]:
    """"07/2025/NQ-HĐND@2025-09-26; 08/2025/NQ-HĐND" (or a JSON list) -> documents."""
    items = cell if isinstance(cell, list) else [x for x in str(cell or "").split(";")]
    out = []
    for it in items:
        it = str(it).strip()
        if not it:
            continue
        sym, _, day = it.partition("@")
        out.append(DocSpec(parse_symbol(sym), province=province, date_issued=parse_day(day, "relation date")))
    return out


def parse_generic(row: dict) -> RowResult:
    get = lambda k: (str(row.get(k)).strip() if row.get(k) not in (None, "") else None)  # noqa: E731
    doc = DocSpec(parse_symbol(get("symbol") or ""), type=get("type"), issuer=get("issuer"),
                  province=get("province"), date_issued=parse_day(get("date_issued"), "date_issued"),
                  date_effective=parse_day(get("date_effective"), "date_effective"),
                  date_expiry=parse_day(get("date_expiry"), "date_expiry"), title=get("title"))
    res = RowResult(doc)
    text = get("evidence") or ""
    status = parse_status(get("status"))
    if status and status != "unknown":
        day = parse_day(get("status_date"), "status_date")
        observed = parse_day(get("observed"), "observed")
        if status == "in_force":
            res.statuses.append((status, None, observed or day, text or "in_force"))
        else:
            res.statuses.append((status, day, observed, text or status))
    for kind in RELATION_KINDS + tuple(INVERSE):
        for other in _targets(row.get(kind), doc.province):
            res.relations.append((kind, other, None, text))
    return res


# ------------------------------------------------------------------ An Giang tracking workbook

def _first_symbol(cell: str | None) -> Optional[str]:
    first = (cell or "").split("|")[0].strip()
    return clean_symbol(first) or None


@dataclass
class Sentence:
    """A table sentence read by the extraction's citation stage: its normalized text, the one
    province it names (the context its citations are completed with) and its citations."""
    text: str
    province: Optional[str]
    refs: list[LegalRef]

    @property
    def lead(self) -> Optional[LegalRef]:
        """The citation the sentence opens with (the row's own document), None for a planned document."""
        first = self.refs[0] if self.refs else None
        return first if first is not None and first.span is not None and first.span.start <= 3 else None


def read_sentence(sentence: str | None) -> Sentence:
    """"Nghị quyết số 02/2021/NQ-HĐND ngày 06 tháng 10 năm 2021 của Hội đồng nhân dân tỉnh Kiên Giang ..."
    -> its citations (``kehoach.extract.citations.find_citations``), with the sentence's province as context."""
    text = clean_inline(sentence or "")
    found = provinces_in(text)
    province = found[0] if len(found) == 1 else None
    ctx = CitationContext(None, province, None, None) if province else None
    return Sentence(text, province, find_citations(text, ctx) if text else [])


def _spec(ref: LegalRef, s: Sentence) -> DocSpec:
    end = ref.span.end if ref.span is not None else len(s.text)
    return DocSpec(clean_symbol(ref.symbol), type=ref.type, issuer=ref.issuer,
                   province=province_in(ref.issuer) or s.province, date_issued=ref.date,
                   title=s.text[end:].strip(" .") or None)


_FATE = [(re.compile(r"đã (?:bị )?(?:bãi bỏ|hủy bỏ)", re.I), "abolished"),
         (re.compile(r"đã (?:bị )?thay thế", re.I), "replaced"),
         (re.compile(r"đã hết hiệu lực|hết hiệu lực", re.I), "expired")]


def parse_an_giang(row: dict) -> RowResult:
    """One row of the An Giang tracking table. The sentences decide; the regex-parsed
    so_hieu_goc / so_hieu_ket_qua columns are only checked against them."""
    sent = read_sentence(row.get("van_ban_goc_hoac_du_kien"))
    lead, cits = sent.lead, sent.refs
    done = (row.get("trang_thai_xu_ly") or "").strip() == "da_xu_ly"
    action = fold(row.get("hinh_thuc_xu_ly") or "")
    result = (row.get("van_ban_ket_qua") or "").strip()
    when = parse_period_end(row.get("thoi_gian_xu_ly"))
    if lead is None:
        # a planned document ("Nghị quyết về việc ... (thay thế Nghị quyết số ...)"): only the cited ones exist
        if not cits:
            raise RowError("no document number in the sentence (a planned document)")
        return RowResult(None, others=[_spec(c, sent) for c in cits])
    res = RowResult(_spec(lead, sent))
    col = _first_symbol(row.get("so_hieu_goc"))
    if col and clean_symbol(col) != res.doc.symbol:
        res.warnings.append(f"so_hieu_goc {col!r} differs from the sentence's {res.doc.symbol!r}: used the sentence")
    res.others = [_spec(c, sent) for c in cits[1:]]
    if not done:
        return res                       # pending: what will happen is not a fact yet
    rsent = read_sentence(result)
    rdoc = rsent.lead or (rsent.refs[0] if rsent.refs else None)
    rcol = _first_symbol(row.get("so_hieu_ket_qua"))
    if rcol and rdoc and clean_symbol(rcol) != clean_symbol(rdoc.symbol):
        res.warnings.append(f"so_hieu_ket_qua {rcol!r} differs from the sentence's {clean_symbol(rdoc.symbol)!r}: "
                            "used the sentence")
    if action.startswith("thay thế") or action.startswith("bãi bỏ"):
        if rdoc is None:
            raise RowError(f"'{row.get('hinh_thuc_xu_ly')}' without a document number in van_ban_ket_qua")
        kind = "replaced_by" if action.startswith("thay thế") else "abolished_by"
        res.relations.append((kind, _spec(rdoc, rsent), rdoc.date, result))
    elif action.startswith("hết hiệu lực"):
        observed = (rdoc.date if rdoc else None) or when
        res.statuses.append(("expired", None, observed, result or row.get("hinh_thuc_xu_ly", "")))
    elif action.startswith("giữ nguyên"):
        for pat, status in _FATE:
            if pat.search(result):
                years = [int(y) for y in re.findall(r"\bnăm (\d{4})\b", result)]
                since = f"{max(years)}-12-31" if years else None
                res.statuses.append((status, since, since or when, result))
                break
        else:
            res.statuses.append(("in_force", None, when, f"{row.get('hinh_thuc_xu_ly')}: {result}".strip(": ")))
    return res


# ------------------------------------------------------------------ Bình Dương portal list

BINH_DUONG = "Bình Dương"


def parse_binh_duong(row: dict, observed: Optional[str]) -> RowResult:
    """One row of Bình Dương's portal list (the documents of the province's People's Committee).
    The list says each document's status on the day it was crawled; ``observed`` is that day as far
    as the file tells it (its latest issue date)."""
    sym = parse_symbol(row.get("so_ky_hieu") or "")
    day = parse_day(row.get("ngay_ban_hanh"), "ngay_ban_hanh")
    code = sym.upper()
    issuer = ("Ủy ban nhân dân tỉnh Bình Dương" if re.search(r"\bUBND\b", code.replace("-", " ").replace("/", " "))
              else "Hội đồng nhân dân tỉnh Bình Dương" if "HĐND" in code else None)
    doc = DocSpec(sym, issuer=issuer, province=BINH_DUONG, date_issued=day,
                  title=(row.get("trich_yeu") or "").strip() or None)
    res = RowResult(doc)
    words = (row.get("hieu_luc") or "").strip()
    status = parse_status(words)
    if status and status != "unknown":
        res.statuses.append((status, None, observed, words))
    return res


# ------------------------------------------------------------------ reading and applying

FORMATS = ("generic", "an_giang", "binh_duong")


def detect_format(header: Iterable[str]) -> Optional[str]:
    h = {fold(x).replace(" ", "_") for x in header if x}
    if {"hinh_thuc_xu_ly", "van_ban_goc_hoac_du_kien"} <= h:
        return "an_giang"
    if {"so_ky_hieu", "hieu_luc"} <= h:
        return "binh_duong"
    if "symbol" in h:
        return "generic"
    return None


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """(header, [(line, row)]) of a CSV or JSON file; line = the CSV line the row starts on (JSON: item number)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LegalImportError(str(path), f"cannot read: {e.strerror or e}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LegalImportError(str(path), "not UTF-8 text")
    if not text.strip():
        raise LegalImportError(str(path), "empty file")
    if text.lstrip()[:1] in "[{":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise LegalImportError(str(path), f"bad JSON at line {e.lineno}: {e.msg}")
        items = obj.get("documents") if isinstance(obj, dict) else obj
        if not isinstance(items, list):
            raise LegalImportError(str(path), "JSON must be a list of documents or {\"documents\": [...]}")
        header = sorted({k for it in items if isinstance(it, dict) for k in it})
        return header, [(i + 1, it if isinstance(it, dict) else {}) for i, it in enumerate(items)]
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise LegalImportError(str(path), "no header row")
    header = [h.strip() for h in header]
    rows, prev = [], reader.line_num
    try:
        for cells in reader:
            start, prev = prev + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            rows.append((start, dict(zip(header, cells))))
    except csv.Error as e:
        raise LegalImportError(str(path), f"bad CSV at line {reader.line_num}: {e}")
    return header, rows


def import_file(registry: Registry, path: str | Path, fmt: Optional[str] = None) -> ImportReport:
    """Import one table into ``registry`` (in memory; the caller saves). Raises ``LegalImportError``
    for a file that cannot be read at all; bad rows are in the report."""
    p = Path(path)
    if not p.is_file():
        raise LegalImportError(str(path), "no such file")
    header, rows = _read_rows(p)
    found = detect_format(header)
    if fmt is None:
        if found is None:
            raise LegalImportError(str(path), "unknown table format (header: " + ", ".join(header[:8]) +
                                   "); name one with --format " + "|".join(FORMATS))
        fmt = found
    elif fmt not in FORMATS:
        raise LegalImportError(str(path), f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if fmt == "binh_duong":
        days = [d for d in (parse_date(r.get("ngay_ban_hanh")) for _, r in rows) if d]
        observed = max(days) if days else None
        parse: Callable[[dict], RowResult] = lambda r: parse_binh_duong(r, observed)  # noqa: E731
    else:
        parse = parse_an_giang if fmt == "an_giang" else parse_generic
    report = ImportReport(str(path), fmt, rows=len(rows))
    name = p.name
    for line, row in rows:
        try:
            res = parse(row)
        except RowError as e:
            report.errors.append((line, str(e)))
            continue
        apply_row(registry, res, f"{name}:{line}", report.change)
        report.imported += 1
        report.warnings.extend((line, w) for w in res.warnings)
    return report


def apply_row(registry: Registry, res: RowResult, source: str, change: Change) -> None:
    def up(d: DocSpec):
        return registry.upsert_spec(d, source=source, change=change)

    for other in res.others:
        up(other)
    if res.doc is None:
        return
    doc = up(res.doc)
    for status, since, observed, text in res.statuses:
        if status not in STATUSES:
            raise RowError(f"unknown status {status!r}")
        registry.add_fact(StatusFact(doc.id, status, since, observed, source, text), change)
    for kind, other_spec, date, text in res.relations:   # "row document <kind> other"
        other = up(other_spec)
        registry.add_relation(Relation(doc.id, kind, other.id, date, source, text), change)
