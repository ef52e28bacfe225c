""""Who owns X": the bodies that lead or support the tasks matching a query, ranked.

Each of the top hits gives its bodies a share of its fused score, decayed by rank, and
- scaled by how much of the question the hit's own words cover (question words are already out),
  so a task that merely shares one word with the question counts less than one that says it all;
- by role: for a "chủ trì / who leads" question a task's lead counts far above its support, for a
  "phối hợp / who supports" question the reverse;
- for a question about a plan as a whole ("ai chủ trì kế hoạch truyền thông giảm nghèo"), the task
  that gives the lead of the plan itself ("tổ chức triển khai thực hiện Kế hoạch này") counts more;
- a body named in the question ("ai phối hợp với Sở Công Thương ...") is context, not the answer.
Bodies are grouped by a folded, abbreviation-expanded key so "UBND tỉnh" and "Ủy ban nhân dân tỉnh"
are one owner; every owner carries its evidence tasks (plan number, province, task text).
Words: kehoach/data/who_words.tsv; group names: search_generic_owners.tsv.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from kehoach.search.hybrid import Filters, SearchIndex, SearchResult
from functools import lru_cache

from kehoach.search.text import DATA, expand_abbreviations, folded_tokens, parse_query, read_tsv

ROLE_WEIGHT = {"lead": {"lead": 1.0, "support": 0.1},       # asked role -> task role -> weight
               "support": {"lead": 0.25, "support": 1.0}}
RANK_DECAY = 0.85            # evidence further down the result list counts less
MORE_TASKS = 0.3             # a body's further matching tasks add this share of their evidence to its best one (tuned on the tune split: 1.0, a plain sum, let a body with many loosely matching tasks outrank the one that says it)
DEPTH = 20                   # hits aggregated into owners
COVERAGE_FLOOR = 0.25        # a hit covering nothing of the question keeps this share of its score
PLAN_SELF_BOOST = 2.0        # a plan-level question: the task that leads the plan itself
LEAD_WORDS = 12             # ... where a lead word says the body leads
EARLY_WORDS = 30             # matches within a task's first words count fully
ABOUT_WEIGHT = 0.5           # a match inside "về ..." (informing about X is not doing X)
LEAD_VERB_BOOST = 1.5        # a "who leads" question: a task that says its body "chủ trì" it
NAMED_WEIGHT = 0.2           # a body the question names as context
GENERIC_OWNERS = DATA / "search_generic_owners.tsv"
WHO_WORDS = DATA / "who_words.tsv"
EXPANSIONS = DATA / "who_expansions.tsv"
ALT_WEIGHT = 0.8             # a task matching a question word only through a related term (who_expansions.tsv)
EXPAND_WEIGHT = {"vi": 0.3,  # the related-terms run beside a Vietnamese question's own (hybrid) run, as an RRF list
                 "en": 1.0}  # the glossary's Vietnamese words for an English question: its only lexical evidence
# English words that Vietnamese (typed with or without diacritics) does not write: a question with two of
# them and no diacritics is English, and its words are looked up in the glossary (who_expansions.tsv "en")
ENGLISH_MARKERS = frozenset("the of and for who which what is are with from by during each their its".split())


@lru_cache(maxsize=1)
def _words() -> dict[str, list[tuple[str, ...]]]:
    """kind -> folded phrases (tuples of words), longest first (kehoach/data/who_words.tsv)."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for kind, phrase in read_tsv(WHO_WORDS):
        toks = tuple(folded_tokens(phrase))
        if toks:
            out.setdefault(kind, []).append(toks)
    return {k: sorted(v, key=len, reverse=True) for k, v in out.items()}


def _has_phrase(toks: list[str], kind: str) -> bool:
    for p in _words().get(kind, []):
        n = len(p)
        if any(tuple(toks[i:i + n]) == p for i in range(len(toks) - n + 1)):
            return True
    return False


def asked_role(query: str) -> str:
    """"support" when the question asks who supports ("Sở nào phối hợp ...", "who supports ..."),
    else "lead" (a lead word wins when both are written: "ai chủ trì, phối hợp ...")."""
    toks = folded_tokens(query)
    if _has_phrase(toks, "support") and not _has_phrase(toks, "lead"):
        return "support"
    return "lead"


