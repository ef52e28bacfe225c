"""The task registry: one entry per cluster of linked tasks (singletons too), with
owners, deadlines and a status relative to a date; written as JSON, CSV or XLSX
(a sheet people can filter) and read back from CSV/XLSX. Clusters are the linker's
overlapping commitments: a task that serves several commitments (one clause each)
is listed in each of them, so it has one row per cluster in CSV/XLSX.

Subcommands (``register(sub)``, called by ``kehoach.corpus.cli``):

* ``kehoach registry --format json|csv|xlsx [--out FILE] [--as-of DATE] [--model NAME]``
* ``kehoach link [--model NAME] [--json]``: (re)link the corpus and print the links with their evidence.
"""
from __future__ import annotations

import calendar
import csv
import hashlib
import io
import json
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Sequence

from kehoach.errors import KehoachError


class RegistryError(KehoachError):
    """Bad registry input or output."""


# --------------------------------------------------------------------------- status

def period_end(iso: str) -> date | None:
    """'2021-08-15' -> that day; '2021-08' -> 2021-08-31; '2021' -> 2021-12-31; else None."""
    try:
        parts = [int(x) for x in iso.split("-")]
    except (AttributeError, ValueError):
        return None
    try:
        if len(parts) == 3:
            return date(*parts)
        if len(parts) == 2:
            return date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
        if len(parts) == 1:
            return date(parts[0], 12, 31)
    except ValueError:
        return None
    return None


def parse_as_of(value: str | None) -> date:
    if not value:
        return date.today()
    if "/" in value:                         # dd/mm/yyyy, as staff write it
        from kehoach.search.tasks import TasksError, parse_date
        try:
            return date.fromisoformat(parse_date(value, "--as-of"))
        except TasksError as e:
            raise RegistryError(str(e)) from None
    d = period_end(value) if len(value) < 10 else None
    try:
        return d or date.fromisoformat(value)
    except ValueError:
        raise RegistryError(f"--as-of {value!r}: expected a date dd/mm/yyyy or YYYY-MM-DD") from None


def task_status(deadline: dict | None, as_of: date) -> str:
    """"recurring" for a periodic/continuous deadline, "overdue" when its date is before
    ``as_of``, else "open" (no deadline, or a deadline still ahead)."""
    if not deadline:
        return "open"
    if deadline.get("recurrence"):
        return "recurring"
    end = period_end(deadline.get("date") or "")
    if end is not None and end < as_of:
        return "overdue"
    return "open"


# --------------------------------------------------------------------------- building

@dataclass
class TaskInfo:
    """What the registry shows of one task."""
    key: str
    source: str
    task_id: str
    text: str
    lead: list[str]
    support: list[str]
    deadline: dict | None
    plan: dict                      # {"number", "issuer", "date", "title", "province"}
    section: str = ""
    product: str | None = None      # Sản phẩm, when the plan states it
    legal_refs: list[str] | None = None   # căn cứ: the symbols (or texts) of the references the task cites


def _province(issuer: str | None) -> str | None:
    from kehoach.search.hybrid import province_of
    return province_of(issuer)


def _ref_labels(ids, refs: dict) -> list[str]:
    out = []
    for rid in ids or []:
        r = refs.get(rid)
        if r:
            lab = r.get("symbol") or r.get("text") if isinstance(r, dict) else (r.symbol or r.text)
            if lab and lab not in out:
                out.append(lab)
    return out


def info_from_extraction(ext, plan: str | None = None) -> list[TaskInfo]:
    from dataclasses import asdict
    pk = plan if plan is not None else Path(ext.source).stem
    doc = ext.document
    pinfo = {"number": doc.number, "issuer": doc.issuer, "date": doc.date, "title": doc.title,
             "province": getattr(doc, "province", None) or _province(doc.issuer)}
    refs = {r.id: r for r in ext.legal_refs}
    return [TaskInfo(f"{pk}:{t.id}", ext.source, t.id, t.text, list(t.lead), list(t.support),
                     asdict(t.deadline) if t.deadline else None, dict(pinfo), t.section or "",
                     getattr(t, "product", None) or None, _ref_labels(t.legal_refs, refs)) for t in ext.tasks]


def info_from_record(rec, refs: dict | None = None) -> TaskInfo:
    p = rec.plan
    return TaskInfo(rec.key, p.source, rec.task_id, rec.text, list(rec.lead), list(rec.support), rec.deadline,
                    {"number": p.number, "issuer": p.issuer, "date": p.date, "title": p.title,
                     "province": p.province or _province(p.issuer)}, rec.section or "",
                    getattr(rec, "product", None) or None, _ref_labels(rec.legal_refs, refs or {}))


