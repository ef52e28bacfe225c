"""Indicator targets: value cells one comparator family at a time, then the gold indicator rows."""
from __future__ import annotations

import json
import re
import unicodedata

import pytest

from kehoach.extract.targets import (indicator_columns, parse_target, target_from_row, target_from_text, to_number,
                                     year_from_header)

from tests.shared import files, need


def t(value, unit=None, year=2025, metric="Tỷ lệ hồ sơ giải quyết đúng hạn"):
    return parse_target(metric, value, unit, year)


@pytest.mark.parametrize("value,comparator,number", [
    ("Tối thiểu 75", ">=", 75),
    ("tối thiểu 30 %", ">=", 30),
    ("Ít nhất 3", ">=", 3),
    ("Không dưới 85", ">=", 85),
    ("≥ 90%", ">=", 90),
    (">=70", ">=", 70),
    ("92% trở lên", ">=", 92),
    ("Từ 70% đến 85%", ">=", 70),
    ("80-90%", ">=", 80),
    ("Tối đa 5", "<=", 5),
    ("Không quá 2", "<=", 2),
    ("≤ 3%", "<=", 3),
    ("Trên 60", ">", 60),
    ("Dưới 10", "<", 10),
    ("100", "=", 100),
    ("100%", "=", 100),
    ("Đạt 95%", "=", 95),
])
def test_comparators(value, comparator, number):
    got = t(value)
    assert got is not None and (got.comparator, got.value) == (comparator, number)


@pytest.mark.parametrize("text,number", [
    ("83,81", 83.81), ("1.000", 1000), ("12.500", 12500), ("0.5", 0.5), ("01", 1), ("45", 45),
])
def test_numbers(text, number):
    assert to_number(text) == number
    assert isinstance(to_number(text), type(number))


def test_units_from_column_or_value():
    assert t("Tối thiểu 80", unit="%").unit == "%"
    assert t("100", unit="Hồ sơ").unit == "Hồ sơ"
    assert t("250", unit="Tỷ lệ (%)").unit == "%"
    assert t("01 bộ", unit=None).unit == "bộ"
    assert t("01 bộ", unit=None).value == 1
    assert t("120 lượt", unit=None).unit == "lượt"
    assert t("Tối thiểu 45%", unit=None).unit == "%"
    assert t("83,81", unit=None).unit is None


def test_metric_and_year_are_kept():
    got = parse_target("Tỷ lệ  thanh toán\ntrực tuyến", "Tối thiểu 45", "%", 2024)
    assert got.metric == "Tỷ lệ thanh toán trực tuyến" and got.year == 2024


@pytest.mark.parametrize("value", ["", "  ", "x", "-", "Không", "Chưa giao"])
def test_cells_without_a_number(value):
    assert t(value) is None


def test_year_from_header():
    assert year_from_header("Chỉ tiêu năm 2024") == 2024
    assert year_from_header("Kế hoạch 2025") == 2025
    assert year_from_header("Chỉ tiêu giai đoạn 2021-2025") is None
    assert year_from_header("Đơn vị tính") is None


# --------------------------------------------------------------------------- targets inside sentences

def test_target_from_sentence_with_year_and_comparator():
    got = target_from_text("Hỗ trợ người dân nộp hồ sơ qua mạng, năm 2025 đạt tỷ lệ trên 75% số hồ sơ "
                           "đăng ký hộ kinh doanh nộp trực tuyến; tăng cường kiểm tra.", 2024)
    assert len(got) == 1
    g = got[0]
    assert (g.comparator, g.value, g.unit, g.year) == (">", 75, "%", 2025)
    assert g.metric.startswith("tỷ lệ số hồ sơ đăng ký hộ kinh doanh")


def test_target_from_sentence_minimum_and_plain():
    got = target_from_text("Phấn đấu bảo đảm 100% văn bản được ký số.", 2025)
    assert [(g.comparator, g.value) for g in got] == [("=", 100)]
    got = target_from_text("Bảo đảm đơn giản hóa ít nhất 25% số lượng thủ tục nội bộ.", 2025)
    assert [(g.comparator, g.value, g.metric) for g in got] == [(">=", 25, "số lượng thủ tục nội bộ")]


@pytest.mark.parametrize("text", [
    "Rà soát 100% thủ tục hành chính nội bộ.",                 # no target cue
    "Thực hiện tiết kiệm 10% chi thường xuyên khác.",           # a rate of change
    "Cắt giảm ít nhất 20% chi phí tuân thủ.",                   # a rate of change
    "Giao Sở Tài chính chủ trì, phối hợp các cơ quan liên quan.",
])
def test_no_target_in_sentence(text):
    assert target_from_text(text, 2025) == []


# --------------------------------------------------------------------------- gold indicator rows

def _fold(s):
    s = unicodedata.normalize("NFD", s.replace("Đ", "D").replace("đ", "d"))
    s = "".join(c for c in s if unicodedata.category(c) != "Mn").lower()
    return re.sub(r"\W+", " ", s).strip()


def _indicator_rows(seed_text):
    """(cells, header) of the seed's tab tables whose header is an indicator header."""
    out, header = [], None
    for line in seed_text.splitlines():
        if "\t" not in line:
            continue
        cells = [c.strip() for c in line.split("\t")]
        if cells[0].upper() in ("STT", "TT"):
            header = cells if indicator_columns(cells) else None
            continue
        if header:
            out.append((cells, header))
    return out


def test_indicator_columns():
    cols = indicator_columns(["TT", "Tên chỉ tiêu", "ĐVT", "Kết quả năm 2024", "Chỉ tiêu năm 2025", "Cơ quan chủ trì"])
    assert (cols.metric, cols.unit, cols.value, cols.year) == (1, 2, 4, 2025)
    assert indicator_columns(["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Thời gian"]) is None
    row = ["1", "Tỷ lệ hồ sơ trực tuyến", "%", "62", "Tối thiểu 70", "Sở Y tế"]
    got = target_from_row(row, ["TT", "Tên chỉ tiêu", "ĐVT", "Kết quả năm 2024", "Chỉ tiêu năm 2025", "Cơ quan"], 2024)
    assert (got.metric, got.comparator, got.value, got.unit, got.year) == ("Tỷ lệ hồ sơ trực tuyến", ">=", 70, "%", 2025)


def test_gold_indicator_targets():
    checked = agree = 0
    for g in files("eval/gold", "*.json"):
        gold = json.loads(g.read_text(encoding="utf-8"))
        rows = _indicator_rows(need(f"seeds/{g.stem}.txt").read_text(encoding="utf-8"))
        date = gold["document"].get("date")
        plan_year = int(date[:4]) if date else None
        for task in gold["tasks"]:
            for want in task.get("targets") or []:
                fm = _fold(want["metric"])
                row = next(((c, h) for c, h in rows
                            if _fold(c[indicator_columns(h).metric]) and _fold(c[indicator_columns(h).metric])[:40] in fm
                            and c[indicator_columns(h).value]), None)
                if row is None:
                    continue
                checked += 1
                got = target_from_row(row[0], row[1], plan_year, metric=want["metric"])
                agree += got is not None and (got.metric, got.comparator, got.value, got.unit, got.year) == \
                    (want["metric"], want["comparator"], want["value"], want["unit"], want["year"])
    assert checked >= 10
    assert agree == checked, (agree, checked)
