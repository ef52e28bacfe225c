"""Typed records that flow between the stages: ingest -> extract -> corpus -> search.

Everything here is a plain dataclass; ``to_dict`` gives the JSON shape of
``SPEC.md`` for the extraction records.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from typing import Any, Optional


# --------------------------------------------------------------------------- provenance

@dataclass(frozen=True)
class Span:
    """Character offsets into a document's normalized text, and the source page when known."""
    start: int
    end: int
    page: Optional[int] = None

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "page": self.page}


# --------------------------------------------------------------------------- ingest output

@dataclass
class Block:
    """One paragraph or one table row of the normalized text.

    ``text`` is exactly ``doc.text[start:end]``. A table row's text is its cells
    joined by a tab (newlines inside a cell become a space); ``cells`` keeps the
    cells with their own line breaks ("\\n") so lists inside a cell survive.
    """
    kind: str                      # "para" | "row"
    text: str
    start: int
    end: int
    page: Optional[int] = None
    cells: Optional[list[str]] = None
    table: Optional[int] = None    # index into IngestedDocument.tables
    header: bool = False           # a table header row
    level: Optional[int] = None    # list level (DOCX numbering), when the source says
    style: Optional[str] = None    # "bold", "italic", "center", "heading", ... when the source says

    @property
    def span(self) -> Span:
        return Span(self.start, self.end, self.page)


@dataclass
class Table:
    index: int
    header: list[str]              # header cells (merged when the header spans several rows)
    rows: list[int] = field(default_factory=list)   # block indices of the body rows
    page_start: Optional[int] = None
    page_end: Optional[int] = None


@dataclass
class IngestedDocument:
    """A file turned into one normalized text (NFC, one tone-mark convention,
    wrapped lines and page-split paragraphs rejoined) plus its blocks and tables."""
    source: str
    sha256: str
    format: str                    # "txt" | "docx" | "pdf"
    text: str
    blocks: list[Block]
    tables: list[Table] = field(default_factory=list)
    pages: Optional[int] = None
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def page_at(self, offset: int) -> Optional[int]:
        """The page of the block that holds ``offset`` (None when pages are unknown)."""
        if not self.blocks:
            return None
        starts = self._starts()
        i = max(0, bisect_right(starts, offset) - 1)
        return self.blocks[i].page

    def span(self, start: int, end: int) -> Span:
        return Span(start, end, self.page_at(start))

    def _starts(self) -> list[int]:
        cache = self.meta.get("_starts")
        if cache is None or len(cache) != len(self.blocks):
            cache = [b.start for b in self.blocks]
            self.meta["_starts"] = cache
        return cache


# --------------------------------------------------------------------------- extraction output

@dataclass
class Signer:
    name: Optional[str] = None
    title: Optional[str] = None


@dataclass
class DocumentInfo:
    number: Optional[str] = None
    type: Optional[str] = None
    issuer: Optional[str] = None
    place: Optional[str] = None
    date: Optional[str] = None
    title: Optional[str] = None
    signer: Signer = field(default_factory=Signer)
    province: Optional[str] = None          # the issuer's province/city, used to resolve "tỉnh" mentions
    issued_plan: Optional[dict] = None      # a Quyết định that issues a plan: {"type", "title"} of the plan


@dataclass
class Deadline:
    text: str
    date: Optional[str] = None
    recurrence: Optional[str] = None        # continuous|daily|weekly|monthly|quarterly|semiannual|yearly
    day: Optional[int] = None


@dataclass
class Target:
    metric: str
    comparator: Optional[str] = None        # ">=", "<=", "=", ">", "<"
    value: Optional[float] = None
    unit: Optional[str] = None
    year: Optional[int] = None


