"""Cross-plan linking: tasks of different plans that are the same commitment.

Pipeline of small stages, each usable alone:

1. ``LinkTask`` records (text, kind, owners, metrics) from extractions or the corpus;
2. ``Lexicon`` — segmented content words and word bigrams with corpus IDF weights;
3. ``NeighbourIndex`` — faiss nearest neighbours on the embeddings (exact
   ``IndexFlatIP`` for small corpora, ``IndexHNSWFlat`` past ``HNSW_MIN``), so
   the candidates of a new task cost O(k log n), not O(n);
4. ``split_clauses`` — a long task states several commitments, one a clause
   (split at ";" and sentence ends); each clause is segmented, and embedded
   (cached by text hash) when a pair of the task is first scored, so two tasks
   that share ONE clause's topic can match;
5. ``pair_features`` — the evidence of one pair: embedding cosine of the tasks and
   of their best clause pair, IDF-weighted overlap of words and of word bigrams,
   whole and best clause pair (what separates "công khai thủ tục hành chính" from
   "công khai kết quả đánh giá"), the rarest shared word, indicator/task kind;
6. ``LinkModel`` — a logistic model over the features, fitted on the gold links
   (``fit_link_model``; numbers kept in ``kehoach/data/link_model.json``);
7. ``commitment_clusters`` — overlapping clusters ("commitments"): each strong
   link (p >= ``link_threshold``) seeds a cluster that grows greedily by the task
   whose mean probability to all cross-plan members is highest, while that mean
   stays >= ``cluster_threshold`` and no member pair is below ``floor``. A task
   may serve several commitments (a partition would cap recall); clusters
   contained in another are dropped; tasks in none are singletons.

``update(corpus, added, removed)`` keeps the links of a corpus current: only the
new tasks are embedded (cached) and searched; edges are stored with their evidence.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from kehoach.corpus.segment import SegmentCache, content_words, opens_with_action

DATA = Path(__file__).resolve().parent.parent / "data"
MODEL_PATH = DATA / "link_model.json"
HNSW_MIN = 50_000        # below this many tasks an exact flat index is faster (see benchmarks/bench_link.py)
K_NEIGHBOURS = 12        # candidates per task
TAIL_MAX = 20_000        # rows searched exactly beside the HNSW graph before they join it (NeighbourIndex)
VEC_CACHE_MAX = 150_000   # tf-idf vectors a Lexicon keeps (~1.4 KB each, ~200 MB): a resident process stays bounded


# --------------------------------------------------------------------------- records

@dataclass(frozen=True)
class LinkTask:
    key: str                      # unique in the corpus: "<plan>:<task id>"
    plan: str                     # plan key: pairs inside one plan are never links
    task_id: str
    text: str
    kind: str = "task"            # "task" | "indicator"
    lead: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()    # normalized symbols of the legal documents it cites ("149/2025/QH15")
    context: str = ""             # the heading path of the task
    plan_refs: tuple[str, ...] = ()   # normalized symbols of every document the task's plan cites
    plan_number: str | None = None    # the plan's own symbol ("116/KH-UBND"), normalized
    deadline_kind: str = ""           # "" | "date" | "recurring" | "relative" (N days from an event) | "text"
    plan_title: str = ""              # the plan's title: what it is about ("Phát động đợt thi đua ...")


_LABEL = re.compile(r"^\s*\*?[^:*]{0,160}?:\*\s*")   # "*Tiêu chí thành phần X:* ..." italic label


def link_text(text: str) -> str:
    """The text that is embedded and segmented: markdown emphasis dropped, spaces collapsed."""
    t = text.replace("*", " ")
    return " ".join(t.split())


_CLAUSE_CUT = re.compile(r"\s*;\s*|(?<=[.:!?])\s+(?=[\"“(]?[A-ZĐÀ-Ỹ0-9])")
MIN_CLAUSE_WORDS = 4


def split_clauses(text: str) -> list[str]:
    """The clauses of a task's text (``link_text`` applied): cut at ";" and at a sentence
    end (". ", ": " before a capital or a digit); a piece shorter than ``MIN_CLAUSE_WORDS``
    words joins the previous one. One clause (the whole text) when nothing cuts."""
    t = link_text(text)
    out: list[str] = []
    for piece in _CLAUSE_CUT.split(t):
        piece = piece.strip(" ;")
        if not piece:
            continue
        if out and (len(piece.split()) < MIN_CLAUSE_WORDS or len(out[-1].split()) < MIN_CLAUSE_WORDS):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out or [t]


_SYMBOL_IN_TEXT = re.compile(r"(?<![\w/])\d{1,5}/(?:\d{4}/)?[A-ZĐ][A-ZĐa-z0-9]*(?:-[A-ZĐa-z0-9]+)*(?![\w/])")


def cited_symbols(text: str, refs: Iterable = ()) -> tuple[str, ...]:
    """Normalized symbols of the documents a task cites: its legal references (records or dicts
    with ``symbol``) and the symbols written in its text ("Luật số 74/2025/QH15", "892/QĐ-TTg")."""
    out = list(_plan_symbols(refs))
    for m in _SYMBOL_IN_TEXT.finditer(text or ""):
        n = normalize_symbol(m.group(0))
        if n and n not in out:
            out.append(n)
    return tuple(out)


_TITLE_DATE = re.compile(r"\bngày\s+\d{1,2}(?:\s*tháng\s*|\s*[/.-]\s*)\d{1,2}(?:\s*năm\s*|\s*[/.-]\s*)\d{4}", re.I)
_NUMBER_WORD = re.compile(r"\bsố\s*$", re.I)      # "Quyết định số" before a symbol cut out


def title_parts(title: str) -> tuple[str, tuple[str, ...]]:
    """A plan's title as (its words without the citations' form, the documents it names): "Ban hành
    Kế hoạch triển khai Quyết định số 06/QĐ-TTg ngày 02 tháng 01 năm 2025 của Thủ tướng Chính phủ"
    -> ("Ban hành Kế hoạch triển khai Quyết định của Thủ tướng Chính phủ", ("06/QD-TTG",)): the
    dates and numbers every citation writes are no subject. Symbols as the citation stage finds them
    (``extract.citations.find_symbols``: "06/QĐ-TTg", the Party's "210-KL/TW")."""
    from kehoach.extract.citations import find_symbols
    title = title or ""
    found = find_symbols(title)
    symbols = tuple(dict.fromkeys(n for n in (normalize_symbol(m.symbol) for m in found) if n))
    pieces, pos = [], 0
    for m in found:
        pieces.append(_NUMBER_WORD.sub("", title[pos:m.start]))
        pos = m.end
    pieces.append(title[pos:])
    return " ".join(_TITLE_DATE.sub(" ", " ".join(pieces)).split()), symbols


_RELATIVE = re.compile(r"\b(\d+|một|hai|ba|năm|mười|mười lăm|ba mươi)\s+(ngày|tháng|giờ)\b[^.;]{0,60}?\bkể từ\b", re.I)


def deadline_kind(deadline, text: str = "") -> str:
    """The kind of a task's deadline: "relative" (a time limit counted from an event, "Trong thời hạn
    10 ngày làm việc kể từ ngày nhận đủ hồ sơ": a step of a procedure), "recurring", "date", "text"
    (a deadline without a date), or "" (none)."""
    get = (deadline.get if isinstance(deadline, dict) else (lambda k: getattr(deadline, k, None))) if deadline else None
    dtext = (get("text") or "") if get else ""
    if _RELATIVE.search(dtext) or _RELATIVE.search(text[:200]):
        return "relative"
    if not get:
        return ""
    if get("recurrence"):
        return "recurring"
    return "date" if get("date") else "text"


def _plan_symbols(refs) -> tuple[str, ...]:
    """Normalized symbols of legal references (records or dicts with ``symbol``), each once, in order."""
    out = []
    for r in refs:
        sym = r.get("symbol") if isinstance(r, dict) else getattr(r, "symbol", None)
        n = normalize_symbol(sym)
        if n and n not in out:
            out.append(n)
    return tuple(out)


def tasks_from_extraction(ext, plan: str | None = None) -> list[LinkTask]:
    """LinkTasks of one ``Extraction`` (plan key: ``plan`` or the source's stem)."""
    pk = plan if plan is not None else Path(ext.source).stem
    refs = {r.id: r for r in ext.legal_refs}
    prefs = _plan_symbols(ext.legal_refs)
    number = normalize_symbol(getattr(ext.document, "number", None))
    out = []
    for t in ext.tasks:
        out.append(LinkTask(key=f"{pk}:{t.id}", plan=pk, task_id=t.id, text=t.text, kind=t.kind or "task",
                            lead=tuple(t.lead), support=tuple(t.support),
                            metrics=tuple(x.metric for x in t.targets if getattr(x, "metric", None)),
                            refs=cited_symbols(t.text, [refs[i] for i in t.legal_refs if i in refs]),
                            context=getattr(t, "context", "") or "", plan_refs=prefs, plan_number=number,
                            deadline_kind=deadline_kind(t.deadline, t.text),
                            plan_title=getattr(ext.document, "title", None) or ""))
    return out


def task_from_record(rec, refs: dict | None = None) -> LinkTask:
    """A LinkTask from the corpus store's ``TaskRecord`` (``refs``: its plan's references by id)."""
    refs = refs or {}
    plan = getattr(rec, "plan", None)
    return LinkTask(key=rec.key, plan=str(rec.plan_id), task_id=rec.task_id, text=rec.text, kind=rec.kind or "task",
                    lead=tuple(rec.lead), support=tuple(rec.support),
                    metrics=tuple(t.get("metric") for t in (rec.targets or []) if t.get("metric")),
                    refs=cited_symbols(rec.text, [refs[i] for i in (rec.legal_refs or []) if i in refs]),
                    context=getattr(rec, "context", "") or "", plan_refs=_plan_symbols(refs.values()),
                    plan_number=normalize_symbol(getattr(plan, "number", None)),
                    deadline_kind=deadline_kind(rec.deadline, rec.text),
                    plan_title=getattr(plan, "title", None) or "")


# --------------------------------------------------------------------------- what can be linked

TEMPLATE_MIN_PLANS = 10     # plan frequency separates a template from a shared commitment only in a corpus this big
TEMPLATE_PLAN_SHARE = 0.2   # a word pair in this share of the plans (and 4+ plans) is template wording
TEMPLATE_TEXT_SHARE = 0.8   # a task whose word pairs are this much template wording is a template
BASIS_PLAN_SHARE = 0.2      # a legal document cited by more than this share of the plans is no shared programme
OBJECT_MIN = 0.0            # a link needs this share of its words to be the same object (Lexicon.object_cover); 0: off (0.05 cost the seeds 0.17 recall)
ACTION_MIN = 0.0            # ... and, when both state actions, the same first action or this share of them in common; 0: off (0.3 halved the seeds recall)
PHRASE_MIN_PLANS = 10       # from this many plans a link needs a shared run of words (Lexicon.rarest_run) ...
PHRASE_PLAN_SHARE = 0.06    # ... that at most this share of the plans (or 2) write: a domain term is no evidence
PHRASE_TOPIC_MAX = 0.15     # ... and that at most this share of either plan's tasks write (not the plans' own topic)
PLAN_MIN = 0.2              # plans less alike than this (Lexicon.plan_similarity) link only through a shared basis
TITLE_MIN = 0.15            # from TEMPLATE_MIN_PLANS plans, plans whose titles are less alike (Linker.title_similarity) are two subjects
NEAREST_MIN_PLANS = 10      # from this many plans a link needs one task to be the other's nearest in its plan (Linker.nearest_in)


def is_owner_list(text: str) -> bool:
    """A list of bodies and nothing else ("Các bộ, cơ quan ngang bộ; Ủy ban nhân dân các tỉnh, thành
    phố trực thuộc Trung ương"): every part ``split_bodies`` finds is a clean body name; in the
    "owner: text" form both sides are."""
    from kehoach.extract.bodies import is_body_phrase, split_bodies
    text = text.strip().rstrip(".;:")
    head, colon, rest = text.partition(":")
    if colon and rest.strip():              # "Sở Nội vụ: Tăng cường công tác kiểm tra công vụ": owner, then its task
        return is_owner_list(head) and is_owner_list(rest)
    semi = [p.strip() for p in text.split(";") if p.strip()]
    if len(semi) >= 2 and all(is_body_phrase(p) for p in semi):      # names with commas inside, ";" between
        return True
    parts = [p for p in split_bodies(text) if p.strip()]
    return bool(parts) and all(is_body_phrase(p) for p in parts)


_OWN_DOCUMENT = re.compile(r"\b(kế hoạch|chỉ thị|quyết định|đề án|chương trình|công văn|nghị quyết|văn bản|quy chế|"
                           r"quy định|thông báo)\s+này\b", re.I)


def non_task_reason(t: LinkTask, actions: Sequence[str]) -> str | None:
    """Why a task can never be linked, or None: a form field of the task above it ("Thời gian
    thực hiện: ...", "Đơn vị chủ trì: ...", "Nguồn kinh phí: ...", "Sản phẩm: ..."), a form label
    with a short value, a bare list of bodies, or a text with no action ("Các sở, ban, ngành; UBND các phường, xã";
    a bare indicator name) unless it is an indicator with a target; a task about its own document
    ("... kết quả thực hiện Kế hoạch này", citing nothing else): each plan's follow-up is its own."""
    from kehoach.extract.tasks import task_field
    from kehoach.search.text import is_boilerplate
    text = link_text(t.text)
    f = task_field(text)
    if f is not None:
        return f"field:{f[0]}"
    if is_boilerplate(text):
        return "form label"
    if is_owner_list(text):
        return "owner list"
    if _OWN_DOCUMENT.search(text) and not t.refs:
        return "own plan"           # "báo cáo kết quả thực hiện Kế hoạch này": each plan's own follow-up
    if not actions:
        if t.kind == "indicator" and (t.metrics or re.search(r"\d", text)):
            return None
        if opens_with_action(text):     # "Tiếp tục triển khai thực hiện các quy định về cơ chế một cửa ..."
            return None
        return "no action"
    return None


# --------------------------------------------------------------------------- lexical evidence

@dataclass
class Lexicon:
    """Content words / bigrams of each task with document frequencies over the tasks.

    IDF is ``log((N + 1) / (df + 1)) + 1``; weights are tf-idf, vectors L2-normalized,
    kept as small dicts (tasks have tens of words) so a pair costs microseconds.
    """
    df: Counter = field(default_factory=Counter)
    n: int = 0
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)      # key -> content words
    bigrams: dict[str, tuple[str, ...]] = field(default_factory=dict)
    clauses: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)   # key -> content words per clause
    _vec: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    postings: dict[str, set] = field(default_factory=dict)
    _idf: dict[str, float] = field(default_factory=dict)
    _mass: dict[tuple[str, str], float] = field(default_factory=dict)
    _n_at_clear: int = 0
    plan_of: dict[str, str] = field(default_factory=dict)             # key -> plan
    plan_terms: dict[str, Counter] = field(default_factory=dict)      # plan -> term -> tasks of the plan with it
    plan_df: Counter = field(default_factory=Counter)                 # term -> plans with it
    _plan_vec: dict[str, dict[str, float]] = field(default_factory=dict)
    _plan_size: dict[str, int] = field(default_factory=dict)           # plan -> its tasks
    _plan_sim: dict[tuple[str, str], float] = field(default_factory=dict)
    _phrase_plans: dict[tuple[str, ...], int] = field(default_factory=dict)

    def _changed(self) -> None:
        """IDF-derived caches are kept until the corpus size moves by more than 10 %:
        IDF barely changes below that, and re-adding a batch stays O(batch). Plan vectors
        (a few per plan) are recomputed after every change."""
        self._plan_vec.clear()
        self._plan_sim.clear()
        self._phrase_plans.clear()
        if abs(self.n - self._n_at_clear) > 0.1 * max(self._n_at_clear, 1) or self.n < 50:
            self._vec.clear()
            self._idf.clear()
            self._mass.clear()
            self._n_at_clear = self.n
        elif len(self._vec) > VEC_CACHE_MAX:   # a long-lived process (``kehoach watch``): memory stays
            self._vec.clear()                  # bounded; the vectors come back the same (IDFs kept)

    def add(self, keys: Sequence[str], segmented: Sequence[Sequence[str]],
            clauses: Sequence[Sequence[Sequence[str]]] | None = None, plans: Sequence[str] | None = None) -> None:
        """``clauses``: the segmented words of each task's clauses (default: one clause, the task);
        ``plans``: each task's plan (for plan frequencies; default: the key before ":")."""
        for i, (k, words) in enumerate(zip(keys, segmented)):
            if k in self.words:
                self.remove([k])
            cw = tuple(content_words(words))
            self.clauses[k] = [tuple(content_words(c)) for c in clauses[i]] if clauses is not None else [cw]
            bg = tuple(f"{a}+{b}" for a, b in zip(cw, cw[1:]))
            self.words[k], self.bigrams[k] = cw, bg
            terms = set(cw) | set(bg)
            self.df.update(terms)
            for t in terms:
                self.postings.setdefault(t, set()).add(k)
            plan = plans[i] if plans is not None else k.split(":", 1)[0]
            self.plan_of[k] = plan
            self._plan_size[plan] = self._plan_size.get(plan, 0) + 1
            pt = self.plan_terms.setdefault(plan, Counter())
            for t in terms:
                if pt[t] == 0:
                    self.plan_df[t] += 1
                pt[t] += 1
            self.n += 1
        self._changed()

    def remove(self, keys: Iterable[str]) -> None:
        for k in keys:
            cw, bg = self.words.pop(k, None), self.bigrams.pop(k, None)
            if cw is None:
                continue
            for i in range(len(self.clauses.pop(k, ()))):
                self._vec.pop((k, f"w{i}"), None)
                self._vec.pop((k, f"b{i}"), None)
            terms = set(cw) | set(bg)
            self.df.subtract(terms)
            for t in terms:
                self.postings.get(t, set()).discard(k)
            plan = self.plan_of.pop(k, "")
            if plan in self._plan_size:
                self._plan_size[plan] -= 1
            pt = self.plan_terms.get(plan, Counter())
            for t in terms:
                if pt.get(t, 0) > 0:
                    pt[t] -= 1
                    if pt[t] == 0:
                        del pt[t]
                        self.plan_df[t] -= 1
            self.n -= 1
            for c in (self._vec, self._mass):
                c.pop((k, "w"), None)
                c.pop((k, "b"), None)
        self._changed()

    def idf(self, term: str) -> float:
        x = self._idf.get(term)
        if x is None:
            x = self._idf[term] = math.log((self.n + 1) / (self.df.get(term, 0) + 1)) + 1.0
        return x

    def mass(self, key: str, which: str) -> float:
        m = self._mass.get((key, which))
        if m is None:
            terms = set(self.words[key] if which == "w" else self.bigrams[key])
            m = self._mass[(key, which)] = sum(self.idf(t) for t in terms)
        return m

    def vector(self, key: str, which: str) -> dict[str, float]:
        v = self._vec.get((key, which))
        if v is None:
            if which == "w":
                terms = self.words[key]
            elif which == "b":
                terms = self.bigrams[key]
            else:                       # "w3" / "b3": words / bigrams of clause 3
                cw = self.clauses[key][int(which[1:])]
                terms = cw if which[0] == "w" else tuple(f"{a}+{b}" for a, b in zip(cw, cw[1:]))
            tf = Counter(terms)
            v = {t: (1 + math.log(c)) * self.idf(t) for t, c in tf.items()}
            norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
            v = {t: x / norm for t, x in v.items()}
            self._vec[(key, which)] = v
        return v

    def cosine(self, a: str, b: str, which: str) -> float:
        va, vb = self.vector(a, which), self.vector(b, which)
        if len(va) > len(vb):
            va, vb = vb, va
        return float(sum(x * vb.get(t, 0.0) for t, x in va.items()))

    def neighbours(self, key: str, k: int, max_df: float = 0.05, min_df: int = 200,
                   max_postings: int = 1000) -> list[tuple[str, float]]:
        """The ``k`` tasks with the highest word tf-idf cosine to ``key``, through the postings of its
        terms; terms in more than max(min_df, min(max_df·N, max_postings)) tasks are skipped, so a
        query reads a bounded number of postings whatever the corpus size (below 20,000 tasks the
        limit is max_df·N; above, a term in 1,000+ tasks weighs little next to the rarer terms
        that find a neighbour, and reading its postings cost most of an add at 100k tasks)."""
        limit = max(min_df, min(int(max_df * self.n), max_postings))
        acc: Counter = Counter()
        va = self.vector(key, "w")
        for t, x in va.items():
            post = self.postings.get(t, ())
            if len(post) > limit:
                continue
            for o in post:
                if o != key:
                    acc[o] += x * self.vector(o, "w").get(t, 0.0)
        return acc.most_common(k)

    def cover(self, a: str, b: str, which: str) -> float:
        """IDF mass of the shared terms over the IDF mass of the smaller text's terms
        (containment: a short indicator inside a long task scores high)."""
        va, vb = self.vector(a, which), self.vector(b, which)
        if not va or not vb:
            return 0.0
        if len(va) > len(vb):
            va, vb = vb, va
        shared = sum(self.idf(t) for t in va if t in vb)
        return shared / max(min(self.mass(a, which), self.mass(b, which)), 1e-9)

    def clause_cosines(self, a: str, b: str) -> tuple[float, float]:
        """The best word and the best bigram tf-idf cosine over pairs of clauses of a and b
        (task-level IDF): one shared clause is enough, whatever else the tasks say."""
        best_w = best_b = 0.0
        for i in range(len(self.clauses[a])):
            for j in range(len(self.clauses[b])):
                best_w = max(best_w, _dot(self.vector(a, f"w{i}"), self.vector(b, f"w{j}")))
                best_b = max(best_b, _dot(self.vector(a, f"b{i}"), self.vector(b, f"b{j}")))
        return best_w, best_b

    def rarest_shared(self, a: str, b: str, which: str = "w") -> float:
        """IDF of the rarest shared word (``which="b"``: word bigram) over the IDF of a term
        seen once (0..1]; 0 when none."""
        sa, sb = (self.words[a], self.words[b]) if which == "w" else (self.bigrams[a], self.bigrams[b])
        shared = set(sa) & set(sb)
        if not shared:
            return 0.0
        top = math.log((self.n + 1) / 2) + 1.0
        return max(self.idf(t) for t in shared) / top

    @property
    def n_plans(self) -> int:
        return sum(1 for c in self.plan_terms.values() if c)

    def plan_idf(self, term: str) -> float:
        """IDF over plans, 0..1: 1 for a term of one plan, 0 for a term of every plan (boilerplate
        every plan writes weighs nothing, whatever a hand list says)."""
        n = max(self.n_plans, 1)
        return math.log((n + 1) / (self.plan_df.get(term, 0) + 1)) / math.log((n + 1) / 2) if n > 1 else 1.0

    def rarest_shared_plan(self, a: str, b: str) -> float:
        """Plan IDF of the rarest shared word bigram (0 when none)."""
        shared = set(self.bigrams[a]) & set(self.bigrams[b])
        return max((self.plan_idf(t) for t in shared), default=0.0)

    def plan_vector(self, plan: str) -> dict[str, float]:
        """A plan's words (not pairs), weighted log(1 + tasks with it) x plan IDF, L2-normalized:
        what the plan is about; wording every plan writes weighs nothing."""
        v = self._plan_vec.get(plan)
        if v is None:
            v = {}
            for t, c in self.plan_terms.get(plan, Counter()).items():
                if "+" in t or c <= 0:
                    continue
                w = math.log1p(c) * self.plan_idf(t)
                if w > 0:
                    v[t] = w
            norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
            v = self._plan_vec[plan] = {t: x / norm for t, x in v.items()}
        return v

    def plan_similarity(self, a: str, b: str) -> float:
        """Cosine of two plans' ``plan_vector``: plans of one programme (two provinces' CCHC plans)
        share their specific vocabulary; a CCHC plan and an emulation campaign share only wording."""
        if a == b:
            return 1.0
        pair = (a, b) if a < b else (b, a)
        x = self._plan_sim.get(pair)
        if x is None:
            x = self._plan_sim[pair] = _dot(self.plan_vector(a), self.plan_vector(b))
        return x

    def plan_cover(self, a: str, b: str) -> float:
        """Plan-IDF mass of the shared word pairs over the smaller task's (0..1): the share of what
        the two tasks say in common that is not wording many plans write."""
        ba, bb = set(self.bigrams[a]), set(self.bigrams[b])
        if not ba or not bb:
            return 0.0
        ma = sum(self.plan_idf(t) for t in ba)
        mb = sum(self.plan_idf(t) for t in bb)
        return sum(self.plan_idf(t) for t in ba & bb) / max(min(ma, mb), 1e-9)

    def object_weight(self, term: str, plan: str) -> float:
        """How much a word pair says about one task's object, 0..1: its plan IDF (wording many plans
        write weighs nothing) times its rarity inside its own plan (the name of the plan's campaign,
        written in most of its tasks, is the plan's topic, not the task's object)."""
        pt = self.plan_terms.get(plan)
        n = self._plan_size.get(plan, 0)
        local = 1.0 - (pt.get(term, 0) - 1) / max(n - 1, 1) if pt and n > 1 else 1.0
        return self.plan_idf(term) * max(local, 0.0)

    def object_cover(self, a: str, b: str) -> float:
        """``object_weight`` mass of the word pairs a and b share over the smaller task's (0..1): the
        share of what they say that is the same object, not the corpus's or their plans' wording."""
        ba, bb = set(self.bigrams[a]), set(self.bigrams[b])
        if not ba or not bb:
            return 0.0
        pa, pb = self.plan_of[a], self.plan_of[b]
        wa = {t: self.object_weight(t, pa) for t in ba}
        wb = {t: self.object_weight(t, pb) for t in bb}
        shared = sum(min(wa[t], wb[t]) for t in ba & bb)
        return shared / max(min(sum(wa.values()), sum(wb.values())), 1e-9)

    def template_share(self, key: str) -> float:
        """The share of a task's word pairs that many plans write (0 below ``TEMPLATE_MIN_PLANS`` plans)."""
        n = self.n_plans
        bg = set(self.bigrams.get(key, ()))
        if n < TEMPLATE_MIN_PLANS or not bg:
            return 0.0
        lim = max(4, TEMPLATE_PLAN_SHARE * n)
        return sum(self.plan_df.get(t, 0) >= lim for t in bg) / len(bg)

    def shared_phrase(self, a: str, b: str) -> str:
        """The longest run of content words both tasks write (what the link rests on)."""
        wa, wb = self.words[a], self.words[b]
        best, end = 0, 0
        prev = [0] * (len(wb) + 1)
        for i in range(1, len(wa) + 1):
            cur = [0] * (len(wb) + 1)
            for j in range(1, len(wb) + 1):
                if wa[i - 1] == wb[j - 1]:
                    cur[j] = prev[j - 1] + 1
                    if cur[j] > best:
                        best, end = cur[j], i
            prev = cur
        return " ".join(wa[end - best:end]).replace("_", " ")

    def shared_runs(self, a: str, b: str, min_len: int = 2) -> list[tuple[str, ...]]:
        """The maximal runs of ``min_len``+ content words both tasks write, longest first: each diagonal
        of equal words started where it cannot be extended backwards, from an index of b's positions
        (the cost is the number of equal word pairs, not the product of the lengths)."""
        wa, wb = self.words[a], self.words[b]
        at: dict[str, list[int]] = {}
        for j, w in enumerate(wb):
            at.setdefault(w, []).append(j)
        runs, la, lb = set(), len(wa), len(wb)
        for i, w in enumerate(wa):
            for j in at.get(w, ()):
                if i and j and wa[i - 1] == wb[j - 1]:
                    continue                    # inside a run that starts before
                n = 1
                while i + n < la and j + n < lb and wa[i + n] == wb[j + n]:
                    n += 1
                if n >= min_len:
                    runs.add(tuple(wa[i:i + n]))
        return sorted(runs, key=lambda r: (-len(r), r))

    def phrase_tasks(self, phrase: tuple[str, ...]) -> Counter:
        """Plan -> how many of its tasks write this run of content words (phrase-level plan
        frequency: a phrase many plans write is a domain term, one most tasks of a plan write is
        that plan's topic; neither is evidence of one commitment)."""
        x = self._phrase_plans.get(phrase)
        if x is None:
            posts = sorted((self.postings.get(f"{u}+{v}", set()) for u, v in zip(phrase, phrase[1:])), key=len)
            keys = set.intersection(*posts) if posts else set(self.postings.get(phrase[0], ()))
            n = len(phrase)
            x = Counter(self.plan_of[k] for k in keys
                        if any(self.words[k][i:i + n] == phrase for i in range(len(self.words[k]) - n + 1)))
            self._phrase_plans[phrase] = x
        return x

    def phrase_plans(self, phrase: tuple[str, ...]) -> int:
        """How many plans have a task writing this run of content words."""
        return len(self.phrase_tasks(phrase))

    def topic_share(self, phrase: tuple[str, ...], plan: str) -> float:
        """The share of a plan's tasks writing this run (its campaign's name: near 1)."""
        return self.phrase_tasks(phrase).get(plan, 0) / max(self._plan_size.get(plan, 0), 1)

    def rarest_run(self, a: str, b: str, topic_max: float = 1.0) -> tuple[str, int]:
        """The shared run of words (``shared_runs``) the fewest plans write, and how many do
        (ties: the longer), leaving out a run more than ``topic_max`` of either plan's tasks
        write (the plans' own topic); ("", 0) when no such run of two words is shared."""
        best = None
        pa, pb = self.plan_of[a], self.plan_of[b]
        fewest = 1 if pa == pb else 2               # both plans write every shared run
        for r in self.shared_runs(a, b):
            if topic_max < 1.0 and max(self.topic_share(r, pa), self.topic_share(r, pb)) > topic_max:
                continue
            k = (self.phrase_plans(r), -len(r))
            if best is None or k < best[0]:
                best = (k, r)
                if k[0] <= fewest:
                    break                           # the runs come longest first: none can beat it
        return (" ".join(best[1]).replace("_", " "), best[0][0]) if best else ("", 0)

    def shared(self, a: str, b: str, top: int = 6) -> list[str]:
        """The shared words that weigh most (evidence shown to people)."""
        sa, sb = set(self.words[a]), set(self.words[b])
        return sorted(sa & sb, key=lambda t: -self.idf(t))[:top]


