"""Hand-judged extra gold (tests/data/gold-real-extra, README there): tasks of real Gazette PDFs and
vbpl pages that have no gold in shared/eval/gold-real. Every entry must be a task; its owners are
scored with the contract's matching rules. Floors sit just under the figures measured when written."""
import json
from pathlib import Path

import pytest

from kehoach.eval.match import bodies_f1
from kehoach.extract import extract
from kehoach.ingest import read
from tests.shared import need

GOLD = json.loads((Path(__file__).parent / "data" / "gold-real-extra" / "partial.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def extracted():
    return {src: extract(read(need(src))) for src in sorted({g["source"] for g in GOLD})}


def _find(ex, starts):
    return next((t for t in ex.tasks if t.text.startswith(starts)), None)


def test_every_hand_judged_task_is_found(extracted):
    missing = [(g["source"], g["starts"]) for g in GOLD if _find(extracted[g["source"]], g["starts"]) is None]
    assert not missing


def test_owners_of_the_hand_judged_tasks(extracted):
    lead, support = [], []
    for g in GOLD:
        t = _find(extracted[g["source"]], g["starts"])
        lead.append(bodies_f1(g["lead"], t.lead))
        support.append(bodies_f1(g["support"], t.support))
        if "recurrence" in g:
            assert t.deadline is not None and t.deadline.recurrence == g["recurrence"], g["starts"]
    n = len(GOLD)
    # measured: lead 0.879, support 1.0 over 11 tasks (the two misses are named in partial.json's notes)
    assert sum(lead) / n >= 0.86, lead
    assert sum(support) / n >= 0.97, support
    assert sum(1 for x in lead if x == 1.0) >= 9, lead