def content_words(text: str) -> list[str]:
    """The folded words of ``text`` that carry its topic (who_words.tsv "stop" words out)."""
    stop = {p[0] for p in _words().get("stop", []) if len(p) == 1}
    stop2 = {p for p in _words().get("stop", []) if len(p) == 2}
    toks = folded_tokens(text)
    out, i = [], 0
    while i < len(toks):
        if tuple(toks[i:i + 2]) in stop2:
            i += 2
            continue
        if toks[i] not in stop and (len(toks[i]) > 1 or toks[i].isdigit()):
            out.append(toks[i])
        i += 1
    return out


@lru_cache(maxsize=1)
def _expansion_table() -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]:
    """lang -> [(folded phrase, its related terms as written)], longest phrase first (who_expansions.tsv)."""
    out: dict[str, list] = {}
    for lang, phrase, terms in read_tsv(EXPANSIONS, 3):
        toks = tuple(folded_tokens(phrase))
        alts = tuple(t.strip() for t in terms.split("|") if t.strip())
        if toks and alts:
            out.setdefault(lang, []).append((toks, alts))
    return {k: sorted(v, key=lambda x: -len(x[0])) for k, v in out.items()}


def is_english(text: str) -> bool:
    """No Vietnamese diacritics and at least two English function words ("who ensures security at the ...")."""
    import unicodedata
    if any(unicodedata.category(c) == "Mn" for c in unicodedata.normalize("NFD", text or "")) or "đ" in (text or "").lower():
        return False
    toks = (text or "").lower().split()
    return sum(1 for t in toks if t.strip("?,.;:") in ENGLISH_MARKERS) >= 2


def concepts(text: str, english: Optional[bool] = None) -> list[tuple[tuple[str, ...], ...]]:
    """The question's topic as concepts, each a tuple of alternatives (folded word tuples) that say it.

    Vietnamese: each content word is a concept of its own words; a phrase of the table ("nhu yếu phẩm")
    is one concept, said by itself or by a related term ("hàng hóa thiết yếu", "lương thực").
    English: each glossary phrase found is a concept said by its Vietnamese terms; other English words
    are left out (they never match a Vietnamese task), except numbers and acronyms ("IOC", "766")."""
    eng = is_english(text) if english is None else english
    table = _expansion_table().get("en" if eng else "vi", [])
    stop = {p[0] for p in _words().get("stop", []) if len(p) == 1}
    raw = (text or "").split()
    toks = folded_tokens(text)
    out, i = [], 0
    while i < len(toks):
        hit = next(((p, alts) for p, alts in table if tuple(toks[i:i + len(p)]) == p), None)
        if hit:
            p, alts = hit
            forms = tuple(tuple(folded_tokens(a)) for a in alts)
            out.append(((p,) if not eng else ()) + forms)
            i += len(p)
            continue
        t = toks[i]
        if t not in stop and (len(t) > 1 or t.isdigit()):
            if not eng:
                out.append(((t,),))
            elif t.isdigit() or any(w.isupper() and len(w) > 1 and folded_tokens(w) == [t] for w in raw):
                out.append(((t,),))
        i += 1
    return [c for c in out if c]


def related_terms(text: str, english: bool) -> list[str]:
    """The table's terms (as written, with diacritics) for the phrases found in ``text``."""
    table = _expansion_table().get("en" if english else "vi", [])
    toks = folded_tokens(text)
    out, i = [], 0
    while i < len(toks):
        hit = next(((p, alts) for p, alts in table if tuple(toks[i:i + len(p)]) == p), None)
        if hit:
            out += list(hit[1])
            i += len(hit[0])
        else:
            i += 1
    return out


def expansions(text: str, english: Optional[bool] = None) -> list[str]:
    """Extra retrieval texts for a question (``question.ask(extra=)``): for Vietnamese the question's words
    with the related terms of its table phrases; for English the glossary's Vietnamese terms. [] when the
    table adds nothing."""
    eng = is_english(text) if english is None else english
    terms = related_terms(text, eng)
    if not terms:
        return []
    if eng:
        return [(" ".join(terms), EXPAND_WEIGHT["en"])]
    return [(text + " " + " ".join(terms), EXPAND_WEIGHT["vi"])]