def _dot(va: dict[str, float], vb: dict[str, float]) -> float:
    if len(va) > len(vb):
        va, vb = vb, va
    return float(sum(x * vb.get(t, 0.0) for t, x in va.items()))


# --------------------------------------------------------------------------- features and model

FEATURES = ["cos", "lex", "bigram", "cover", "bigram_cover", "both_indicator", "mixed_kind", "metric", "owner",
            "clause_cos", "clause_lex", "clause_bigram", "rare", "rare_bigram",
            "action", "first_action", "refs_shared", "refs_conflict", "plan_rare",
            "plan_cover", "plan_basis", "relative", "deadline_conflict", "object_cover"]


def cite_other_documents(a: LinkTask, b: LinkTask) -> bool:
    """Both tasks cite legal documents and none in common: each carries out its own."""
    return bool(a.refs) and bool(b.refs) and not set(a.refs) & set(b.refs)


def _owner_set(t: LinkTask) -> set[str]:
    return {x.casefold() for x in t.lead}


def action_overlap(va: Sequence[str], vb: Sequence[str], lex: Lexicon) -> tuple[float, float]:
    """(IDF mass of the shared action verbs over the smaller verb set's mass, 1 when both
    start with the same action): "tập huấn" is not "tuyên truyền"; common verbs weigh little."""
    sa, sb = set(va), set(vb)
    if not sa or not sb:
        return 0.0, 0.0
    mass = min(sum(lex.idf(v) for v in sa), sum(lex.idf(v) for v in sb))
    shared = sum(lex.idf(v) for v in sa & sb)
    return shared / max(mass, 1e-9), float(va[0] == vb[0])