def cluster_label(keys: Sequence[str], linker) -> str:
    """The member closest to the others (medoid by link probability), first clause, ≤ 100 chars."""
    if len(keys) == 1:
        best = keys[0]
    else:
        best = max(keys, key=lambda k: sum(linker.prob(k, o) for o in keys if o != k
                                           and linker.tasks[o].plan != linker.tasks[k].plan))
    text = " ".join(linker.tasks[best].text.replace("*", " ").split())
    for sep in (";", ". "):
        if sep in text[20:]:
            text = text[:text.index(sep, 20)]
    return text if len(text) <= 100 else text[:99].rsplit(" ", 1)[0] + "…"


def member_hash(info: "TaskInfo") -> str:
    """A task's stable key: its plan's source and its words (not the corpus's plan id or an index)."""
    text = " ".join(info.text.split())
    return hashlib.sha1(f"{info.source}\n{text}".encode("utf-8")).hexdigest()


def cluster_id(keys: Iterable[str], infos: dict | None = None, taken: set | None = None) -> str:
    """The id of a cluster: the smallest of its members' stable keys, so it stays the same when
    plans are added as long as that member stays (another cluster sharing it gets the next one)."""
    hashes = sorted(member_hash(infos[k]) if infos and k in infos else
                    hashlib.sha1(k.encode("utf-8")).hexdigest() for k in keys)
    for h in hashes:
        cid = "c" + h[:10]
        if taken is None or cid not in taken:
            return cid
    return "c" + hashlib.sha1("\n".join(hashes).encode("utf-8")).hexdigest()[:10]


def without_boilerplate(clusters: list, infos: dict[str, TaskInfo]) -> list[list[str]]:
    """Form labels ("Thời gian thực hiện: ...", "Tổ chức thực hiện") are taken out of every
    cluster and listed alone: clusters never form around them."""
    from kehoach.search.text import is_boilerplate
    out, seen = [], set()
    for keys in clusters:
        real = [k for k in keys if not (k in infos and is_boilerplate(infos[k].text))]
        groups = [real] + [[k] for k in keys if k not in real] if len(keys) > 1 else [list(keys)]
        for g in groups:
            t = tuple(sorted(g))
            if t and t not in seen:
                seen.add(t)
                out.append(list(t))
    return out


def build_registry(linker, infos: dict[str, TaskInfo], as_of: date,
                   citations: list[dict] | None = None) -> dict:
    """Clusters of ``linker`` -> the registry dict (shape in the module docs)."""
    from kehoach.corpus.link import evidence_text
    from kehoach.search.tasks import STATUS_VI, status_of
    clusters = without_boilerplate(linker.clusters(), infos)
    clusters.sort(key=lambda c: (-len(c), min(c)))
    out = []
    taken: set[str] = set()
    for keys in clusters:
        if len(keys) > 1:        # evidence of the pairs inside the cluster
            inside = [(a, b) for i, a in enumerate(sorted(keys)) for b in sorted(keys)[i + 1:]
                      if linker.tasks[a].plan != linker.tasks[b].plan]
            pair_links = sorted(((linker.prob(a, b), a, b) for a, b in inside), reverse=True)
        else:
            pair_links = []
        best: dict[str, str] = {}
        for p, a, b in pair_links:
            for x, y in ((a, b), (b, a)):
                if x not in best and y in infos:
                    other = infos[y].plan.get("number") or infos[y].source
                    best[x] = f"cùng {other} {infos[y].task_id} (p {p:.2f}): {evidence_text(linker.evidence(x, y))}"
        keys = sorted(keys)
        tasks = []
        for k in keys:
            i = infos[k]
            tasks.append({"source": i.source, "task_id": i.task_id, "text": i.text, "lead": i.lead,
                          "support": i.support, "deadline": i.deadline, "plan": i.plan,
                          "section": i.section, "product": i.product, "legal_refs": list(i.legal_refs or []),
                          "link_evidence": best.get(k, ""),
                          "status": task_status(i.deadline, as_of),
                          "tinh_trang": STATUS_VI[status_of(i.deadline, as_of)]})
        cid = cluster_id(keys, infos, taken)
        taken.add(cid)
        entry = {"id": cid, "label": cluster_label(keys, linker), "size": len(keys), "tasks": tasks}
        if len(keys) > 1:
            from kehoach.corpus.link import Link
            entry["links"] = [Link(a, b, p, linker.evidence(a, b)).to_dict() for p, a, b in pair_links]
        out.append(entry)
    reg = {"as_of": as_of.isoformat(), "clusters": out}
    if citations is not None:
        reg["citations"] = citations
    return reg