def concept_coverage(cs: list[tuple[tuple[str, ...], ...]], text: str, english: bool = False) -> float:
    """Share of the concepts ``cs`` a task says, each by its best alternative (a Vietnamese question's own
    word counts fully, a related term ``ALT_WEIGHT``), weighted by where the words come (``_weighted_tokens``)."""
    if not cs:
        return 0.0
    best = _evidence_weights(text)
    total = 0.0
    for c in cs:
        score = 0.0
        for k, alt in enumerate(c):
            uni = sum(best.get(x, 0.0) for x in alt) / len(alt)
            pairs = list(zip(alt, alt[1:]))
            m = uni if not pairs else 0.5 * uni + 0.5 * sum(best.get(p, 0.0) for p in pairs) / len(pairs)
            weight = 1.0 if (k == 0 and not english) else ALT_WEIGHT
            score = max(score, m * weight)
        total += score
    return total / len(cs)


def _early(pos: int) -> float:
    """Weight of a match at word ``pos`` of a task: a task states its action first ("Trực tiếp tiếp
    nhận, bảo quản và cấp phát ..."), so words far in (a detail: "... thông báo về nguyên tắc cấp phát
    nhu yếu phẩm") count less."""
    return 1.0 if pos < EARLY_WORDS else EARLY_WORDS / pos


def _weighted_tokens(text: str) -> list[tuple[str, float]]:
    """The folded words of ``text`` with their weight as evidence: ``_early`` by position, halved
    inside an "about" complement up to the clause's end ("thông báo công khai về ... nguyên tắc cấp
    phát nhu yếu phẩm": the body informs about the distribution, it does not distribute); the
    complement ends at the clause's end or at a word that opens another ("với", "để", "nhằm")."""
    about = [p for p in _words().get("about", [])]
    ends = {p[0] for p in _words().get("about_end", []) if len(p) == 1}
    out: list[tuple[str, float]] = []
    for clause in re.split(r"[;.!?\n]+", text or ""):
        toks = folded_tokens(clause)
        inside = False
        for i, t in enumerate(toks):
            if not inside and any(tuple(toks[i:i + len(p)]) == p for p in about):
                inside = True
            elif inside and t in ends:
                inside = False
            out.append((t, _early(len(out)) * (ABOUT_WEIGHT if inside else 1.0)))
    return out


def _evidence_weights(text: str) -> dict:
    """The best weight (``_weighted_tokens``) of each folded word of ``text`` and of each adjacent pair."""
    wt = _weighted_tokens(text)
    best: dict = {}
    for i, (t, w) in enumerate(wt):
        best[t] = max(best.get(t, 0.0), w)
        if i + 1 < len(wt):
            p = (t, wt[i + 1][0])
            best[p] = max(best.get(p, 0.0), min(w, wt[i + 1][1]))
    return best


def coverage(query_words: list[str], text: str) -> float:
    """Share of the question's content words, and of its adjacent word pairs (Vietnamese words are
    mostly two syllables: "nhu yếu", "cấp phát"), found in ``text``, each weighted by where it comes
    (``_weighted_tokens``: early in the task, not in an "about" complement); 0..1."""
    if not query_words:
        return 0.0
    best = _evidence_weights(text)
    uni = sum(best.get(w, 0.0) for w in query_words) / len(query_words)
    qp = list(zip(query_words, query_words[1:]))
    if not qp:
        return uni
    bi = sum(best.get(p, 0.0) for p in qp) / len(qp)
    return 0.5 * uni + 0.5 * bi


def is_plan_question(query_text: str) -> bool:
    """The question names a plan kind ("kế hoạch ...", "the plan ..."): it may ask who leads the plan."""
    return _has_phrase(folded_tokens(query_text), "plan")


def states_lead(text: str) -> bool:
    """The task says its body leads it: it opens with a lead word ("Chủ trì điều phối ...") or one
    comes within its first words ("Sở Tài chính chủ trì, phối hợp ...")."""
    toks = folded_tokens(text)[:LEAD_WORDS]
    return _has_phrase(toks, "lead")