_DATED_KINDS = ("date", "recurring", "relative")


def pair_features(a: LinkTask, b: LinkTask, cos: float, lex: Lexicon, clause_cos: float | None = None,
                  actions: tuple[Sequence[str], Sequence[str]] = ((), ()), basis: float = 0.0) -> np.ndarray:
    """The evidence of one pair, in ``FEATURES`` order (``clause_cos``: best cosine of a
    clause pair; the task cosine when not given; ``actions``: the action verbs of a and b;
    ``basis``: 1 when the two plans carry out one legal document few plans cite, or one plan
    cites the other, ``Linker.plan_basis``)."""
    both_ind = float(a.kind == "indicator" and b.kind == "indicator")
    mixed = float((a.kind == "indicator") != (b.kind == "indicator"))
    metric = 0.0
    if a.metrics and b.metrics:
        from kehoach.corpus.segment import segment
        ma = set(content_words(w for m in a.metrics for w in segment(m)))
        mb = set(content_words(w for m in b.metrics for w in segment(m)))
        metric = len(ma & mb) / max(1, min(len(ma), len(mb)))
    oa, ob = _owner_set(a), _owner_set(b)
    owner = float(bool(oa & ob))
    cl_w, cl_b = lex.clause_cosines(a.key, b.key)
    act, first = action_overlap(actions[0], actions[1], lex)
    refs_shared = float(bool(set(a.refs) & set(b.refs)))
    refs_conflict = float(cite_other_documents(a, b))
    return np.array([cos, lex.cosine(a.key, b.key, "w"), lex.cosine(a.key, b.key, "b"),
                     lex.cover(a.key, b.key, "w"), lex.cover(a.key, b.key, "b"), both_ind, mixed, metric, owner,
                     max(cos, cos if clause_cos is None else clause_cos), cl_w, cl_b, lex.rarest_shared(a.key, b.key),
                     lex.rarest_shared(a.key, b.key, "b"), act, first, refs_shared, refs_conflict,
                     lex.rarest_shared_plan(a.key, b.key), lex.plan_cover(a.key, b.key), basis,
                     float("relative" in (a.deadline_kind, b.deadline_kind)),
                     float(a.deadline_kind in _DATED_KINDS and b.deadline_kind in _DATED_KINDS
                           and a.deadline_kind != b.deadline_kind), lex.object_cover(a.key, b.key)],
                    dtype=np.float64)


