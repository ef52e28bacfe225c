"""Golden test on real plans never fitted by hand: the portal texts of real/web and the 892/QĐ-TTg PDF,
scored with the project's own evaluator (kehoach.eval, the contract's matching rules) against
eval/gold-real. Floors sit just under the figures measured when the rules were written, so a
regression on any of them fails; the per-document checks name the file that broke."""
from __future__ import annotations

import json

import pytest

from kehoach.eval import extract_report
from kehoach.extract import extract
from kehoach.ingest import read

from tests.shared import files, need

PDF = "quyet-dinh-so-892-qd-ttg-469579.pdf"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    paths = files("real/web", "*.txt") + [need("real/pdf/" + PDF)]
    out = tmp_path_factory.mktemp("real") / "out.jsonl"
    records = []
    with out.open("w", encoding="utf-8") as f:
        for p in paths:
            rec = extract(read(p)).to_dict()
            records.append(rec)
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    summary, per_doc = extract_report(need("eval/gold-real"), out)
    return summary, per_doc, records


def test_real_plans_reach_the_measured_floors(report):
    summary, _, _ = report
    assert summary["documents"] == 12
    assert summary["task_recall"] >= 0.95, summary
    assert summary["task_f1"] >= 0.85, summary
    assert summary["lead_f1"] >= 0.84, summary
    assert summary["deadline_acc"] >= 0.93, summary
    assert summary["ref_f1"] >= 0.95, summary


def test_no_real_plan_gives_zero_tasks_where_its_gold_has_tasks(report):
    _, per_doc, _ = report
    for name, d in per_doc.items():
        found, gold = (int(x) for x in d["tasks_found"].split("/"))
        assert d["present"], name
        assert gold == 0 or found > 0, (name, d["tasks_found"])
        assert gold == 0 or found / gold >= 0.75, (name, d["tasks_found"])


def test_every_body_task_carries_its_heading_path_and_field_lines_are_not_tasks(report):
    _, _, records = report
    for rec in records:
        for t in rec["tasks"]:
            assert "context" in t
            assert not t["text"].startswith(("Thời gian thực hiện:", "Thời hạn hoàn thành:", "Đơn vị chủ trì:",
                                              "Cơ quan phối hợp:", "Sản phẩm:")), (rec["source"], t["text"])
    tasks_2820 = next(r for r in records if "2820-QD-UBND" in r["source"])["tasks"]
    t = next(t for t in tasks_2820 if t["text"].startswith("Chủ trì xây dựng, tổ chức thực hiện, theo dõi"))
    assert t["lead"] == ["Sở Tài chính"] and t["context"].endswith("Sở Tài chính (cơ quan chủ trì)")
