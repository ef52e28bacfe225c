"""Rules that hold on layouts nobody fitted: each test names the real document and the record a
general rule (Nghị định 30/2020/NĐ-CP, or how portals and PDFs lay text) must give there."""
from __future__ import annotations

from functools import lru_cache

import pytest

from kehoach.extract import extract
from kehoach.ingest import read

from tests.shared import need


@lru_cache(maxsize=None)
def rec(rel: str) -> dict:
    return extract(read(need(rel))).to_dict()


def web(stem: str) -> dict:
    return rec(f"real/web/{stem}.txt")


def refs_by_symbol(r: dict) -> dict:
    out: dict = {}
    for x in r["legal_refs"]:
        out.setdefault(x["symbol"], x)
    return out


def task(r: dict, start: str) -> dict:
    return next(t for t in r["tasks"] if t["text"].startswith(start))


# ------------------------------------------------------------------ references

def test_a_symbol_wrapped_after_its_hyphen_before_TTg_is_whole():
    """4385/QĐ-BVHTTDL prints "Quyết định số 227/QĐ- TTg ngày 12/3/2024": the Thủ tướng's code ends in
    a lower-case letter, and the wrap after the hyphen must not cut it off."""
    r = refs_by_symbol(web("4385-QD-BVHTTDL__448306af"))
    assert "227/QĐ" not in r
    assert r["227/QĐ-TTg"]["date"] == "2024-03-12" and r["227/QĐ-TTg"]["issuer"] == "Thủ tướng Chính phủ"


def test_a_numbered_part_resolution_and_a_party_action_plan_are_references():
    """2820/QĐ-UBND: "Nghị quyết số 66.2/2025/NQ-CP" (a number with a sub-number) and "Kế hoạch hành động
    số 459-KHHĐ/TU" (the party's action plan, type code KHHĐ)."""
    r = refs_by_symbol(web("2820-QD-UBND__001c610b"))
    assert r["66.2/2025/NQ-CP"]["type"] == "Nghị quyết" and r["66.2/2025/NQ-CP"]["date"] == "2025-08-28"
    assert r["66.2/2025/NQ-CP"]["issuer"] == "Chính phủ"
    assert r["459-KHHĐ/TU"]["type"] == "Kế hoạch" and r["459-KHHĐ/TU"]["date"] == "2025-05-21"


def test_a_ministers_post_keeps_the_ministry_name_with_its_hyphen():
    """159/KH-UBND: "của Bộ trưởng Bộ Lao động - Thương binh và Xã hội" was cut at " - "."""
    r = refs_by_symbol(web("159-KH-UBND__d40513a8"))
    assert r["650/QĐ-LĐTBXH"]["issuer"] == "Bộ trưởng Bộ Lao động - Thương binh và Xã hội"


def test_the_central_committee_by_its_term_is_the_party_central_committee():
    """892/QĐ-TTg: "Nghị quyết số 26-NQ/TW ... của Trung ương khóa XII"."""
    r = refs_by_symbol(rec("real/pdf/quyet-dinh-so-892-qd-ttg-469579.pdf"))
    assert r["26-NQ/TW"]["issuer"] == "Ban Chấp hành Trung ương Đảng"