@dataclass
class LinkModel:
    """p(same commitment | features) = sigmoid(w·(f - mean)/scale + b); clustering thresholds."""
    weights: list[float]
    bias: float
    mean: list[float]
    scale: list[float]
    link_threshold: float = 0.5        # a pair is a link at or above this probability; a link seeds a commitment
    cluster_threshold: float = 0.5     # a task joins a commitment while its mean probability to the members reaches this
    floor: float = 0.1                 # ... and none of its cross-plan member pairs is below this
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    embedder: str = "e5"
    note: str = ""

    @classmethod
    def load(cls, path: Path | str = MODEL_PATH) -> "LinkModel":
        d = json.loads(Path(path).read_text("utf-8"))
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def save(self, path: Path | str = MODEL_PATH, extra: dict | None = None) -> None:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        if extra:
            d.update(extra)
        Path(path).write_text(json.dumps(d, ensure_ascii=False, indent=1) + "\n", "utf-8")

    def prob(self, f: np.ndarray) -> np.ndarray | float:
        """``f``: features in ``FEATURES`` order; the model reads the ones it was fitted on."""
        f = np.asarray(f)
        if list(self.features) != FEATURES:
            f = f[..., [FEATURES.index(x) for x in self.features]]
        z = ((f - self.mean) / self.scale) @ np.asarray(self.weights) + self.bias
        return 1.0 / (1.0 + np.exp(-z))


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 200) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Newton-Raphson L2-regularised logistic regression on standardised features (numpy only)."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    Z = np.hstack([(X - mean) / scale, np.ones((len(X), 1))])
    w = np.zeros(Z.shape[1])
    reg = np.full(Z.shape[1], l2)
    reg[-1] = 0.0
    # balance the classes: positives are rare
    pos = max(1, int(y.sum()))
    sw = np.where(y > 0, len(y) / (2 * pos), len(y) / (2 * max(1, len(y) - pos)))
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(Z @ w)))
        g = Z.T @ (sw * (p - y)) + reg * w
        H = (Z * (sw * p * (1 - p))[:, None]).T @ Z + np.diag(reg) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(H, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1]), mean, scale


# --------------------------------------------------------------------------- nearest neighbours

def graph_vectors(graph) -> np.ndarray:
    """The vectors an ``IndexHNSWFlat`` holds in its flat storage, as a read-only view (no copy).
    The view is valid until the graph is added to: ``NeighbourIndex`` adds to its graph only in
    ``merge_tail``, which takes the view again."""
    import faiss
    flat = faiss.downcast_index(graph.storage)
    n, d = flat.ntotal, flat.d
    view = faiss.rev_swig_ptr(flat.get_xb(), n * d).reshape(n, d) if n else np.zeros((0, d), np.float32)
    view.flags.writeable = False
    return view