@dataclass
class LegalRef:
    id: str
    text: str
    type: Optional[str]
    number: Optional[str]
    symbol: Optional[str]
    date: Optional[str]
    issuer: Optional[str]
    span: Optional[Span] = None
    status_in_text: Optional[str] = None    # "expired" | "replaced" | "abolished" | "amended" when the text says so
    relation: Optional[dict] = None         # e.g. {"kind": "amends", "ref": "r9"} for "được sửa đổi, bổ sung tại ..."
    title: Optional[str] = None             # the "về ..." subject that follows the citation, when present
    evidence: Optional[str] = None          # the words that support status_in_text

    def to_dict(self) -> dict:
        d = {"id": self.id, "text": self.text, "type": self.type, "number": self.number,
             "symbol": self.symbol, "date": self.date, "issuer": self.issuer,
             "span": self.span.to_dict() if self.span else None}
        if self.title:
            d["title"] = self.title
        if self.status_in_text:
            d["status_in_text"] = self.status_in_text
            d["evidence"] = self.evidence
        if self.relation:
            d["relation"] = self.relation
        return d


@dataclass
class Task:
    id: str
    kind: str                               # "task" | "indicator"
    section: str
    text: str
    lead: list[str] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    deadline: Optional[Deadline] = None
    targets: list[Target] = field(default_factory=list)
    legal_refs: list[str] = field(default_factory=list)
    span: Optional[Span] = None
    product: Optional[str] = None           # a task table's "Sản phẩm" / "Kết quả dự kiến" cell (expected output)
    context: str = ""                       # the text of the task's heading path ("Nhiệm vụ ... > Nâng cao Chỉ số PCI")

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "section": self.section, "text": self.text,
                "lead": list(self.lead), "support": list(self.support),
                "deadline": asdict(self.deadline) if self.deadline else None,
                "targets": [asdict(t) for t in self.targets],
                "legal_refs": list(self.legal_refs),
                "span": self.span.to_dict() if self.span else None,
                "product": self.product, "context": self.context}


@dataclass
class Extraction:
    source: str
    sha256: str
    document: DocumentInfo
    tasks: list[Task] = field(default_factory=list)
    legal_refs: list[LegalRef] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        doc = self.document
        return {
            "source": self.source,
            "sha256": self.sha256,
            "document": {"number": doc.number, "type": doc.type, "issuer": doc.issuer, "place": doc.place,
                         "date": doc.date, "title": doc.title,
                         "signer": {"name": doc.signer.name, "title": doc.signer.title}},
            "tasks": [t.to_dict() for t in self.tasks],
            "legal_refs": [r.to_dict() for r in self.legal_refs],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Extraction":
        """Rebuild records from the SPEC JSON (what the corpus stores)."""
        dd = d.get("document") or {}
        s = dd.get("signer") or {}
        doc = DocumentInfo(number=dd.get("number"), type=dd.get("type"), issuer=dd.get("issuer"),
                           place=dd.get("place"), date=dd.get("date"), title=dd.get("title"),
                           signer=Signer(s.get("name"), s.get("title")))

        def span(x):
            return Span(x["start"], x["end"], x.get("page")) if x else None

        tasks = [Task(id=t["id"], kind=t.get("kind", "task"), section=t.get("section", ""), text=t["text"],
                      lead=list(t.get("lead") or []), support=list(t.get("support") or []),
                      deadline=Deadline(**t["deadline"]) if t.get("deadline") else None,
                      targets=[Target(**x) for x in t.get("targets") or []],
                      legal_refs=list(t.get("legal_refs") or []), span=span(t.get("span")),
                      product=t.get("product"), context=t.get("context") or "")
                 for t in d.get("tasks") or []]
        refs = [LegalRef(id=r["id"], text=r.get("text", ""), type=r.get("type"), number=r.get("number"),
                         symbol=r.get("symbol"), date=r.get("date"), issuer=r.get("issuer"),
                         span=span(r.get("span")), status_in_text=r.get("status_in_text"),
                         relation=r.get("relation"), title=r.get("title"), evidence=r.get("evidence"))
                for r in d.get("legal_refs") or []]
        return cls(source=d.get("source", ""), sha256=d.get("sha256", ""), document=doc, tasks=tasks, legal_refs=refs,
                   warnings=list(d.get("warnings") or []))