def registry_from_extractions(exts, embedder, as_of: date, *, model=None, segmenter=None) -> dict:
    """Registry of a list of ``Extraction`` records (plans keyed by their source stem)."""
    from kehoach.corpus.link import Linker, PlanRef, citation_links, tasks_from_extraction
    linker = Linker(embedder, model, segmenter=segmenter)
    infos: dict[str, TaskInfo] = {}
    for e in exts:
        linker.add(tasks_from_extraction(e))
        infos.update((i.key, i) for i in info_from_extraction(e))
    plans = [PlanRef(Path(e.source).stem, e.document.number, e.document.issuer, e.document.date, tuple(e.legal_refs))
             for e in exts]
    return build_registry(linker, infos, as_of, citation_links(plans))


def registry_from_corpus(corpus, as_of: date, *, embedder=None, progress: bool | None = False) -> dict:
    """``progress``: the linking steps on stderr (None = on; the CLI turns it on)."""
    from kehoach.corpus.link import PlanRef, citation_links, linker_for_corpus
    linker = linker_for_corpus(corpus, embedder=embedder, progress=progress)
    infos = {}
    refs: dict[int, dict] = {}
    for rec in corpus.tasks():
        if rec.plan_id not in refs:
            refs[rec.plan_id] = {r.get("id"): r for r in corpus.refs(rec.plan_id)}
        infos[rec.key] = info_from_record(rec, refs[rec.plan_id])
    plans = []
    for p in corpus.plans():
        plans.append(PlanRef(str(p.id), p.number, p.issuer, p.date, tuple(corpus.refs(p.id))))
    return build_registry(linker, infos, as_of, citation_links(plans))


# --------------------------------------------------------------------------- rows: CSV / XLSX

ROW_FIELDS = ["cluster_id", "plan_number", "plan_date", "plan_title", "plan_issuer", "province", "section",
              "task_id", "text", "lead", "support", "deadline_date", "deadline_text", "product", "legal_refs",
              "status", "cluster_label", "cluster_size", "deadline_recurrence", "deadline_day", "source",
              "link_evidence"]
OPTIONAL_FIELDS = {"link_evidence"}     # a sheet written before the column existed still reads
HEADERS_VI = {  # the header row people read (the Government's task-tracking fields); the reader accepts either
    "cluster_id": "Mã cụm", "cluster_label": "Nhiệm vụ chung", "cluster_size": "Số nhiệm vụ trong cụm",
    "source": "Tệp nguồn", "plan_number": "Số hiệu văn bản giao", "plan_issuer": "Cơ quan ban hành",
    "plan_date": "Ngày ban hành", "plan_title": "Trích yếu", "province": "Tỉnh/thành", "section": "Mục",
    "task_id": "Mã nhiệm vụ", "text": "Nhiệm vụ", "lead": "Cơ quan chủ trì",
    "support": "Cơ quan phối hợp", "deadline_text": "Thời hạn", "deadline_date": "Hạn (ngày)",
    "product": "Sản phẩm", "legal_refs": "Căn cứ", "deadline_recurrence": "Định kỳ",
    "deadline_day": "Ngày trong kỳ", "status": "Tình trạng",
    "link_evidence": "Căn cứ liên kết",
}
SEP = "; "
# Vietnamese status -> the registry's status code (task_status)
STATUS_CODE = {"Quá hạn": "overdue", "Thường xuyên": "recurring"}


def registry_rows(reg: dict) -> list[dict]:
    from kehoach.search.tasks import STATUS_VI, status_of
    as_of = parse_as_of(reg.get("as_of")) if reg.get("as_of") else date.today()
    rows = []
    for c in reg["clusters"]:
        for t in c["tasks"]:
            d = t.get("deadline") or {}
            p = t.get("plan") or {}
            vi = t.get("tinh_trang") or STATUS_VI[status_of(t.get("deadline"), as_of)]
            rows.append({"cluster_id": c["id"], "cluster_label": c["label"], "cluster_size": len(c["tasks"]),
                         "source": t["source"], "plan_number": p.get("number") or "",
                         "plan_issuer": p.get("issuer") or "", "plan_date": p.get("date") or "",
                         "plan_title": p.get("title") or "", "province": p.get("province") or "",
                         "section": t.get("section") or "", "product": t.get("product") or "",
                         "legal_refs": SEP.join(t.get("legal_refs") or []),
                         "task_id": t["task_id"], "text": t["text"], "lead": SEP.join(t.get("lead") or []),
                         "support": SEP.join(t.get("support") or []), "deadline_text": d.get("text") or "",
                         "deadline_date": d.get("date") or "", "deadline_recurrence": d.get("recurrence") or "",
                         "deadline_day": "" if d.get("day") is None else d["day"], "status": vi,
                         "link_evidence": t.get("link_evidence") or ""})
    return rows