class NeighbourIndex:
    """Inner-product nearest neighbours over L2-normalized vectors (faiss).

    Exact ``IndexFlatIP`` below ``hnsw_min`` vectors, ``IndexHNSWFlat`` above
    (rebuilt once when the size crosses the limit). Ids are positions in ``keys``.
    Past the limit, a plan's few vectors go to a ``tail``, an exact flat index of the rows after
    the graph's, searched beside it: adding even one vector to a faiss graph read from a file
    reallocates (copies) its whole storage, 0.1–0.5 s at 100k tasks in a fresh process. The tail
    joins the graph before the graph is written (``link_index.save``) or past ``TAIL_MAX`` rows.
    """

    def __init__(self, dim: int, hnsw_min: int = HNSW_MIN):
        import faiss
        self._faiss = faiss
        self.dim = dim
        self.hnsw_min = hnsw_min
        self.keys: list[str] = []
        self.vectors = np.zeros((0, dim), np.float32)
        self._index = faiss.IndexFlatIP(dim)
        self.approximate = False
        self.tail = None            # faiss.IndexFlatIP of rows ``_index.ntotal`` ... len(keys) - 1

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def vectors(self) -> np.ndarray:
        """Every vector by id, as one array (joined on demand: the hot paths use ``take``)."""
        if not self._n_extra:
            return self._base
        if self._joined is None:
            self._joined = np.vstack([self._base, self._extra[:self._n_extra]]) if len(self._base) \
                else self._extra[:self._n_extra]
        return self._joined

    @vectors.setter
    def vectors(self, v: np.ndarray) -> None:
        """The vectors as they were saved: a snapshot's mapped file or its graph's own storage, never
        copied; rows added later go to a buffer of their own (``_append``)."""
        self._base = v
        self._extra = np.zeros((0, self.dim), np.float32)
        self._n_extra = 0
        self._joined: np.ndarray | None = None

    def take(self, rows) -> np.ndarray:
        """The vectors of these ids (an int or a list), from the base or the rows added since."""
        b = len(self._base)
        if np.isscalar(rows):
            return self._base[rows] if rows < b else self._extra[rows - b]
        rows = np.asarray(rows, np.int64)
        if not self._n_extra:
            return self._base[rows]
        out = np.empty((len(rows), self.dim), np.float32)
        old = rows < b
        out[old] = self._base[rows[old]]
        out[~old] = self._extra[rows[~old] - b]
        return out

    def _append(self, vecs: np.ndarray) -> None:
        """Appends rows in amortized O(batch), the base untouched: the buffer grows by a quarter when
        full, so neither one add (the base of 100k vectors is not copied) nor a process that adds plan
        after plan (``kehoach watch``) copies every vector."""
        n, m = self._n_extra, len(vecs)
        if len(self._extra) < n + m:
            buf = np.empty((n + m + max((len(self._base) + n + m) // 4, 1024), self.dim), np.float32)
            buf[:n] = self._extra[:n]
            self._extra = buf
        self._extra[n:n + m] = vecs
        self._n_extra = n + m
        self._joined = None

    def _hnsw(self):
        idx = self._faiss.IndexHNSWFlat(self.dim, 32, self._faiss.METRIC_INNER_PRODUCT)
        idx.hnsw.efConstruction = 80
        idx.hnsw.efSearch = 64
        return idx

    def add(self, keys: Sequence[str], vecs: np.ndarray) -> None:
        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        self.keys.extend(keys)
        self._append(vecs)
        if not self.approximate and len(self.keys) >= self.hnsw_min:
            self.tail = None
            self._index = self._hnsw()
            self._index.add(np.ascontiguousarray(self.vectors))
            self.approximate = True
            self.vectors = graph_vectors(self._index)       # held once: the graph's own copy
        elif self.approximate:
            if self.tail is None:
                self.tail = self._faiss.IndexFlatIP(self.dim)
            self.tail.add(vecs)
            if self.tail.ntotal > TAIL_MAX:
                self.merge_tail()
        else:
            self._index.add(vecs)

    def merge_tail(self) -> None:
        """The tail's rows into the graph (before the graph is written, or when the tail is big)."""
        if self.tail is None or not self.tail.ntotal:
            return
        self._index.add(np.ascontiguousarray(self.take(np.arange(self._index.ntotal, len(self.keys)))))
        self.tail = None
        # the graph's storage has grown (and moved): every row is read from it again
        self.vectors = graph_vectors(self._index)

    def search(self, vecs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self.keys))
        if k == 0:
            return np.zeros((len(vecs), 0), np.float32), np.zeros((len(vecs), 0), np.int64)
        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        sims, ids = self._index.search(vecs, min(k, self._index.ntotal))
        if self.tail is None or not self.tail.ntotal:
            return sims, ids
        ts, ti = self.tail.search(vecs, min(k, self.tail.ntotal))
        ti = np.where(ti >= 0, ti + self._index.ntotal, -1)
        sims, ids = np.hstack([sims, ts]), np.hstack([ids, ti])
        sims = np.where(ids >= 0, sims, -np.inf)
        order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(sims, order, 1), np.take_along_axis(ids, order, 1)


# --------------------------------------------------------------------------- linking

@dataclass
class Link:
    a: str
    b: str
    prob: float
    evidence: dict

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "prob": round(self.prob, 4), "evidence": self.evidence,
                "reason": evidence_text(self.evidence)}


def evidence_text(ev: dict) -> str:
    """One line a person reads: the shared phrase, the shared legal basis, the shared action,
    the cosine ('cụm từ chung "gửi thư xin lỗi"; căn cứ chung 149/2025/QH15; cos 0.93')."""
    if not ev:
        return ""
    parts = []
    if ev.get("shared_phrase"):
        parts.append(f'cụm từ chung "{ev["shared_phrase"]}"')
    if ev.get("rare_phrase") and ev["rare_phrase"] != ev.get("shared_phrase"):
        parts.append(f'cụm từ hiếm "{ev["rare_phrase"]}" ({ev.get("rare_phrase_plans", 0)} kế hoạch)')
    elif ev.get("rare_phrase_plans"):
        parts.append(f'{ev["rare_phrase_plans"]} kế hoạch viết cụm từ này')
    if ev.get("shared_refs"):
        parts.append("căn cứ chung " + ", ".join(ev["shared_refs"]))
    elif ev.get("shared_basis"):
        parts.append("hai kế hoạch cùng thực hiện " + ", ".join(ev["shared_basis"][:3]))
    if ev.get("plan_cited"):
        parts.append("kế hoạch này thực hiện văn bản kia")
    elif ev.get("title_sim", 0.0) >= TITLE_MIN:
        parts.append(f"hai văn bản cùng chủ đề (tên giống {ev['title_sim']:.2f})")
    if ev.get("shared_actions"):
        parts.append("hành động chung " + ", ".join(a.replace("_", " ") for a in ev["shared_actions"][:3]))
    if "cos" in ev:
        parts.append(f"cos {max(ev['cos'], ev.get('clause_cos', 0.0)):.2f}")
    return "; ".join(parts)


class Linker:
    """Holds the tasks, their vectors, lexicon and neighbour index.

    ``add`` embeds (unless vectors are given) and indexes new tasks and records
    their cross-plan candidate pairs (k nearest neighbours both ways); ``links()``
    scores the candidates with the current model; ``clusters()`` groups them.
    Cost of an add grows with the number of new tasks (k-NN search), not with
    the square of the corpus.
    """

    def __init__(self, embedder=None, model: LinkModel | None = None, *, segmenter: SegmentCache | None = None,
                 k: int = K_NEIGHBOURS, hnsw_min: int = HNSW_MIN, dim: int | None = None):
        self.embedder = embedder
        self.model = model or LinkModel.load()
        self.segmenter = segmenter or SegmentCache()
        self.k = k
        self.tasks: dict[str, LinkTask] = {}
        self.row: dict[str, int] = {}
        self.lex = Lexicon()
        self.index = NeighbourIndex(dim or embedder.dim, hnsw_min=hnsw_min)
        self.candidates: set[tuple[str, str]] = set()
        self.clause_vectors: dict[str, np.ndarray] = {}     # key -> (clauses x dim), tasks of 2+ clauses
        # tasks of 2+ clauses whose clause vectors are not computed yet: only scoring a pair needs them
        # (``_clause_matrix``), finding candidates does not, so an add embeds only the task texts
        self._clauses_pending: set[str] = set()
        self._from_snapshot = False     # loaded from ``link_index``: caches of the corpus size are recomputed
        self._feats: dict[tuple[str, str], np.ndarray] = {}
        self._probs: dict[tuple[str, str], float] = {}
        self.actions: dict[str, tuple[str, ...]] = {}       # key -> action verbs
        self._reason: dict[str, str | None] = {}
        self._plan_tasks: Counter = Counter()               # plan -> its tasks here
        self._plan_refs: dict[str, frozenset] = {}          # plan -> symbols it cites
        self._plan_number: dict[str, str] = {}              # plan -> its own symbol
        self._ref_plans: Counter = Counter()                # symbol -> plans citing it
        self._plan_title: dict[str, frozenset] = {}         # plan -> the content words of its title
        self._title_plans: Counter = Counter()              # title word -> plans whose title has it
        self._title_sim: dict[tuple[str, str], float] = {}  # cache of title_similarity (cleared as plans come and go)
        self._nearest: dict[tuple[str, str], str | None] = {}   # cache of nearest_in (cleared on every add and remove)
        self._plan_keys: dict[str, list[str]] | None = None  # plan -> its task keys (``plan_keys``; built on first use)

    def set_model(self, model: LinkModel) -> None:
        """Use another model; the cached probabilities stay when only its thresholds differ."""
        old = self.model
        self.model = model
        if (old.weights, old.bias, old.mean, old.scale, list(old.features)) != \
                (model.weights, model.bias, model.mean, model.scale, list(model.features)):
            self._probs.clear()

    # ---- building
    def add(self, tasks: Sequence[LinkTask], vectors: np.ndarray | None = None, *,
            search: bool = True) -> list[tuple[str, str]]:
        """Add tasks; returns their new candidate pairs (none when ``search`` is False:
        the caller restores stored candidates instead)."""
        fresh, seen = [], set()
        for i, t in enumerate(tasks):
            if t.key not in self.tasks and t.key not in seen:
                fresh.append(i)
                seen.add(t.key)
        if not fresh:
            return []
        tasks = [tasks[i] for i in fresh]
        texts = [link_text(t.text) for t in tasks]
        given = vectors is not None
        # clauses: embedded and segmented only for tasks of 2+ clauses (one clause is the task itself);
        # with given vectors (no embedder) a task is one clause
        clauses = [split_clauses(t.text) if not given else [x] for t, x in zip(tasks, texts)]
        multi = [c if len(c) > 1 else [] for c in clauses]
        flat = [c for cs in multi for c in cs]
        if not given:
            vectors = self.embedder.embed_passages(texts)
        else:
            vectors = np.asarray(vectors, dtype=np.float32)[fresh]
        titles = {t.plan_title: title_parts(t.plan_title) for t in tasks if t.plan not in self._plan_tasks and t.plan_title}
        seg = self.segmenter.segment_many(texts + flat + [w for w, _ in titles.values()])
        seg_tasks, seg_flat = seg[:len(texts)], seg[len(texts):len(texts) + len(flat)]
        seg_title = {t: tuple(content_words(words)) + symbols
                     for (t, (_, symbols)), words in zip(titles.items(), seg[len(texts) + len(flat):])}
        seg_clauses, pos = [], 0
        for i, cs in enumerate(multi):
            if cs:
                seg_clauses.append(seg_flat[pos:pos + len(cs)])
                if not given:
                    self.clause_vectors.pop(tasks[i].key, None)
                    self._clauses_pending.add(tasks[i].key)
                pos += len(cs)
            else:
                seg_clauses.append([seg_tasks[i]])
        self.lex.add([t.key for t in tasks], seg_tasks, seg_clauses, [t.plan for t in tasks])
        for t, acts in zip(tasks, self.segmenter.actions_many(texts)):
            self.actions[t.key] = acts
        self._reason.clear()
        self._nearest.clear()
        plans_before = len(self._plan_tasks)
        start = len(self.index)
        self.index.add([t.key for t in tasks], vectors)
        for i, t in enumerate(tasks):
            self.tasks[t.key] = t
            self.row[t.key] = start + i
            self._plan_in(t, seg_title.get(t.plan_title, ()))
            if self._plan_keys is not None:
                self._plan_keys.setdefault(t.key.rpartition(":")[0], []).append(t.key)
        if self.lex._n_at_clear == self.lex.n:   # IDF snapshot moved: features are recomputed
            self._feats.clear()
            self._probs.clear()
        elif any(plans_before < m <= len(self._plan_tasks) for m in (TEMPLATE_MIN_PLANS, PHRASE_MIN_PLANS, NEAREST_MIN_PLANS)):
            self._probs.clear()                  # the guards of a large corpus start here
        return self._candidates_of(tasks, vectors) if search else []

    def _plan_in(self, t: LinkTask, title_words: Sequence[str] = ()) -> None:
        """Count ``t`` in its plan; the plan's first task brings the plan's references, number and
        title words (``title_parts``: its content words and the symbols it names)."""
        self._plan_tasks[t.plan] += 1
        if self._plan_tasks[t.plan] == 1:
            refs = frozenset(t.plan_refs) | frozenset(t.refs)
            self._plan_refs[t.plan] = refs
            self._ref_plans.update(refs)
            if t.plan_number:
                self._plan_number[t.plan] = t.plan_number
            words = frozenset(title_words)
            self._plan_title[t.plan] = words
            self._title_plans.update(words)
            self._title_sim.clear()
        elif t.refs and not set(t.refs) <= self._plan_refs[t.plan]:
            new = frozenset(t.refs) - self._plan_refs[t.plan]
            self._plan_refs[t.plan] |= new
            self._ref_plans.update(new)

    def _plan_out(self, t: LinkTask) -> None:
        self._plan_tasks[t.plan] -= 1
        if self._plan_tasks[t.plan] <= 0:
            del self._plan_tasks[t.plan]
            self._ref_plans.subtract(self._plan_refs.pop(t.plan, frozenset()))
            self._plan_number.pop(t.plan, None)
            self._title_plans.subtract(self._plan_title.pop(t.plan, frozenset()))
            self._title_sim.clear()

    def plan_basis(self, pa: str, pb: str) -> list[str]:
        """What ties two plans to one programme: the legal documents both cite that few plans cite
        (at most ``BASIS_PLAN_SHARE`` of them, or 2: a provincial plan carrying out the central
        Quyết định the other is, or two provinces carrying out one), and the citation of one plan
        by the other ("→ 116/KH-UBND")."""
        ra, rb = self._plan_refs.get(pa, frozenset()), self._plan_refs.get(pb, frozenset())
        lim = max(2, BASIS_PLAN_SHARE * len(self._plan_tasks))
        return sorted(s for s in ra & rb if self._ref_plans[s] <= lim) + self._citations(pa, pb)

    def _citations(self, pa: str, pb: str) -> list[str]:
        """"→ <symbol>" for each of the two plans the other cites by its own symbol."""
        out = []
        for x, y in ((pa, pb), (pb, pa)):
            n = self._plan_number.get(x)
            if n and n in self._plan_refs.get(y, ()):
                out.append(f"→ {n}")
        return out

    def cites_the_other(self, pa: str, pb: str) -> bool:
        """One plan cites the other ("Kế hoạch thực hiện Quyết định số 2437/QĐ-TTg" and that Quyết định)."""
        return bool(self._citations(pa, pb))

    def title_similarity(self, pa: str, pb: str) -> float:
        """Cosine of the two plans' title words, each weighted by its IDF over the titles of the
        corpus's plans: "Phát động đợt thi đua lập thành tích chào mừng Đại hội lần thứ XIV ..." of two
        provinces ~0.9; a CCHC plan and a budget plan 0; "kế hoạch", "tỉnh", "năm" weigh little."""
        pair = (pa, pb) if pa < pb else (pb, pa)
        x = self._title_sim.get(pair)
        if x is None:
            n = len(self._plan_tasks)
            wa, wb = self._plan_title.get(pa, frozenset()), self._plan_title.get(pb, frozenset())
            idf = {w: math.log((n + 1) / (self._title_plans[w] + 0.5)) for w in wa | wb}
            na = math.sqrt(sum(idf[w] ** 2 for w in wa))
            nb = math.sqrt(sum(idf[w] ** 2 for w in wb))
            x = sum(idf[w] ** 2 for w in wa & wb) / (na * nb) if na and nb else 0.0
            self._title_sim[pair] = x
        return x

    def plan_keys(self, plan: str) -> list[str]:
        """The keys of a plan's tasks here, from the keys alone (``LinkTask.key`` is "<plan>:<task
        id>"; the tasks of a snapshot are not decoded); built on first use, kept up to date by ``add``."""
        if self._plan_keys is None:
            by: dict[str, list[str]] = {}
            for k in self.row:
                if k in self.tasks:
                    by.setdefault(k.rpartition(":")[0], []).append(k)
            self._plan_keys = by
        return self._plan_keys.get(plan, [])

    def nearest_in(self, a: str, plan: str) -> str | None:
        """The real task (``linkable``) of ``plan`` nearest to task ``a`` (embedding cosine)."""
        k = (a, plan)
        if k not in self._nearest:
            keys = [x for x in self.plan_keys(plan) if self.linkable(x)]
            best = None
            if keys:
                sims = self.index.take([self.row[x] for x in keys]) @ self.index.take(self.row[a])
                best = keys[int(np.argmax(sims))]
            self._nearest[k] = best
        return self._nearest[k]

    def unrelated(self, a: str, b: str) -> str | None:
        """Why two real tasks are never the same commitment, whatever the model says (precision
        first), or None:

        * "other document": both cite documents and none in common: "Triển khai thực hiện có hiệu
          quả Nghị quyết số 76/NQ-CP ..." is not "Tiếp tục triển khai thực hiện Chương trình số
          12-CTr/TU ..." (each carries out its own document);
        * "other object": the word pairs they share are mostly wording many plans write, or the
          topic of their own plans (``Lexicon.object_cover`` below ``OBJECT_MIN``);
        * "other action": both state actions, not the same first one, and few shared
          (``action_overlap`` below ``ACTION_MIN``): "tập huấn ..." is not "tuyên truyền ...";
        * "other programme": in a corpus of ``TEMPLATE_MIN_PLANS``+ plans, their plans share
          neither their specific vocabulary (``Lexicon.plan_similarity`` below ``PLAN_MIN``) nor a
          legal basis (``plan_basis``): a CCHC plan's report and an emulation plan's report;
        * "other subject": in such a corpus, their plans' titles are less alike than ``TITLE_MIN``
          (``title_similarity``) and neither plan cites the other (a plan whose title was not read
          is left to the other guards): a commitment recurs in plans of
          one subject (two provinces' plans for one campaign, a central plan and a provincial plan
          carrying it out), not in a digital-transformation plan and a planning-data plan that both
          cite Nghị quyết 57-NQ/TW;
        * "not the nearest": in a corpus of ``NEAREST_MIN_PLANS``+ plans, neither task is the
          other's nearest among its plan's tasks (``nearest_in``): a plan writes a commitment once,
          so of the tasks of one plan alike to a task, only the most alike is its counterpart;
        * "procedure step": one is a time limit counted from an event ("Trong thời hạn 10 ngày làm
          việc kể từ ngày nhận đủ hồ sơ ...") and they share no legal document: steps of two
          procedures."""
        ta, tb = self.tasks[a], self.tasks[b]
        if cite_other_documents(ta, tb):
            return "other document"
        if self.lex.object_cover(a, b) < OBJECT_MIN:
            return "other object"
        va, vb = self.actions.get(a, ()), self.actions.get(b, ())
        if va and vb:
            act, first = action_overlap(va, vb, self.lex)
            if not first and act < ACTION_MIN:
                return "other action"
        basis = None
        n_plans = len(self._plan_tasks)
        if n_plans >= TEMPLATE_MIN_PLANS and self.lex.plan_similarity(ta.plan, tb.plan) < PLAN_MIN:
            basis = self.plan_basis(ta.plan, tb.plan)
            if not basis:
                return "other programme"
        if "relative" in (ta.deadline_kind, tb.deadline_kind) and not set(ta.refs) & set(tb.refs):
            basis = self.plan_basis(ta.plan, tb.plan) if basis is None else basis
            if not basis:
                return "procedure step"
        if n_plans >= PHRASE_MIN_PLANS:
            phrase, df = self.lex.rarest_run(a, b, PHRASE_TOPIC_MAX)
            if not phrase or df > max(2, PHRASE_PLAN_SHARE * n_plans):
                return "common phrase"
        if n_plans >= TEMPLATE_MIN_PLANS and self._plan_title.get(ta.plan) and self._plan_title.get(tb.plan) \
                and self.title_similarity(ta.plan, tb.plan) < TITLE_MIN and not self.cites_the_other(ta.plan, tb.plan):
            return "other subject"
        if n_plans >= NEAREST_MIN_PLANS and self.nearest_in(a, tb.plan) != b and self.nearest_in(b, ta.plan) != a:
            return "not the nearest"
        return None

    def search(self, keys: Sequence[str]) -> list[tuple[str, str]]:
        """Candidate pairs of tasks already added (k-NN on vectors and on words)."""
        tasks = [self.tasks[k] for k in keys if k in self.tasks]
        if not tasks:
            return []
        vecs = self.index.take([self.row[t.key] for t in tasks])
        return self._candidates_of(tasks, vecs)

    def _candidates_of(self, tasks: Sequence[LinkTask], vectors: np.ndarray) -> list[tuple[str, str]]:
        # over-fetch: same-plan and removed neighbours are skipped
        sims, ids = self.index.search(vectors, self.k * 2 + 1)
        new = []
        for t, irow in zip(tasks, ids):
            n = 0
            for j in irow:
                if j < 0 or n >= self.k:
                    continue
                other = self.tasks.get(self.index.keys[j])
                if other is None or other.plan == t.plan:
                    continue
                n += 1
                pair = (t.key, other.key) if t.key < other.key else (other.key, t.key)
                if pair not in self.candidates:
                    self.candidates.add(pair)
                    new.append(pair)
        for t in tasks:          # lexical neighbours: what the embedding ranks low but the words share
            n = 0
            for o, _ in self.lex.neighbours(t.key, self.k * 2):
                other = self.tasks.get(o)
                if other is None or other.plan == t.plan or n >= self.k:
                    continue
                n += 1
                pair = (t.key, o) if t.key < o else (o, t.key)
                if pair not in self.candidates:
                    self.candidates.add(pair)
                    new.append(pair)
        return new

    def remove(self, keys: Iterable[str]) -> None:
        """Forget tasks (their vectors stay in the index but are skipped as candidates)."""
        keys = set(keys)
        for k in keys:
            t = self.tasks.pop(k, None)
            if t is not None:
                self._plan_out(t)
            self.clause_vectors.pop(k, None)
            self._clauses_pending.discard(k)
            self.actions.pop(k, None)
        self._reason.clear()
        self._nearest.clear()
        self._plan_keys = None
        self.lex.remove(keys)
        self.candidates = {p for p in self.candidates if p[0] not in keys and p[1] not in keys}
        self._feats.clear()
        self._probs.clear()

    # ---- scoring
    def cosine(self, a: str, b: str) -> float:
        return float(self.index.take(self.row[a]) @ self.index.take(self.row[b]))

    def _clause_matrix(self, key: str) -> np.ndarray:
        if key in self._clauses_pending:
            self._embed_clauses()
        m = self.clause_vectors.get(key)
        return m if m is not None else self.index.take(self.row[key])[None, :]

    def _embed_clauses(self) -> None:
        """The clause vectors of every task still without them, in one call to the embedder (one
        length-sorted pass; a cached embedder finds the ones embedded before): the first pair
        scored pays for all, as when ``add`` embedded them."""
        keys = [k for k in self.tasks if k in self._clauses_pending]      # ``remove`` drops the others
        per = [split_clauses(self.tasks[k].text) for k in keys]
        at = {c: i for i, c in enumerate(dict.fromkeys(c for cs in per for c in cs))}
        if at:
            vecs = self.embedder.embed_passages(list(at))
            for k, cs in zip(keys, per):
                self.clause_vectors[k] = np.asarray(vecs[[at[c] for c in cs]], dtype=np.float32)
        self._clauses_pending.difference_update(keys)

    def clause_cosine(self, a: str, b: str) -> float:
        """The best cosine over pairs of clauses (a task of one clause is its own vector)."""
        return float((self._clause_matrix(a) @ self._clause_matrix(b).T).max())

    def features(self, a: str, b: str) -> np.ndarray:
        pair = (a, b) if a < b else (b, a)
        f = self._feats.get(pair)
        if f is None:
            ta, tb = self.tasks[pair[0]], self.tasks[pair[1]]
            f = pair_features(ta, tb, self.cosine(a, b), self.lex,
                              self.clause_cosine(a, b), (self.actions.get(pair[0], ()), self.actions.get(pair[1], ())),
                              float(bool(self.plan_basis(ta.plan, tb.plan))))
            self._feats[pair] = f
        return f

    def unlinkable(self, key: str) -> str | None:
        """Why a task is never linked (``non_task_reason``, or "template": most of its word pairs
        are wording many plans share), or None for a real task."""
        if key not in self._reason:
            t = self.tasks[key]
            r = non_task_reason(t, self.actions.get(key, ()))
            if r is None and self.lex.template_share(key) >= TEMPLATE_TEXT_SHARE:
                r = "template"
            self._reason[key] = r
        return self._reason[key]

    def linkable(self, key: str) -> bool:
        return self.unlinkable(key) is None

    def prob(self, a: str, b: str) -> float:
        """p(same commitment); 0 when either task is not a real task (``unlinkable``)."""
        pair = (a, b) if a < b else (b, a)
        p = self._probs.get(pair)
        if p is None:
            if not (self.linkable(a) and self.linkable(b)) or self.unrelated(a, b):
                p = 0.0
            else:
                p = float(self.model.prob(self.features(*pair)))
            self._probs[pair] = p
        return p

    def evidence(self, a: str, b: str) -> dict:
        """Why a pair is linked: the shared phrase, the shared legal basis, the shared actions, the
        cosines, and every feature of the model."""
        f = self.features(a, b)
        ev = {name: round(float(x), 4) for name, x in zip(FEATURES, f)}
        ev["shared_words"] = [w.replace("_", " ") for w in self.lex.shared(a, b)]
        ev["shared_phrase"] = self.lex.shared_phrase(a, b)
        ev["shared_refs"] = sorted(set(self.tasks[a].refs) & set(self.tasks[b].refs))
        ev["shared_actions"] = sorted(set(self.actions.get(a, ())) & set(self.actions.get(b, ())))
        ta, tb = self.tasks[a], self.tasks[b]
        ev["shared_basis"] = self.plan_basis(ta.plan, tb.plan)
        ev["plan_sim"] = round(self.lex.plan_similarity(ta.plan, tb.plan), 4)
        ev["title_sim"] = round(self.title_similarity(ta.plan, tb.plan), 4)
        ev["plan_cited"] = self.cites_the_other(ta.plan, tb.plan)
        ev["nearest"] = [x for x, y in ((a, b), (b, a)) if self.nearest_in(x, self.tasks[y].plan) == y]
        ev["rare_phrase"], ev["rare_phrase_plans"] = self.lex.rarest_run(a, b, PHRASE_TOPIC_MAX)
        return ev

    def links(self, threshold: float | None = None, evidence: bool = True) -> list[Link]:
        th = self.model.link_threshold if threshold is None else threshold
        out = []
        for a, b in sorted(self.candidates):
            p = self.prob(a, b)
            if p >= th:
                out.append(Link(a, b, p, self.evidence(a, b) if evidence else {}))
        return out

    # ---- clusters
    def clusters(self) -> list[list[str]]:
        """Overlapping commitments (``commitment_clusters``) and a singleton for every task in none."""
        m = self.model
        links = self.links(threshold=min(m.link_threshold, m.cluster_threshold), evidence=False)
        return commitment_clusters(list(self.tasks), links, self.prob, self.tasks,
                                   m.link_threshold, m.cluster_threshold, m.floor)


def commitment_clusters(keys: Sequence[str], links: Iterable[Link], prob, tasks: dict[str, LinkTask],
                        seed_threshold: float, threshold: float, floor: float) -> list[list[str]]:
    """Overlapping clusters of tasks that state one commitment.

    Every link with probability >= ``seed_threshold`` whose two tasks are not yet
    together in a cluster seeds one (strongest first). The cluster grows greedily:
    among the tasks linked (p >= ``threshold``) to a member, the one with the highest
    mean probability to the cross-plan members joins while that mean is >= ``threshold``
    and none of those pairs is below ``floor``. Same-plan pairs never count. Clusters
    contained in another are dropped; every task in no cluster is a singleton.
    Cost: one cluster per strong link at most, each growth step reads the candidates
    of its members (bounded by k), so it follows the number of strong links.
    """
    nb: dict[str, set[str]] = {}
    seeds = []
    for l in links:
        if l.a not in tasks or l.b not in tasks:
            continue
        if l.prob >= threshold:
            nb.setdefault(l.a, set()).add(l.b)
            nb.setdefault(l.b, set()).add(l.a)
        if l.prob >= seed_threshold:
            seeds.append((-l.prob, l.a, l.b))
    seeds.sort()
    found: list[frozenset] = []
    together: dict[str, set[int]] = {}          # task -> clusters it is in
    for _, a, b in seeds:
        if together.get(a, set()) & together.get(b, set()):
            continue
        members = [a, b]
        inside = {a, b}
        while True:
            best, best_score = None, threshold
            for x in sorted(set().union(*(nb.get(m, ()) for m in members)) - inside):
                px = tasks[x].plan
                ps = [prob(x, o) for o in members if tasks[o].plan != px]
                if not ps or min(ps) < floor:
                    continue
                score = sum(ps) / len(ps)
                if score >= best_score and (best is None or score > best_score):
                    best, best_score = x, score
            if best is None:
                break
            members.append(best)
            inside.add(best)
        c = frozenset(members)
        if c in found:
            continue
        for k in c:
            together.setdefault(k, set()).add(len(found))
        found.append(c)
    kept = [c for c in found if not any(c < o for o in found)]
    out = [sorted(c) for c in kept]
    covered = set().union(*kept) if kept else set()
    out += [[k] for k in keys if k not in covered]
    return out


# --------------------------------------------------------------------------- the corpus side

LINK_MIGRATIONS = [
    """CREATE TABLE IF NOT EXISTS link_candidates (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS link_searched (key TEXT NOT NULL, embedder TEXT NOT NULL,
           PRIMARY KEY (key, embedder)) WITHOUT ROWID""",
]


def linker_for_corpus(corpus, *, embedder=None, model: LinkModel | None = None, progress: bool | None = False,
                      restore: bool = True, clauses: bool = False) -> Linker:
    """A Linker over every task of ``corpus``: vectors and segmentations come from the caches
    (only texts never seen are embedded), stored candidate pairs are restored, and only
    tasks never searched are searched; their candidates are stored. ``progress``: one line
    per step on stderr (a bar on a terminal); None = on.

    The task texts go to the embedder in ONE call (one length-sorted pass, shared chunks and
    progress); clauses are embedded only when pairs are scored, or here with ``clauses`` (the add
    hook: the batch's clause vectors are paid by the add, so no read embeds). Within a process the
    Linker of a corpus file is kept (``_KEPT_LINKERS``), and between processes it is saved beside the
    store (``link_index``): the next call reads, embeds, segments and indexes only the plans that are
    new since (O(batch); which plans, from one row per plan: ``link_index.plans_to_add``); a plan
    replaced or removed rebuilds it. The snapshot is written after a rebuild, and again only once
    it lacks ``link_index.SAVE_EVERY`` tasks (writing it costs the corpus; the tasks it lacks cost
    the next process only their cache look-ups and indexing). ``restore=False`` (the add hook, whose caller never scores
    pairs) does not read back every stored candidate pair: the Linker's ``candidates`` are then only
    this call's new pairs; a later call with ``restore`` reads them all."""
    from kehoach.corpus import link_index
    from kehoach.corpus.embed import CachedEmbedder, get_embedder
    from kehoach.corpus.progress import Progress
    corpus.ensure_schema("link", LINK_MIGRATIONS)
    emb = embedder or CachedEmbedder(get_embedder(None), corpus)
    bar = Progress(3, "linking", enabled=progress)
    prints = link_index.plan_prints(corpus)
    linker, plan_ids = _kept_linker(corpus, emb, model, prints)
    refs: dict[int, dict] = {}
    fresh = []
    for r in corpus.tasks(plan_ids):
        if r.plan_id not in refs:
            refs[r.plan_id] = {x.get("id"): x for x in corpus.refs(r.plan_id)}
        t = task_from_record(r, refs[r.plan_id])
        if t.key not in linker.tasks:
            fresh.append(t)
    whole = plan_ids is None            # a Linker built from every task
    try:
        _embed_one_pass(emb, fresh, getattr(linker.segmenter, "_conn", None), clauses=clauses)
        linker.add(fresh, search=False)
        if linker._from_snapshot:
            link_index.fresh_caches(linker)     # IDF and features of this corpus size, as a full rebuild
            linker._from_snapshot = False
        linker._plan_prints = prints
        clauses = clauses and bool(linker._clauses_pending)
        # clause vectors of tasks older than this call (a snapshot or Linker built without them):
        # once many are embedded here, the snapshot is written again, so that the next add does not
        # look them all up again
        old_pending = len(linker._clauses_pending) - sum(1 for t in fresh if t.key in linker._clauses_pending)
        if clauses:
            linker._embed_clauses()
    except BaseException:          # Ctrl-C while embedding: what was committed stays in the cache,
        _forget_linker(linker)     # but a half-added Linker is not kept
        raise
    n_tasks = len(linker.tasks)
    bar.update(note=f"{n_tasks} tasks embedded and segmented ({len(fresh)} new to this process)")
    conn = corpus.conn
    present = linker.tasks
    todo, stale = None, []
    if not whole:                  # only the new tasks can be unsearched, unless the store says otherwise
        fresh_keys = [t.key for t in fresh]
        done, total = link_index.searched_before(conn, emb.name, fresh_keys)
        if total == n_tasks - len(fresh_keys) + len(done):
            todo = [k for k in fresh_keys if k not in done]
    if todo is None:
        done = {k for (k,) in conn.execute("SELECT key FROM link_searched WHERE embedder=?", (emb.name,))}
        todo = [k for k in present if k not in done]
        stale = [k for k in done if k not in present]
    if restore:
        linker.candidates = {(a, b) for a, b in conn.execute("SELECT a, b FROM link_candidates")
                             if a in present and b in present}
    else:
        linker.candidates = set()
    new = linker.search(todo)
    bar.update(note=f"{len(todo)} tasks searched, {len(new)} new candidate pairs")
    with conn:
        conn.executemany("INSERT OR IGNORE INTO link_candidates(a, b) VALUES (?, ?)", new)
        conn.executemany("INSERT OR IGNORE INTO link_searched(key, embedder) VALUES (?, ?)", [(k, emb.name) for k in todo])
        if stale:
            conn.executemany("DELETE FROM link_searched WHERE key=?", [(k,) for k in stale])
            conn.executemany("DELETE FROM link_candidates WHERE a=? OR b=?", [(k, k) for k in stale])
    bar.update(note=f"{len(linker.candidates)} candidate pairs {'stored' if restore else 'new'}")
    bar.close()
    if (fresh or clauses) and model is None and _corpus_file(corpus) and not getattr(corpus, "readonly", False) \
            and link_index.due(linker, whole or (clauses and old_pending >= link_index.SAVE_EVERY)):
        try:
            link_index.save(corpus, linker, emb)   # the next process adds only its new tasks
        except OSError:
            pass
    return linker


def update(corpus, added: Sequence[int] = (), removed: Sequence[int] = (), *, embedder=None) -> Linker:
    """The ``Corpus.on_change`` hook: embed and search the new tasks (and embed their clauses, so
    that no read path embeds), drop the removed ones. (Task keys start with the plan id, so both
    lists are handled by comparing with the corpus.) Stored candidates are not read back."""
    if removed:   # a replaced plan keeps its id: forget what was searched for its old tasks
        corpus.ensure_schema("link", LINK_MIGRATIONS)
        with corpus.conn:
            for pid in removed:
                pat = f"{pid}:%"
                corpus.conn.execute("DELETE FROM link_searched WHERE key LIKE ?", (pat,))
                corpus.conn.execute("DELETE FROM link_candidates WHERE a LIKE ? OR b LIKE ?", (pat, pat))
    return linker_for_corpus(corpus, embedder=embedder, progress=None, restore=False, clauses=True)


# --------------------------------------------------------------------------- calibration on gold links

def load_gold_links(path: Path | str) -> dict[str, set[str]]:
    """Gold link clusters (``eval/links.json``) -> {task key "<source stem>:<task id>": {cluster ids}}."""
    named: dict[str, set[str]] = {}
    for c in json.loads(Path(path).read_text("utf-8")):
        for t in c["tasks"]:
            named.setdefault(f"{Path(t['source']).stem}:{t['task']}", set()).add(c["id"])
    return named


def pair_counts(clusters: Sequence[Sequence[str]], named: dict[str, set[str]], tasks: dict[str, LinkTask],
                only: set[str] | None = None) -> tuple[int, int, int]:
    """(tp, fp, fn) over cross-plan pairs of gold-named tasks, as ``eval/score.py links`` counts them.
    ``only``: count just the pairs that involve one of these tasks (a cross-validation fold)."""
    pred = set()
    for c in clusters:
        ks = sorted(k for k in c if k in named)
        for i, a in enumerate(ks):
            for b in ks[i + 1:]:
                if tasks[a].plan != tasks[b].plan:
                    pred.add((a, b))
    keys = sorted(k for k in named if k in tasks)
    gold = {(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]
            if tasks[a].plan != tasks[b].plan and named[a] & named[b]}
    if only is not None:
        pred = {p for p in pred if p[0] in only or p[1] in only}
        gold = {p for p in gold if p[0] in only or p[1] in only}
    return len(pred & gold), len(pred - gold), len(gold - pred)


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


SEED_GRID = [0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998]
THRESHOLD_GRID = [0.5, 0.7, 0.8, 0.9, 0.95]
FLOOR_GRID = [0.02, 0.1, 0.3, 0.5, 0.7, 0.9]   # floor = cluster_threshold: every cross-plan member pair must hold


def _f_beta(p: float, r: float, beta: float) -> float:
    b2 = beta * beta
    return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0


def fit_link_model(linker: Linker, named: dict[str, set[str]], *, folds: int = 5, l2: float = 1.0,
                   beta: float = 0.5, embedder: str = "e5") -> tuple[LinkModel, dict]:
    """Fit the pair model and the clustering thresholds on gold links, with cross-validation by plan.

    The plans of the gold are dealt round-robin into ``folds`` folds. For each fold the
    logistic model is fitted on the pairs of gold tasks of the other plans, the whole
    corpus is clustered with it for every (link_threshold, cluster_threshold, floor) of
    the grid, and the gold pairs that involve a task of the held-out plans are counted.
    The grid point with the best pooled F-beta (``beta`` = 0.5: precision weighs twice
    recall; ties go to the stricter point) is kept; the final weights are fitted on all
    pairs. Pairs with a task that is never linked (``Linker.unlinkable``) are not fitted on
    (their probability is 0) but their gold pairs count as missed.
    """
    keys = sorted(k for k in named if k in linker.tasks)
    pairs = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:] if linker.tasks[a].plan != linker.tasks[b].plan
             and linker.linkable(a) and linker.linkable(b)]
    X = np.array([linker.features(a, b) for a, b in pairs])
    y = np.array([float(bool(named[a] & named[b])) for a, b in pairs])
    plans = sorted({linker.tasks[k].plan for k in keys})
    fold_of_plan = {p: i % folds for i, p in enumerate(plans)}
    fold_of_task = {k: fold_of_plan[linker.tasks[k].plan] for k in keys}

    def model_from(Xs, ys, g=(0.99, 0.9, 0.1)):
        w, b, m, sc = fit_logistic(Xs, ys, l2=l2)
        return LinkModel(weights=w.tolist(), bias=b, mean=m.tolist(), scale=sc.tolist(),
                         link_threshold=g[0], cluster_threshold=g[1], floor=g[2], embedder=embedder)

    grid = [(s, t, f) for s in SEED_GRID for t in THRESHOLD_GRID if t <= s for f in FLOOR_GRID]
    counts = {g: [0, 0, 0] for g in grid}
    saved = linker.model
    for f in range(folds):
        test = {k for k in keys if fold_of_task[k] == f}
        if not test:
            continue
        tr = np.array([a not in test and b not in test for a, b in pairs])
        base = model_from(X[tr], y[tr])
        for g in grid:
            linker.set_model(LinkModel(**{**base.__dict__, "link_threshold": g[0], "cluster_threshold": g[1],
                                          "floor": g[2]}))
            tp, fp, fn = pair_counts(linker.clusters(), named, linker.tasks, only=test)
            c = counts[g]
            c[0] += tp; c[1] += fp; c[2] += fn
    linker.set_model(saved)
    table = {g: _prf(*v) for g, v in counts.items()}
    best = max(grid, key=lambda g: (round(_f_beta(table[g][0], table[g][1], beta), 6), g))
    model = model_from(X, y, best)
    p, r, f1 = table[best]
    report = {"pairs": int(len(y)), "positive_pairs": int(y.sum()), "folds": folds, "l2": l2, "beta": beta,
              "cv_precision": round(p, 3), "cv_recall": round(r, 3), "cv_f1": round(f1, 3),
              "link_threshold": best[0], "cluster_threshold": best[1], "floor": best[2],
              "grid": {"/".join(map(str, g)): [round(x, 3) for x in v] for g, v in table.items()}}
    model.note = ("fitted by kehoach.corpus.link.fit_link_model on the gold links; thresholds (link_threshold seeds "
                  "a commitment, cluster_threshold grows it, floor) chosen by "
                  f"{folds}-fold cross-validation by plan, best F{beta}")
    return model, report


