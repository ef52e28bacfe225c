"""Charts (``kehoach.search.charts``) on the seeds' records: every bar's count is what the tasks
view lists for that bar's filters, the SVG is well-formed, accessible and escapes what it shows."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from kehoach.models import Extraction
from kehoach.search import charts as C
from kehoach.search import tasks as T
from kehoach.search.fixtures import load_records
from kehoach.search.hybrid import docs_from_extractions
from tests.shared import files, need

SVG = "{http://www.w3.org/2000/svg}"
AS_OF = date(2021, 9, 1)


@pytest.fixture(scope="module")
def docs():
    records = load_records(files("eval/gold", "*.json"), need("seeds"))
    return docs_from_extractions((i, ex) for i, (ex, _) in enumerate(records, 1))


def bars_of(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)                     # well-formed XML, or this raises
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    assert root.find(SVG + "title").text and root.find(SVG + "desc") is not None
    return root.iter(SVG + "g")


def test_owner_bars_count_each_canonical_lead_body_once_per_task(docs):
    chart = C.owner_bars(docs, top=10)
    assert 3 <= len(chart.bars) <= 10
    values = [b.value for b in chart.bars]
    assert values == sorted(values, reverse=True)
    for b in chart.bars:
        # the bar's filters (usual spelling, province, lead role) list at least the bar's tasks in the tasks view
        listed = T.select(docs, T.TaskQuery(**b.query))
        assert len(listed) >= b.value > 0, b
        assert all(any(T.owner_key(b.query["owner"]) in T.owner_key(n) for n in d.lead) for d in listed)
    # "UBND tỉnh" in a Quảng Trị plan and "Ủy ban nhân dân tỉnh Quảng Trị" are one body, never two bars
    labels = [b.label for b in chart.bars]
    assert len(labels) == len(set(labels))
    assert not any(b.label.lower().startswith("các ") for b in chart.bars)      # generic groups left out


def test_owner_bars_equal_the_tasks_view_for_a_body_written_one_way(docs):
    chart = C.owner_bars(docs, top=50)
    checked = 0
    for b in chart.bars:
        listed = T.select(docs, T.TaskQuery(**b.query))
        spellings = {n for d in listed for n in d.lead if T.owner_key(b.query["owner"]) in T.owner_key(n)}
        if len(spellings) == 1 and len(listed) == len({d.key for d in listed}):
            assert b.value == len(listed), b
            checked += 1
    assert checked >= 5


def test_month_bars_equal_the_tasks_view_for_each_period(docs):
    chart = C.month_bars(docs, AS_OF)
    assert chart.bars and chart.legend
    dated = [d for d in docs if T.deadline_end(d.deadline)]
    assert sum(b.value for b in chart.bars) == len(dated)
    for b in chart.bars:
        q = b.query
        rng = T.select(docs, T.TaskQuery(deadline_from=q["deadline_from"], deadline_to=q["deadline_to"]))
        assert b.value == len(rng), b.label
        over = T.select(docs, T.TaskQuery(deadline_from=q["deadline_from"], deadline_to=q["deadline_to"],
                                          status="overdue", as_of=q["as_of"]))
        assert dict(b.parts)["Quá hạn"] == len(over), b.label
    assert any(dict(b.parts)["Quá hạn"] for b in chart.bars) and any(dict(b.parts)["Chưa quá hạn"] for b in chart.bars)
    later = C.month_bars(docs, date(2100, 1, 1))      # as of a later day, every dated task is overdue
    assert all(dict(b.parts)["Chưa quá hạn"] == 0 for b in later.bars)


def test_province_bars_count_plans(docs):
    plans = {d.plan_id: d.plan for d in docs}.values()
    chart = C.province_bars(plans)
    assert sum(b.value for b in chart.bars) == len(plans)
    by = {b.label: b.value for b in chart.bars}
    assert by.get("Quảng Trị") == sum(1 for p in plans if p.get("province") == "Quảng Trị") >= 1


def test_svg_has_a_labelled_bar_with_its_number_for_every_bar(docs):
    for chart in (C.owner_bars(docs, 8), C.month_bars(docs, AS_OF)):
        svg = C.render(chart)
        gs = [g for g in bars_of(svg) if g.get("class") == "bar"]
        assert len(gs) == len(chart.bars)
        for g, b in zip(gs, chart.bars):
            assert g.get("data-value") == str(b.value)
            texts = [t.text for t in g.iter(SVG + "text")]
            assert str(b.value) in texts or b.value == 0
            counts = [int(r.get("data-count")) for r in g.iter(SVG + "rect")]
            assert sum(counts) == b.value
        assert "<script" not in svg and "style=" not in svg       # CSP: no script, no inline style


def test_hostile_owner_names_are_escaped():
    evil = '<script>alert(1)</script> Sở "Thử" & <img src=x onerror=alert(2)>'
    ex = Extraction.from_dict({"source": "evil.txt", "document": {"number": "1/KH-X", "type": "Kế hoạch",
                               "issuer": "Ủy ban nhân dân tỉnh Quảng Trị"},
                               "tasks": [{"id": f"t{i}", "kind": "task", "lead": [evil], "text": "Rà soát"}
                                         for i in range(3)]})
    docs = docs_from_extractions([(1, ex)])
    chart = C.owner_bars(docs)
    assert chart.bars and chart.bars[0].value == 3
    svg = C.render(chart)
    assert "<script>" not in svg and "<img" not in svg
    assert "&lt;script&gt;" in svg and "&amp;" in svg
    gs = [g for g in bars_of(svg) if g.get("class") == "bar"]
    assert "<script>" in gs[0].get("data-label")               # the parsed text is the name itself


def test_no_rows_gives_a_readable_empty_chart():
    for chart in (C.owner_bars([]), C.month_bars([], AS_OF), C.province_bars([])):
        svg = C.render(chart)
        assert "Không có nhiệm vụ" in svg
        assert not [g for g in bars_of(svg) if g.get("class") == "bar"]