def leads_plan_itself(text: str) -> bool:
    """A task that is the lead of its plan as a whole ("Chủ trì ... triển khai thực hiện Kế hoạch này")."""
    return _has_phrase(folded_tokens(text), "self")


@lru_cache(maxsize=1)
def _generic_prefixes() -> list[tuple[str, float]]:
    rows = [(" ".join(folded_tokens(p)), float(w)) for p, w in read_tsv(GENERIC_OWNERS)]
    return sorted(rows, key=lambda x: len(x[0]), reverse=True)


def owner_weight(name: str) -> float:
    """1.0 for a named body; the table's weight for a group ("Các cơ quan, đơn vị")."""
    key = " ".join(folded_tokens(name))
    for prefix, w in _generic_prefixes():
        if key == prefix or key.startswith(prefix + " "):
            return w
    return 1.0


def body_key(name: str) -> str:
    """Grouping key of a body name: folded words, abbreviations replaced by their expansion."""
    exp = expand_abbreviations(name)
    exp = re.sub(r"(\S+) \(([^()]*)\)", r"\2", exp)   # "UBND (Ủy ban nhân dân)" -> "Ủy ban nhân dân"
    toks = folded_tokens(exp)
    # the plural "các" inside a name ("UBND các xã, phường" = "UBND xã, phường"); a leading one stays
    return " ".join(toks[:1] + [t for t in toks[1:] if t != "cac"])


@dataclass
class Owner:
    body: str
    role: str                 # the role with the larger share of the evidence: "lead" | "support"
    score: float
    tasks: list[dict] = field(default_factory=list)
    plans: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"body": self.body, "role": self.role, "score": round(self.score, 6), "tasks": self.tasks,
                "plans": self.plans}


@dataclass
class WhoResult:
    query: str
    owners: list[Owner]
    search: SearchResult

    def to_dict(self) -> dict:
        d = {"query": self.query, "retrieval_query": self.search.query.text,
             "owners": [o.to_dict() for o in self.owners]}
        if self.search.understood:
            d["understood"] = self.search.understood
            d["notes"] = ["lọc: " + "; ".join(self.search.notes())]
        return d


_YEARS = re.compile(r"^[\d\s\-–/.,:;()]+$")


def is_owner(name: str) -> bool:
    """False for what is no body: a period ("2026 - 2030"), a form label ("Thời gian thực hiện")."""
    from kehoach.search.text import is_boilerplate
    n = (name or "").strip()
    return bool(n) and not _YEARS.match(n) and not is_boilerplate(n) and any(c.isalpha() for c in n)


COORDINATOR_WEIGHT = 2.0     # the plan's coordinator ("(qua Sở X)"), as a share of the best owner's score, times the question's coverage of the plan's title; tuned on the tune split of eval_who.py (0.5 / 1.0 / 1.5 / 2.0 / 3.0)
TITLE_COVERAGE = 0.4         # ... counted only when the question covers this much of the plan's title


@lru_cache(maxsize=1)
def _via_re() -> re.Pattern:
    """"(qua Sở Công Thương)", "(thông qua Văn phòng UBND tỉnh)" (the "via" words of who_words.tsv)."""
    import unicodedata
    words = sorted({unicodedata.normalize("NFC", p) for k, p in read_tsv(WHO_WORDS) if k == "via"}, key=len, reverse=True)
    return re.compile(r"\(\s*(?:" + "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
                      + r")\s+(?P<o>[^()]{3,120}?)\s*\)", re.IGNORECASE)


def coordinators(docs) -> list[tuple[str, object]]:
    """The bodies a plan's tasks send its reports through ("báo cáo ... UBND tỉnh (qua Sở Công Thương)"),
    most named first, each with the first task that names it: the body that coordinates the plan."""
    from kehoach.search.question import is_body_name
    seen: dict[str, list] = {}
    for d in docs:
        for m in _via_re().finditer(d.text or ""):
            name = " ".join(m["o"].split()).rstrip(".,;")
            if is_body_name(name) and is_owner(name):
                seen.setdefault(body_key(name), [name, d, 0])[2] += 1
    return [(n, d) for n, d, _ in sorted(seen.values(), key=lambda x: -x[2])]