# --------------------------------------------------------------------------- citation links between plans

_SYMBOL_NORM = str.maketrans({"Đ": "D", "đ": "D", "–": "-", "—": "-"})


def normalize_symbol(symbol: str | None) -> str | None:
    """'116/KH-UBND', '116 / KH - UBND' -> '116/KH-UBND' (upper case, no spaces, Đ folded)."""
    if not symbol:
        return None
    s = re.sub(r"\s+", "", symbol).translate(_SYMBOL_NORM).upper()
    return s or None


def _issuer_ok(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return True
    a, b = " ".join(a.casefold().split()), " ".join(b.casefold().split())
    return a == b or a in b or b in a


def _date_ok(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return True
    n = min(len(a), len(b))
    return a[:n] == b[:n]


@dataclass(frozen=True)
class PlanRef:
    """What citation linking needs of a plan: its key, number, issuer, date and cited documents."""
    key: str
    number: str | None
    issuer: str | None
    date: str | None
    refs: tuple = ()               # LegalRef records (or dicts with symbol/issuer/date/id/text)


def citation_links(plans: Sequence[PlanRef]) -> list[dict]:
    """Plan A cites "Kế hoạch số 127/KH-UBND ..." and plan B in the corpus is 127/KH-UBND with a
    compatible issuer and date -> {"from": A, "to": B, "ref": ref id, "symbol", "text"}."""
    by_symbol: dict[str, list[PlanRef]] = {}
    for p in plans:
        s = normalize_symbol(p.number)
        if s:
            by_symbol.setdefault(s, []).append(p)
    out = []
    for p in plans:
        for r in p.refs:
            get = r.get if isinstance(r, dict) else (lambda k, r=r: getattr(r, k, None))
            s = normalize_symbol(get("symbol"))
            for q in by_symbol.get(s or "", []):
                if q.key == p.key or not _issuer_ok(get("issuer"), q.issuer) or not _date_ok(get("date"), q.date):
                    continue
                out.append({"from": p.key, "to": q.key, "ref": get("id"), "symbol": s, "text": get("text")})
    return out


# --------------------------------------------------------------------------- refit from the command line

def _main(argv: list[str] | None = None) -> int:
    """python -m kehoach.corpus.link fit GOLD_DIR LINKS.json [--model NAME] [--cache FILE] [--out FILE]"""
    import argparse
    from kehoach.corpus.embed import CachedEmbedder, get_embedder
    from kehoach.models import Extraction

    ap = argparse.ArgumentParser(prog="python -m kehoach.corpus.link")
    ap.add_argument("command", choices=["fit"])
    ap.add_argument("gold_dir")
    ap.add_argument("links")
    ap.add_argument("--also", nargs=2, action="append", default=[], metavar=("GOLD_DIR", "LINKS"),
                    help="another gold set (extractions and their links), e.g. tests/data/links-real")
    ap.add_argument("--model", default=None, help="embedder (default e5)")
    ap.add_argument("--cache", default=None, help="sqlite file for the embedding/segmentation cache")
    ap.add_argument("--out", default=str(MODEL_PATH))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--l2", type=float, default=1.0)
    a = ap.parse_args(argv)
    sets = [(a.gold_dir, a.links)] + [tuple(x) for x in a.also]
    exts = [Extraction.from_dict(json.loads(p.read_text("utf-8"))) for d, _ in sets for p in sorted(Path(d).glob("*.json"))]
    named: dict[str, set[str]] = {}
    for _, lp in sets:
        for k, cs in load_gold_links(lp).items():
            named.setdefault(k, set()).update(f"{lp}#{c}" for c in cs)
    emb = CachedEmbedder(get_embedder(a.model), a.cache)
    seg = SegmentCache(a.cache)
    n = len(FEATURES)
    linker = Linker(emb, LinkModel([0.0] * n, 0.0, [0.0] * n, [1.0] * n), segmenter=seg)
    linker.add([t for e in exts for t in tasks_from_extraction(e)])
    model, report = fit_link_model(linker, named, folds=a.folds, l2=a.l2, embedder=emb.name)
    grid = report.pop("grid")
    grid = {k: "P={} R={} F1={}".format(*v) for k, v in grid.items()}
    model.save(a.out, extra={"cv": report, "cv_grid_link/cluster/floor": grid})
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())


# --------------------------------------------------------------------------- linker_for_corpus helpers

# (corpus file, embedder name, model) -> the Linker built for it in this process, so that a second
# linker_for_corpus (the add hook, then the registry; a server's adds) indexes only the new tasks
_KEPT_LINKERS: dict[tuple, Linker] = {}
KEPT_LINKERS_MAX = 4


def _corpus_file(corpus) -> str | None:
    try:
        row = corpus.conn.execute("PRAGMA database_list").fetchone()
    except Exception:
        return None
    return row[2] if row and row[2] else None          # "" for an in-memory database: never kept


def _kept_linker(corpus, emb, model: LinkModel | None, prints: dict[str, str]) -> tuple[Linker, list[int] | None]:
    """The Linker this process built for ``corpus`` before (else the one saved beside the store),
    when every plan it holds tasks of is still in the corpus unchanged (``prints``: the corpus's
    plan fingerprints, ``link_index.plans_to_add``), with the ids of the plans whose tasks need
    reading and adding; else a new Linker and None (every task). The kept Linker gets this call's
    embedder and segmenter (the corpus object may be another one on the same file); its candidates
    are restored from the store by the caller."""
    from kehoach.corpus import link_index
    path = _corpus_file(corpus)
    key = (path, getattr(emb, "name", None), getattr(emb, "dim", None), id(model) if model is not None else None)
    linker = _KEPT_LINKERS.get(key) if path else None
    if linker is not None:
        plan_ids = link_index.plans_to_add(linker, prints)
        if plan_ids is not None:
            linker.embedder = emb
            linker.segmenter = SegmentCache(corpus)
            if model is None:
                linker.set_model(LinkModel.load())
            return linker, plan_ids
        del _KEPT_LINKERS[key]
    linker = Linker(emb, model, segmenter=SegmentCache(corpus))
    plan_ids = None
    if path and model is None:     # another process's Linker of this corpus, saved beside the store
        if link_index.load(corpus, linker, emb):
            plan_ids = link_index.plans_to_add(linker, prints)
            if plan_ids is not None:
                linker._from_snapshot = True
            else:                  # a plan replaced or removed since: full rebuild
                linker = Linker(emb, model, segmenter=SegmentCache(corpus))
    if path:
        while len(_KEPT_LINKERS) >= KEPT_LINKERS_MAX:
            _KEPT_LINKERS.pop(next(iter(_KEPT_LINKERS)))
        _KEPT_LINKERS[key] = linker
    return linker, plan_ids


def _forget_linker(linker: Linker) -> None:
    for k, v in list(_KEPT_LINKERS.items()):
        if v is linker:
            del _KEPT_LINKERS[k]


def _embed_one_pass(emb, tasks: Sequence[LinkTask], cache=None, *, clauses: bool = False) -> None:
    """Embed the texts ``Linker.add`` will ask for (the task texts; clauses are embedded only when
    a pair is scored, ``Linker._clause_matrix``, or with ``clauses``: the add hook, which embeds the
    new tasks' clauses at once) in one call to a ``CachedEmbedder``, deduplicated, so they share its
    length-sorted chunks (a clause is shorter than its task: in a pass of their own both would fill
    fewer, more padded batches) and one progress bar; ``Linker.add`` and ``Linker._embed_clauses``
    then find them in the cache.
    Meanwhile a thread segments them (and the clauses of tasks of two or more clauses) and finds
    their actions (``segment``/``actions`` are memoised pure functions), which
    ``Linker.add`` asks for next: the embedding engine spends its time in native code without
    the GIL, so the two overlap. Other embedders are left to ``Linker.add`` (nothing would keep
    their vectors in between). ``cache``: the segmenter's database; texts it holds already are
    not computed ahead (``Linker.add`` reads them)."""
    import threading
    from kehoach.corpus import link_index
    from kehoach.corpus.embed import CachedEmbedder
    if not tasks or not isinstance(emb, CachedEmbedder):
        return
    texts = [link_text(t.text) for t in tasks]
    parts = []
    for t in tasks:
        cs = split_clauses(t.text)
        if len(cs) > 1:
            parts.extend(cs)
    to_segment = link_index.uncached(cache, "segment_cache", [*texts, *parts])
    to_act = link_index.uncached(cache, "action_cache", texts)
    words = threading.Thread(target=_warm_words, args=(to_segment, to_act), name="kehoach-segment", daemon=True)
    words.start()
    try:
        emb.embed_passages(list(dict.fromkeys([*texts, *parts] if clauses else texts)))
    finally:
        words.join()


def _warm_words(texts: Sequence[str], acts: Sequence[str]) -> None:
    """Fill the memo of ``segment`` (``texts``: tasks and clauses) and ``actions`` (``acts``: tasks),
    as ``Linker.add`` will call them; an error here is left for that call to raise."""
    from kehoach.extract.nlp import import_spacy_without_torch
    from kehoach.corpus.segment import actions, segment
    import_spacy_without_torch()
    try:
        for t in dict.fromkeys(texts):
            segment(t)
        for t in dict.fromkeys(acts):
            actions(t)
    except Exception:
        pass
