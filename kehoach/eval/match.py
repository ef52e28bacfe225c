"""Text folding and the matching rules of the record contract (SPEC.md), shared by the three scores.

- ``fold_text``: lower case, no diacritics (đ -> d), punctuation collapsed to single spaces;
- ``body_key``: a body's name folded, abbreviations written out (UBND, TT&TT, CCHC, ...), the
  "giao"/"Bộ trưởng"/"Ban Thường vụ" openers and the place qualifier ("... tỉnh Tuyên Quang") cut;
- ``body_match``: two names are the same body when their keys are equal or share >= 80% of words;
- ``symbol_key``: a số ký hiệu folded and upper-cased without spaces;
- ``ref_key``: a cited document's identity: its symbol when it holds a digit, else type|number|year;
- ``bigrams``: the folded word bigrams a task text is compared by.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Optional

# abbreviations written out before bodies are compared (pattern over folded text, expansion)
ABBREVIATIONS: list[tuple[str, str]] = [
    (r"\bubnd\b", "uy ban nhan dan"),
    (r"\bhdnd\b", "hoi dong nhan dan"),
    (r"\bvp\b", "van phong"),
    (r"\btt\s*&\s*tt\b|\btttt\b", "thong tin va truyen thong"),
    (r"\bkh\s*&\s*dt\b|\bkhdt\b", "ke hoach va dau tu"),
    (r"\bkh\s*&\s*cn\b|\bkhcn\b", "khoa hoc va cong nghe"),
    (r"\btthc\b", "thu tuc hanh chinh"),
    (r"\bcchc\b", "cai cach hanh chinh"),
    (r"\bpvhcc\b", "phuc vu hanh chinh cong"),
    (r"\bcbccvc\b", "can bo cong chuc vien chuc"),
    (r"\btp\.?\s", "thanh pho "),
]
_ABBREVIATIONS = [(re.compile(p), r) for p, r in ABBREVIATIONS]

BODY_WORD_OVERLAP = 0.8     # Jaccard of the words of two body keys for "the same body"
TITLE_BIGRAM_OVERLAP = 0.8  # Jaccard of the title bigrams for "the same title"


def fold_text(s: Optional[str]) -> str:
    """Lowercase, strip diacritics (đ -> d), collapse punctuation to spaces ('&' kept)."""
    if not s:
        return ""
    s = unicodedata.normalize("NFD", s.replace("Đ", "D").replace("đ", "d"))
    s = "".join(c for c in s if unicodedata.category(c) != "Mn").lower()
    s = re.sub(r"[^\w&]+", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def _party_committee(m: re.Match) -> str:
    return "tinh uy" if m.group(1) == "tinh" else "thanh uy"


def body_key(name: Optional[str]) -> str:
    """The folded name a body is compared by."""
    s = fold_text(name)
    for pat, rep in _ABBREVIATIONS:
        s = pat.sub(rep, s)
    s = re.sub(r"^giao\s+", "", s)
    s = re.sub(r"^bo truong (?=bo )", "", s)  # "Bộ trưởng Bộ Công an" issues for "Bộ Công an"
    s = re.sub(r"^ban thuong vu (?=(tinh|thanh) uy)", "", s)
    s = re.sub(r"^ban chap hanh dang bo (tinh|thanh pho)\b", _party_committee, s)
    s = re.sub(r"^(tinh uy|thanh uy)\b.*$", r"\1", s)
    s = re.sub(r"\s(tinh|thanh pho)(\s+\w+){0,3}$", "", s)  # place qualifier
    return re.sub(r"\s+", " ", s).strip()


def symbol_key(s: Optional[str]) -> str:
    return fold_text(s or "").replace(" ", "").upper()


def bigrams(text: Optional[str]) -> set[str]:
    """Folded word bigrams (a one-word text is its own set)."""
    toks = fold_text(text).split()
    if len(toks) < 2:
        return set(toks)
    return {a + " " + b for a, b in zip(toks, toks[1:])}


def body_match(a: Optional[str], b: Optional[str]) -> bool:
    ka, kb = body_key(a), body_key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    wa, wb = set(ka.split()), set(kb.split())
    return len(wa & wb) / max(len(wa | wb), 1) >= BODY_WORD_OVERLAP


def bodies_f1(gold: Iterable[str], pred: Iterable[str]) -> float:
    """F1 of two lists of bodies under ``body_match`` (both empty: 1.0)."""
    gold, pred = list(gold), list(pred)
    if not gold and not pred:
        return 1.0
    if not gold or not pred:
        return 0.0
    found = sum(1 for g in gold if any(body_match(g, p) for p in pred))
    right = sum(1 for p in pred if any(body_match(g, p) for g in gold))
    r, p = found / len(gold), right / len(pred)
    return f1(p, r)


def ref_key(ref: dict) -> Optional[str]:
    """A cited document's identity: the folded symbol when it holds a digit, else type|number|year."""
    sym = ref.get("symbol")
    if sym and re.search(r"\d", sym):
        return symbol_key(sym)
    num = ref.get("number")
    if num:
        return f"{fold_text(ref.get('type'))}|{num}|{(ref.get('date') or '')[:4]}"
    return None


def deadline_match(gold: Optional[dict], pred: Optional[dict]) -> Optional[bool]:
    """Whether a predicted deadline matches the gold one by date, else by recurrence; None when
    the gold gives neither (not counted)."""
    if not gold:
        return None
    if not pred:
        return False
    if gold.get("date"):
        return gold.get("date") == pred.get("date")
    if gold.get("recurrence"):
        return gold.get("recurrence") == pred.get("recurrence")
    return None


def overlap_of_shorter(a: set, b: set) -> float:
    """Shared bigrams over the shorter side's: how a hit or a cluster member is named to a gold task."""
    return len(a & b) / max(min(len(a), len(b)), 1)


def f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)