def _named(key: str, query_key: str) -> bool:
    return bool(key) and len(key.split()) >= 2 and f" {key} " in f" {query_key} "


_PLAN_FIELDS = ("id", "number", "type", "issuer", "date", "title", "province", "source")


def _credit(acc: dict, name: str, d, part: str, s: float, cov: float, role: str, shown_role: str,
            evidence: int) -> None:
    """Credit the body ``name`` with share ``s`` of the task ``d`` (one share per ``part``: a task, or a
    plan's coordinator role), counted for ``role``; ``d`` becomes one of its evidence tasks."""
    a = acc.setdefault(body_key(name), {"names": {}, "roles": {"lead": 0.0, "support": 0.0},
                                        "tasks": [], "plans": {}, "parts": {}})
    a["parts"][part] = max(a["parts"].get(part, 0.0), s)
    a["roles"][role] += s
    a["names"][name] = a["names"].get(name, 0) + 1
    if len(a["tasks"]) < evidence and all(t["key"] != d.key for t in a["tasks"]):
        a["tasks"].append({"key": d.key, "source": d.source, "task_id": d.task_id, "role": shown_role,
                           "section": d.section, "coverage": round(cov, 3), "text": d.text,
                           "deadline": d.deadline, "plan_id": d.plan_id, "plan_number": d.plan.get("number"),
                           "province": d.plan.get("province"), "score": round(s, 6)})
    a["plans"].setdefault(d.plan_id, {k: d.plan.get(k) for k in _PLAN_FIELDS})


def rank_owners(result: SearchResult, limit: int = 10, evidence: int = 5, *,
                role: str = "lead", question: Optional[str] = None, expand: bool = True,
                english: Optional[bool] = None, coordinators_of: Optional[dict] = None) -> list[Owner]:
    """Aggregate the hits of ``result`` into ranked owners (pure; no index access).

    ``role``: the role asked for ("lead" | "support", see ``asked_role``); ``question``: the text the
    hits were retrieved for (default: the result's retrieval text), for coverage and named bodies;
    ``coordinators_of``: plan id -> ``coordinators`` of that plan: when the question covers a plan's title
    (it asks about the plan's own subject), the plan's coordinator is an owner candidate too."""
    acc: dict[str, dict] = {}
    top = max((h.score for h in result.hits), default=0.0) or 1.0
    qtext = question if question is not None else result.query.text
    qwords = content_words(qtext)
    qkey = " ".join(folded_tokens(expand_abbreviations(qtext)))
    eng = is_english(qtext) if english is None else english
    cs = concepts(qtext, eng) if expand else []
    covs = [max(0.0 if eng else coverage(qwords, h.doc.text), concept_coverage(cs, h.doc.text, eng))
            for h in result.hits]
    best_cov = max(covs, default=0.0)
    plan_q = is_plan_question(qtext)
    weights = ROLE_WEIGHT.get(role, ROLE_WEIGHT["lead"])
    for rank, (hit, cov) in enumerate(zip(result.hits, covs)):
        d = hit.doc
        base = (hit.score / top if top > 0 else 1.0) * (RANK_DECAY ** rank)
        if best_cov > 0:
            base *= COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * cov / best_cov
        if plan_q and d.lead and leads_plan_itself(d.text):
            base *= PLAN_SELF_BOOST
        if role == "lead" and d.lead and states_lead(d.text):
            base *= LEAD_VERB_BOOST
        for task_role, names in (("lead", d.lead), ("support", d.support)):
            for name in names:
                k = body_key(name)
                if not k or not is_owner(name):
                    continue
                s = base * weights[task_role] * owner_weight(name) * (NAMED_WEIGHT if _named(k, qkey) else 1.0)
                _credit(acc, name, d, d.key, s, cov, task_role, task_role, evidence)
    if coordinators_of and role == "lead" and result.hits:
        best = max((max(a["parts"].values()) for a in acc.values() if a["parts"]), default=1.0)
        plans = {h.doc.plan_id: h.doc.plan for h in result.hits}
        for pid, cands in coordinators_of.items():
            title = (plans.get(pid) or {}).get("title") or ""
            tcov = max(0.0 if eng else coverage(qwords, title), concept_coverage(cs, title, eng)) if title else 0.0
            if tcov < TITLE_COVERAGE:
                continue
            for name, d in cands[:1]:
                _credit(acc, name, d, f"coordinator:{pid}", best * COORDINATOR_WEIGHT * tcov, tcov,
                        "lead", "coordinator", evidence)
    owners = []
    for a in acc.values():
        parts = sorted(a["parts"].values(), reverse=True)
        a["score"] = parts[0] + MORE_TASKS * sum(parts[1:])      # one share per task, however many names
        name = max(a["names"].items(), key=lambda x: (x[1], len(x[0])))[0]
        r = "lead" if a["roles"]["lead"] >= a["roles"]["support"] else "support"
        tasks = sorted(a["tasks"], key=lambda t: -t["score"])
        owners.append(Owner(name, r, a["score"], tasks, list(a["plans"].values())))
    owners.sort(key=lambda o: (-o.score, o.body))
    return owners[:limit]