def rows_to_registry(rows: Iterable[dict]) -> dict:
    """Rows (as written by ``write_csv``/``write_xlsx``) back to the registry's clusters."""
    clusters: dict[str, dict] = {}
    for r in rows:
        r = {k: ("" if v is None else (v.date().isoformat() if isinstance(v, datetime) else
                                       v.isoformat() if isinstance(v, date) else str(v))) for k, v in r.items()}
        c = clusters.setdefault(r["cluster_id"], {"id": r["cluster_id"], "label": r["cluster_label"], "tasks": []})
        deadline = None
        if r["deadline_text"] or r["deadline_date"] or r["deadline_recurrence"]:
            day = r["deadline_day"]
            deadline = {"text": r["deadline_text"], "date": r["deadline_date"] or None,
                        "recurrence": r["deadline_recurrence"] or None,
                        "day": int(float(day)) if day not in ("", None) else None}
        c["tasks"].append({"source": r["source"], "task_id": r["task_id"], "text": r["text"],
                           "lead": [x for x in r["lead"].split(SEP) if x], "support": [x for x in r["support"].split(SEP) if x],
                           "deadline": deadline,
                           "plan": {"number": r["plan_number"] or None, "issuer": r["plan_issuer"] or None,
                                    "date": r["plan_date"] or None, "title": r["plan_title"] or None,
                                    "province": r["province"] or None},
                           "section": r["section"], "product": r["product"] or None,
                           "legal_refs": [x for x in r["legal_refs"].split(SEP) if x],
                           "status": STATUS_CODE.get(r["status"], r["status"] if r["status"] in
                                                     ("open", "overdue", "recurring") else "open"),
                           "tinh_trang": r["status"], "link_evidence": r.get("link_evidence") or ""})
    return {"clusters": list(clusters.values())}


def _header_map(header: Sequence[str], where: str) -> list[str]:
    rev = {v: k for k, v in HEADERS_VI.items()}
    names = [rev.get(h, h) for h in (str(x or "").strip() for x in header)]
    missing = [f for f in ROW_FIELDS if f not in names and f not in OPTIONAL_FIELDS]
    if missing:
        raise RegistryError(f"{where}: not a registry sheet (missing columns: {', '.join(missing)})")
    return names


def write_csv(reg: dict, out) -> None:
    w = csv.writer(out)
    w.writerow([HEADERS_VI[f] for f in ROW_FIELDS])
    for r in registry_rows(reg):
        w.writerow([r[f] for f in ROW_FIELDS])


def read_csv(path: Path | str) -> dict:
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as f:
            rd = csv.reader(f)
            header = next(rd, None)
            if header is None:
                raise RegistryError(f"{p}: empty file")
            names = _header_map(header, str(p))
            return rows_to_registry(dict(zip(names, row)) for row in rd if any(row))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise RegistryError(f"{p}: cannot read CSV ({e})") from None


WIDTHS = {"cluster_id": 13, "cluster_label": 45, "cluster_size": 8, "source": 22, "plan_number": 14,
          "plan_title": 40, "province": 14, "section": 9, "product": 30, "legal_refs": 28,
          "plan_issuer": 28, "plan_date": 11, "task_id": 8, "text": 80, "lead": 30, "support": 30,
          "deadline_text": 24, "deadline_date": 11, "deadline_recurrence": 11, "deadline_day": 8, "status": 11,
          "link_evidence": 50}


