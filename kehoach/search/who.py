""""Who owns X": the bodies that lead or support the tasks matching a query, ranked.

Each matching task gives its lead bodies its fused score and its support
bodies a fraction of it; bodies are grouped by a folded, abbreviation-expanded
key so "UBND tỉnh" and "Ủy ban nhân dân tỉnh" are one owner.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from kehoach.search.hybrid import Filters, SearchIndex, SearchResult
from functools import lru_cache

from kehoach.search.text import DATA, expand_abbreviations, folded_tokens, read_tsv

ROLE_WEIGHT = {"lead": 1.0, "support": 0.35}
RANK_DECAY = 0.75            # evidence further down the result list counts less
GENERIC_OWNERS = DATA / "search_generic_owners.tsv"


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
    return " ".join(folded_tokens(exp))


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


def rank_owners(result: SearchResult, limit: int = 10, evidence: int = 5) -> list[Owner]:
    """Aggregate the hits of ``result`` into ranked owners (pure; no index access)."""
    acc: dict[str, dict] = {}
    top = max((h.score for h in result.hits), default=0.0) or 1.0
    for rank, hit in enumerate(result.hits):
        d = hit.doc
        base = hit.score / top * (RANK_DECAY ** rank)
        for role, names in (("lead", d.lead), ("support", d.support)):
            for name in names:
                k = body_key(name)
                if not k or not is_owner(name):
                    continue
                a = acc.setdefault(k, {"names": {}, "score": 0.0, "roles": {"lead": 0.0, "support": 0.0},
                                       "tasks": [], "plans": {}})
                s = base * ROLE_WEIGHT[role] * owner_weight(name)
                a["score"] += s
                a["roles"][role] += s
                a["names"][name] = a["names"].get(name, 0) + 1
                if len(a["tasks"]) < evidence and all(t["key"] != d.key for t in a["tasks"]):
                    a["tasks"].append({"key": d.key, "source": d.source, "task_id": d.task_id, "role": role,
                                       "text": d.text, "deadline": d.deadline, "plan_id": d.plan_id,
                                       "plan_number": d.plan.get("number"), "province": d.plan.get("province")})
                a["plans"].setdefault(d.plan_id, {k2: d.plan.get(k2) for k2 in
                                                  ("id", "number", "type", "issuer", "date", "title", "province",
                                                   "source")})
    owners = []
    for a in acc.values():
        name = max(a["names"].items(), key=lambda x: (x[1], len(x[0])))[0]
        role = "lead" if a["roles"]["lead"] >= a["roles"]["support"] else "support"
        owners.append(Owner(name, role, a["score"], a["tasks"], list(a["plans"].values())))
    owners.sort(key=lambda o: (-o.score, o.body))
    return owners[:limit]


def who(index: SearchIndex, query: str, *, limit: int = 10, depth: int = 10,
        filters: Optional[Filters] = None, mode: str = "hybrid", understand: bool = False) -> WhoResult:
    """The owners of the tasks that best match ``query`` (question words are stripped).

    ``understand``: a place, owner or deadline in the query becomes a filter (``search.question``)."""
    if understand:
        from kehoach.search.question import ask
        res = ask(index, query, limit=depth, filters=filters, mode=mode)
    else:
        res = index.search(query, limit=depth, filters=filters, mode=mode)
    return WhoResult(res.query.raw, rank_owners(res, limit), res)