def who(index: SearchIndex, query: str, *, limit: int = 10, depth: int = DEPTH,
        filters: Optional[Filters] = None, mode: str = "hybrid", understand: bool = False,
        expand: bool = True) -> WhoResult:
    """The owners of the tasks that best match ``query`` (question words are stripped).

    ``understand``: a place, owner or deadline in the query becomes a filter (``search.question``);
    ``expand``: the domain words of ``who_expansions.tsv`` (related Vietnamese terms, the English glossary)
    are searched beside the question and count in a task's coverage of it."""
    from kehoach.search.question import ask
    eng = is_english(query)
    # a body the question names ("Bộ Nội vụ phối hợp với ai ...", "ai đôn đốc Bảo hiểm xã hội Việt Nam ...")
    # is context (NAMED_WEIGHT), not an owner filter: the question asks for the owner
    res = ask(index, query, limit=depth, filters=filters, mode=mode, literal=not understand,
              extra=(lambda text: expansions(text, eng)) if expand else None,
              owners=not parse_query(query).who)   # "which tasks does Sở Nội vụ own" still filters
    if not understand and expand:                 # literal: no filters taken out, the domain words still help
        more = expansions(res.query.text, eng)
        if more:
            res = _fused(index, res, more, depth, filters)
    role = asked_role(query)
    coord = _plan_coordinators(index, res) if role == "lead" and COORDINATOR_WEIGHT > 0 else None
    return WhoResult(res.query.raw, rank_owners(res, limit, role=role, expand=expand, english=eng,
                                                coordinators_of=coord), res)


def _plan_coordinators(index: SearchIndex, res: SearchResult) -> dict:
    """plan id -> ``coordinators`` of it, for the plans of the hits (all of each plan's tasks are read)."""
    numbers = {h.doc.plan_id: h.doc.plan.get("number") for h in res.hits}
    by_plan = {pid: coordinators(d for d in index.select(Filters(plan=num)) if d.plan_id == pid)
               for pid, num in numbers.items() if num}
    return {p: c for p, c in by_plan.items() if c}


def _fused(index: SearchIndex, res: SearchResult, texts: list, depth: int, filters) -> SearchResult:
    """``res`` with the lexical hits of ``texts`` fused in as more reciprocal-rank lists."""
    from kehoach.search.hybrid import RRF_K
    from kehoach.search.question import EXTRA_WEIGHT
    scores = {h.doc.key: h.score for h in res.hits}
    first = {h.doc.key: h for h in res.hits}
    for t in texts:
        t, w = t if isinstance(t, tuple) else (t, EXTRA_WEIGHT)
        for rank, h in enumerate(index.search(t, limit=depth, filters=filters, mode="lexical").hits, 1):
            scores[h.doc.key] = scores.get(h.doc.key, 0.0) + w / (RRF_K + rank)
            first.setdefault(h.doc.key, h)
    for k, h in first.items():
        h.score = scores[k]
    res.hits = sorted(first.values(), key=lambda h: -h.score)[:depth]
    return res