def write_xlsx(reg: dict, path: Path | str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Registry"
    ws.append([HEADERS_VI[f] for f in ROW_FIELDS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    wrap = Alignment(wrap_text=True, vertical="top")
    dates = {ROW_FIELDS.index(f) for f in ("plan_date", "deadline_date")}
    for r in registry_rows(reg):
        vals = [r[f] for f in ROW_FIELDS]
        for j in dates:                      # full dates are real dates (Excel sorts and filters them)
            if isinstance(vals[j], str) and len(vals[j]) == 10:
                try:
                    vals[j] = date.fromisoformat(vals[j])
                except ValueError:
                    pass
        ws.append(vals)
        for j, cell in enumerate(ws[ws.max_row]):
            cell.alignment = wrap
            if j in dates and isinstance(cell.value, (date, datetime)):
                cell.number_format = "DD/MM/YYYY"
    for i, f in enumerate(ROW_FIELDS, 1):
        ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(f, 15)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(ROW_FIELDS))}{max(ws.max_row, 1)}"
    try:
        wb.save(str(path))
    except OSError as e:
        raise RegistryError(f"{path}: cannot write ({e.strerror or e})") from None


def read_xlsx(path: Path | str) -> dict:
    from openpyxl import load_workbook
    p = Path(path)
    try:
        wb = load_workbook(str(p), read_only=True, data_only=True)
    except Exception as e:
        raise RegistryError(f"{p}: cannot read XLSX ({type(e).__name__})") from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if header is None:
        raise RegistryError(f"{p}: empty sheet")
    names = _header_map(header, str(p))
    reg = rows_to_registry(dict(zip(names, row)) for row in it if any(v not in (None, "") for v in row))
    wb.close()
    return reg


def read_registry(path: Path | str) -> dict:
    p = Path(path)
    if not p.exists():
        raise RegistryError(f"{p}: no such file")
    if p.suffix.lower() == ".xlsx":
        return read_xlsx(p)
    if p.suffix.lower() == ".csv":
        return read_csv(p)
    if p.suffix.lower() == ".json":
        try:
            return json.loads(p.read_text("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise RegistryError(f"{p}: not JSON ({e})") from None
    raise RegistryError(f"{p}: unsupported registry format (expected .json, .csv or .xlsx)")


def write_registry(reg: dict, fmt: str, out: str | None) -> None:
    if fmt == "xlsx":
        if not out:
            raise RegistryError("--format xlsx needs --out FILE")
        write_xlsx(reg, out)
        return
    buf = io.StringIO(newline="") if fmt == "csv" else io.StringIO()
    if fmt == "csv":
        write_csv(reg, buf)
    else:
        json.dump(reg, buf, ensure_ascii=False, indent=1)
        buf.write("\n")
    if out:
        try:
            Path(out).write_text(buf.getvalue(), "utf-8-sig" if fmt == "csv" else "utf-8",
                                 newline="" if fmt == "csv" else None)
        except OSError as e:
            raise RegistryError(f"{out}: cannot write ({e.strerror or e})") from None
    elif fmt == "csv":                      # with a BOM, so Excel reads the Vietnamese as UTF-8
        sys.stdout.buffer.write(("\ufeff" + buf.getvalue()).encode("utf-8"))
        sys.stdout.flush()
    else:
        sys.stdout.write(buf.getvalue())


# --------------------------------------------------------------------------- CLI

def _open_corpus(args, readonly: bool = False):
    from kehoach.corpus.home import resolve_home
    from kehoach.corpus.store import Corpus
    return Corpus(resolve_home(getattr(args, "home", None)), readonly=readonly)


def cmd_registry(args) -> int:
    from kehoach.corpus.embed import CachedEmbedder, get_embedder
    as_of = parse_as_of(args.as_of)
    corpus = _open_corpus(args)
    emb = CachedEmbedder(get_embedder(args.model), corpus)
    reg = registry_from_corpus(corpus, as_of, embedder=emb, progress=None)
    write_registry(reg, args.format, args.out)
    return 0


def cmd_link(args) -> int:
    from kehoach.corpus.embed import CachedEmbedder, get_embedder
    from kehoach.corpus.link import linker_for_corpus
    corpus = _open_corpus(args)
    emb = CachedEmbedder(get_embedder(args.model), corpus)
    linker = linker_for_corpus(corpus, embedder=emb, progress=None)
    links = linker.links()
    clusters = [c for c in linker.clusters() if len(c) > 1]
    if args.json:
        json.dump({"links": [l.to_dict() for l in links], "clusters": clusters}, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(f"{len(linker.tasks)} tasks, {len(linker.candidates)} candidate pairs, {len(links)} links, "
              f"{len(clusters)} clusters of 2+ tasks")
        for l in links:
            print(f"{l.prob:.2f}\t{l.a}\t{l.b}\t{', '.join(l.evidence.get('shared_words', []))}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("registry", help="the task registry: one entry per cluster of linked tasks")
    p.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
    p.add_argument("--out", help="output file (required for xlsx; default stdout)")
    p.add_argument("--as-of", dest="as_of", help="date for the status, dd/mm/yyyy or YYYY-MM-DD (default today)")
    p.add_argument("--model", help="embedder: e5 (default) or a sentence-transformers name/path")
    p.set_defaults(func=cmd_registry)
    q = sub.add_parser("link", help="link the tasks of different plans that are the same commitment")
    q.add_argument("--model", help="embedder: e5 (default) or a sentence-transformers name/path")
    q.add_argument("--json", action="store_true", help="print the links with their evidence as JSON")
    q.set_defaults(func=cmd_link)
