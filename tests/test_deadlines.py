"""Deadline parsing, one pattern family at a time, then agreement with the seeds' gold."""
from __future__ import annotations

import json
import re
import unicodedata

import pytest

from kehoach.extract.deadlines import (citation_spans, deadline_from_header, deadline_from_row, deadline_rules,
                                       parse_deadline, recurrence_rules, scan, time_column)

from tests.shared import files, need


def d(text, year=2025, **kw):
    return parse_deadline(text, year, **kw)


# --------------------------------------------------------------------------- data tables

def test_tables_load_and_cover_every_family():
    rules, guard = deadline_rules()
    families = {r.family for r in rules}
    assert {"fixed_date", "month", "quarter", "half", "year", "recurring_day", "cell"} <= families
    assert guard is not None and guard.search("so với ")
    rrules, tail, breakers = recurrence_rules()
    assert {r.value for r in rrules} == {"continuous", "daily", "weekly", "monthly", "quarterly", "semiannual", "yearly"}
    assert tail is not None and breakers is not None


# --------------------------------------------------------------------------- fixed dates

@pytest.mark.parametrize("text,year,date,phrase", [
    ("Sở Tư pháp trình UBND tỉnh dự thảo quy chế trước ngày 20/10/2025.", 2025, "2025-10-20", "trước ngày 20/10/2025"),
    ("Rà soát các quy trình nội bộ, hoàn thành trước ngày 30/6/2024;", 2024, "2024-06-30",
     "hoàn thành trước ngày 30/6/2024"),
    ("Xây dựng bộ tiêu chí đánh giá, thời gian hoàn thành trước ngày 05/12/2023.", 2023, "2023-12-05",
     "thời gian hoàn thành trước ngày 05/12/2023"),
    ("Gửi báo cáo tổng kết về Sở Nội vụ TRƯỚC NGÀY 31/12/2022", 2022, "2022-12-31", "TRƯỚC NGÀY 31/12/2022"),
    ("Gửi kết quả về Văn phòng trước ngày 15 tháng 11 năm 2025 để tổng hợp.", 2025, "2025-11-15",
     "trước ngày 15 tháng 11 năm 2025"),
    ("Nộp hồ sơ đề nghị trước 10/11/2026.", 2026, "2026-11-10", "trước 10/11/2026"),
    ("Báo cáo kết quả chậm nhất ngày 20/01/2025.", 2024, "2025-01-20", "chậm nhất ngày 20/01/2025"),
    ("Cập nhật danh mục lên Cổng thông tin trước ngày 20/7.", 2025, "2025-07-20", "trước ngày 20/7"),
    ("Triển khai thí điểm từ ngày 01/7/2025 đến ngày 30/9/2025.", 2025, "2025-09-30", "đến ngày 30/9/2025"),
    ("Kết quả rà soát gửi về Sở **trước ngày 15/9/2024** để tổng hợp.", 2024, "2024-09-15", "trước ngày 15/9/2024"),
])
def test_fixed_dates(text, year, date, phrase):
    got = d(text, year)
    assert got is not None and got.date == date and got.recurrence is None
    assert got.text == phrase


def test_patterns_match_lower_cased_text_and_any_case():
    """The patterns are folded to lower case and matched on the lowered text; a text whose
    lower case changes its length ("İ") is read with the case-insensitive patterns."""
    from kehoach.extract.deadlines import fold_pattern
    assert fold_pattern(r"(?P<Q>IV|I{1,3})\s+Tết\S\W") == r"(?P<q>iv|i{1,3})\s+tết\S\W"
    for text in ("Hoàn thành TRONG QUÝ IV/2025 để tổng hợp.", "Cơ sở İnox hoàn thành trong Quý IV/2025 để tổng hợp."):
        got = d(text, 2025)
        assert got is not None and got.date == "2025-12-31" and got.text.lower() == "hoàn thành trong quý iv/2025"


def test_date_without_year_needs_the_plan_year():
    assert d("Hoàn thiện hồ sơ trước ngày 20/7.", None) is None


def test_impossible_and_stale_dates_are_not_deadlines():
    assert d("Hoàn thành trước ngày 31/6/2025.", 2025) is None
    assert d("Hoàn thành trước ngày 30/02/2025.", 2025) is None
    # a "deadline" years before the plan is a citation or a history, not a deadline
    assert d("Đã hoàn thành trước ngày 31/12/2019.", 2025) is None


def test_first_deadline_wins_among_fixed_dates():
    text = ("Đề nghị công bố bổ sung danh mục, hoàn thành trước ngày 30/4/2025; phê duyệt phương án "
            "đơn giản hóa, hoàn thành trước ngày 15/10/2025.")
    assert d(text).date == "2025-04-30"


def test_reporting_cutoff_is_not_a_deadline():
    assert d("Số liệu báo cáo tính đến ngày 15/12/2025.") is None


# --------------------------------------------------------------------------- months, quarters, halves

@pytest.mark.parametrize("text,date", [
    ("Hoàn thành việc số hóa sổ hộ tịch trong tháng 9/2025.", "2025-09-30"),
    ("Đưa hệ thống vào vận hành trong tháng 02/2024.", "2024-02-29"),
    ("Ban hành quy chế phối hợp trước tháng 10/2025.", "2025-09-30"),
    ("Tổ chức diễn đàn đối thoại trong tháng 11.", "2025-11-30"),
    ("Thành lập Tổ công tác trong Quý III/2025 và đưa vào hoạt động trong Quý IV/2025.", "2025-09-30"),
    ("Đưa Trung tâm vào hoạt động trong quý IV năm 2025.", "2025-12-31"),
    ("Hoàn thành kiện toàn bộ máy trong quý I.", "2025-03-31"),
    ("Triển khai ứng dụng trên toàn tỉnh quý 2/2025.", "2025-06-30"),
    ("Hoàn thành sắp xếp đơn vị sự nghiệp trong 6 tháng đầu năm 2025.", "2025-06-30"),
    ("Tổng kết mô hình thí điểm 6 tháng cuối năm 2025.", "2025-12-31"),
    ("Tổ chức hội nghị đối thoại vào tháng 6/2025.", "2025-06-30"),
    ("Ban hành quy chế phối hợp, chậm nhất trong quý II/2025.", "2025-06-30"),
    ("Thời gian thực hiện: Quý III/2025", "2025-09-30"),
])
def test_months_quarters_halves(text, date):
    got = d(text)
    assert got is not None and got.date == date


# --------------------------------------------------------------------------- year time frames

@pytest.mark.parametrize("text,date", [
    ("Tăng cường công tác thu ngân sách nhà nước trong năm 2025; siết chặt kỷ luật tài chính.", "2025-12-31"),
    ("Nâng cấp cơ sở vật chất của Bộ phận một cửa, năm 2025 đạt tỷ lệ trên 70% hồ sơ nộp trực tuyến.",
     "2025-12-31"),
    ("Phấn đấu đến hết năm 2026, 100% hồ sơ được số hóa.", "2026-12-31"),
    ("Xây dựng cơ sở dữ liệu cán bộ; hoàn thành trong năm 2025.", "2025-12-31"),
])
def test_year_as_time_frame(text, date):
    got = d(text)
    assert got is not None and got.date == date


@pytest.mark.parametrize("text", [
    "Khắc phục các tồn tại của Chỉ số CCHC năm 2024 của tỉnh.",
    "Tổ chức thực hiện Kế hoạch chuyển đổi số năm 2025 của Sở.",
    "Phấn đấu tăng 5 bậc so với năm 2023.",
    "Triển khai Đề án nâng cao chỉ số PAR INDEX giai đoạn 2021-2025.",
    "Điều chỉnh giảm dự toán đối với nội dung không có khả năng chi hết năm 2025.",
    "Quán triệt và nâng cao các Chỉ số trong năm 2025 của cơ quan và của toàn tỉnh.",
    "Đẩy nhanh tiến độ giải ngân; nhất là các công trình khởi công trong năm 2025; rà soát kế hoạch năm 2025.",
    "Thực hiện theo Quyết định số 766/QĐ-TTg ngày 23 tháng 6 năm 2022 của Thủ tướng Chính phủ.",
    "Triển khai Luật Đất đai ngày 18 tháng 01 năm 2024 trên địa bàn.",
    "Hoàn thành kế hoạch năm 2025 của tỉnh.",
])
def test_year_in_a_name_or_citation_is_not_a_deadline(text):
    assert d(text) is None


def test_caller_excludes_citation_spans():
    text = "Tổ chức thực hiện Kế hoạch số 12/KH-UBND trước ngày 15/3/2025 của tỉnh."
    start = text.index("Kế hoạch")
    end = text.index(" của tỉnh")
    assert d(text) is not None  # no "ngày": not a citation date by itself
    assert d(text, exclude=[(start, end)]) is None


def test_citation_spans_cover_symbol_and_date():
    text = "theo Nghị định số 61/2018/NĐ-CP ngày 23 tháng 4 năm 2018 và Quyết định 1850/QĐ-UBND ngày 06/9/2021"
    spans = citation_spans(text)
    assert len(spans) == 2
    assert text[spans[0][0]:spans[0][1]].endswith("năm 2018")
    assert text[spans[1][0]:spans[1][1]].endswith("06/9/2021")


# --------------------------------------------------------------------------- recurring

@pytest.mark.parametrize("text,recurrence,day", [
    ("Thường xuyên kiểm tra việc tiếp nhận hồ sơ tại Bộ phận một cửa.", "continuous", None),
    ("Các phòng chuyên môn thường xuyên cập nhật quy trình nội bộ.", "continuous", None),
    ("Phòng Văn hóa: Thường xuyên tuyên truyền về dịch vụ công trực tuyến.", "continuous", None),
    ("Hằng tháng, tổng hợp kết quả xử lý phản ánh, kiến nghị.", "monthly", None),
    ("Văn phòng định kỳ hàng tháng công khai kết quả đánh giá.", "monthly", None),
    ("Báo cáo hằng quý về Ủy ban nhân dân tỉnh.", "quarterly", None),
    ("Tổ chức đánh giá định kỳ 6 tháng một lần.", "semiannual", None),
    ("Báo cáo sơ kết định kỳ sáu tháng.", "semiannual", None),
    ("Xây dựng kế hoạch kiểm tra hằng năm.", "yearly", None),
    ("Giao ban hằng tuần để nắm tiến độ.", "weekly", None),
    ("Cập nhật số liệu hằng ngày lên hệ thống.", "daily", None),
    ("Báo cáo kết quả trước ngày 20 hằng tháng.", "monthly", 20),
    ("Tổng hợp số liệu gửi Sở trước ngày 18 của tháng.", "monthly", 18),
    ("Báo cáo UBND tỉnh trước ngày 15 của tháng cuối quý.", "quarterly", 15),
    ("Gửi báo cáo năm về Sở trước ngày 10/12 hằng năm.", "yearly", None),
    ("Giao Văn phòng định kỳ (trước 15/12 hàng năm) báo cáo kết quả.", "yearly", None),
    ("Các đơn vị báo cáo định kỳ hằng quý, 6 tháng và năm về Sở Nội vụ.", "quarterly", None),
])
def test_recurring(text, recurrence, day):
    got = d(text)
    assert got is not None and got.recurrence == recurrence and got.day == day and got.date is None


def test_recurrence_word_and_day_merge():
    got = d("Định kỳ hằng tháng gửi kết quả chấm điểm về Sở Nội vụ tổng hợp trước ngày 22 của tháng.")
    assert (got.recurrence, got.day) == ("monthly", 22)
    assert got.text.startswith("Định kỳ hằng tháng") and got.text.endswith("trước ngày 22 của tháng")


@pytest.mark.parametrize("text", [
    "Giảm dần số đơn vị do ngân sách bảo đảm chi thường xuyên.",
    "Tiết kiệm 10% chi thường xuyên khác.",
    "Đây là nhiệm vụ thường xuyên, liên tục của người đứng đầu.",
    "Cập nhật, niêm yết thủ tục đúng quy định, đặc biệt phải thường xuyên cập nhật thông tin mới.",
    "Giao Phòng Nội vụ chủ trì triển khai Kế hoạch; thường xuyên theo dõi kết quả.",
    "Nâng cao tinh thần phục vụ. Thường xuyên có theo dõi, kiểm tra bộ phận một cửa.",
    "Cập nhật thông tin liên tục trên Cổng thông tin điện tử.",
    "Ký hợp đồng với ngân hàng năm 2025.",
])
def test_recurrence_words_that_do_not_qualify_the_task(text):
    assert d(text) is None


def test_completion_date_outranks_recurrence_but_year_frame_does_not():
    text = "Định kỳ hằng quý báo cáo tiến độ; hoàn thành việc cập nhật dữ liệu trước ngày 30/11/2025."
    assert d(text).date == "2025-11-30"
    text = "Trong năm 2025, định kỳ hằng tháng báo cáo kết quả số hóa."
    assert d(text).recurrence == "monthly"


# --------------------------------------------------------------------------- table time cells

@pytest.mark.parametrize("cell,date,recurrence", [
    ("Thường xuyên", None, "continuous"),
    ("Liên tục", None, "continuous"),
    ("Hằng năm", None, "yearly"),
    ("Hàng quý", None, "quarterly"),
    ("6 tháng", None, "semiannual"),
    ("Năm 2024", "2024-12-31", None),
    ("2025", "2025-12-31", None),
    ("Quý II/2025", "2025-06-30", None),
    ("Quý III", "2025-09-30", None),
    ("Tháng 6/2025", "2025-06-30", None),
    ("Tháng 8 năm 2025", "2025-08-31", None),
    ("31/10/2025", "2025-10-31", None),
    ("Trước ngày\n31/12/2025", "2025-12-31", None),
    ("Năm 2025 - 2026", "2026-12-31", None),
])
def test_time_cells(cell, date, recurrence):
    got = d(cell, cell=True)
    assert got is not None and (got.date, got.recurrence) == (date, recurrence)


def test_bare_values_are_deadlines_only_in_cells():
    for text in ("Năm 2024", "2025", "Quý III", "6 tháng", "Liên tục", "Tháng 9"):
        assert d(text, cell=False) is None, text
    assert d("Từ tháng 6/2025", cell=True) is None


def test_header_year():
    assert deadline_from_header("Chỉ tiêu năm 2024").date == "2024-12-31"
    assert deadline_from_header("Chỉ tiêu năm 2024").text == "năm 2024"
    assert deadline_from_header("Chỉ tiêu giai đoạn 2021 - 2025") is None
    assert deadline_from_header("Đơn vị") is None


def test_rows():
    tasks = ["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời hạn hoàn thành"]
    assert time_column(tasks) == 4
    assert deadline_from_row(["1", "Rà soát quy trình", "Sở Nội vụ", "", "Quý III/2025"], tasks, 2025).date == "2025-09-30"
    assert deadline_from_row(["2", "Cập nhật dữ liệu", "Sở Y tế", "", ""], tasks, 2025) is None
    indicators = ["TT", "Chỉ tiêu", "Đơn vị tính", "Kết quả năm 2024", "Chỉ tiêu năm 2025", "Cơ quan chủ trì"]
    assert time_column(indicators) is None
    got = deadline_from_row(["1", "Tỷ lệ hồ sơ trực tuyến", "%", "62", "Tối thiểu 70", "Sở Y tế"], indicators, 2025)
    assert (got.text, got.date) == ("năm 2025", "2025-12-31")


def test_scan_offsets_point_into_the_text():
    text = "Báo cáo hằng quý; hoàn thành **trước ngày 30/11/2025**."
    cands = scan(text, 2025)
    assert [c.recurrence or c.date for c in cands] == ["quarterly", "2025-11-30"]
    for c in cands:
        assert " ".join(text[c.start:c.end].replace("*", " ").split()) == c.text


# --------------------------------------------------------------------------- gold agreement

_CIT = re.compile(r"(số\s*)?\d+[/-][\w/Đđ-]+\s+ngày[^;,.]*\d{4}")
def _fold(s):
    s = unicodedata.normalize("NFD", s.replace("Đ", "D").replace("đ", "d"))
    s = "".join(c for c in s if unicodedata.category(c) != "Mn").lower()
    return re.sub(r"\W+", " ", s).strip()


def _table_rows(seed_text):
    """(folded task cell, cells, header) of the seed's tab-separated table rows."""
    rows, header = [], None
    for line in seed_text.splitlines():
        if "\t" not in line:
            continue
        cells = [c.strip() for c in line.split("\t")]
        if cells[0].upper() in ("STT", "TT"):
            header = cells
            continue
        main = max(cells[1:3], key=len) if header else ""
        if len(main) >= 15:
            rows.append((_fold(main), cells, header))
    return rows


def _predict(task_text, rows, plan_year):
    ft = _fold(task_text)
    for main, cells, header in rows:
        if main[:60] in ft or ft[:60] in main:
            got = deadline_from_row(cells, header, plan_year)
            if got:
                return got
            break
    return parse_deadline(task_text, plan_year, exclude=[m.span() for m in _CIT.finditer(task_text)])


def gold_agreement():
    hits = total = false_pos = nulls = 0
    for g in files("eval/gold", "*.json"):
        gold = json.loads(g.read_text(encoding="utf-8"))
        rows = _table_rows(need(f"seeds/{g.stem}.txt").read_text(encoding="utf-8"))
        date = gold["document"].get("date")
        plan_year = int(date[:4]) if date else None
        for t in gold["tasks"]:
            got, want = _predict(t["text"], rows, plan_year), t.get("deadline")
            if want:
                total += 1
                hits += bool(got) and (got.date == want["date"] if want["date"] else got.recurrence == want["recurrence"])
            else:
                nulls += 1
                false_pos += got is not None
    return hits, total, false_pos, nulls


def test_gold_agreement():
    hits, total, false_pos, nulls = gold_agreement()
    assert total >= 30
    assert hits / total >= 0.95, (hits, total)
    assert false_pos <= 0.03 * nulls, (false_pos, nulls)


# --------------------------------------------------------------------------- forms of real plans (issue 8)

@pytest.mark.parametrize("text, cell, want_text, want_date", [
    ("Tháng 12/2025", True, "Tháng 12/2025", "2025-12-31"),                 # month -> its last day
    ("tháng 11-12/2025", True, "tháng 11-12/2025", "2025-12-31"),           # a month range -> the last month
    ("Quý IV/2025", True, "Quý IV/2025", "2025-12-31"),                     # quarter -> its last day
    ("Năm 2026", True, "Năm 2026", "2026-12-31"),
    ("Tổ chức hội nghị trong tháng 01/2026.", False, "trong tháng 01/2026", "2026-01-31"),
    ("Báo cáo trước ngày 15/12.", False, "trước ngày 15/12", "2025-12-15"),   # no year: the plan's year
    ("Gửi báo cáo chậm nhất ngày 20/11/2025.", False, "chậm nhất ngày 20/11/2025", "2025-11-20"),
    ("Hoàn thành xong trước Tết Nguyên đán.", False, "xong trước Tết Nguyên đán", None),   # text kept, no date
    # 2820/QĐ-UBND (TP. Hồ Chí Minh): a year range in brackets closing a task
    ("Hoàn thiện hạ tầng công nghệ thông tin và phần mềm quản lý dữ liệu quy hoạch Thành phố, tùy điều kiện "
     "có thể tiến tới thí điểm (2025 - 2026).", False, "(2025 - 2026)", "2026-12-31"),
])
def test_forms_of_real_plans(text, cell, want_text, want_date):
    got = d(text, cell=cell)
    assert got is not None and got.text == want_text and got.date == want_date


def test_days_from_the_plan_date_need_the_plan_date():
    text = "Hoàn thành trong 100 ngày kể từ ngày ban hành Kế hoạch."
    assert d(text, plan_date="2025-10-01").date == "2026-01-09"
    got = d(text)
    assert got is not None and got.date is None and "100 ngày" in got.text


@pytest.mark.parametrize("text, recurrence", [
    # 0129/KH-UBND (Đắk Lắk)
    ("Huy động nguồn lực xã hội hóa tại chỗ; báo cáo 02 lần/ngày (trước 9h00’ và 16h00’) về tình hình", "daily"),
    ("Cập nhật liên tục tình hình ngập sâu, chia cắt và nhu cầu phát sinh của người dân.", "continuous"),
    # 2820/QĐ-UBND: "Thường xuyên" then a period is that period
    ("Thực hiện trách nhiệm giải trình. Thường xuyên, định kỳ hằng quý báo cáo về Sở Tài chính.", "quarterly"),
    ("Đào tạo nhân lực, nâng cao nhận thức cộng đồng, huy động doanh nghiệp tham gia (xuyên suốt 2025 - 2035).",
     "continuous"),
])
def test_recurrences_of_real_plans(text, recurrence):
    assert d(text).recurrence == recurrence


def test_xuyen_suot_as_an_adverb_is_no_deadline():
    # 0124/KH-UBND: "xuyên suốt" = throughout the system, not a time
    assert d("Triển khai sâu rộng, đồng bộ, xuyên suốt, đảm bảo thiết thực, hiệu quả với các nội dung.") is None


def test_a_bare_dinh_ky_is_kept_as_text_and_loses_to_any_other_deadline():
    got = d("Công an Thành phố chủ trì phối hợp với các đơn vị có liên quan định kỳ kiểm tra, đánh giá an toàn.")
    assert got.text == "định kỳ" and got.date is None and got.recurrence is None
    assert d("Định kỳ hằng năm báo cáo kết quả.").recurrence == "yearly"
    assert d("Định kỳ rà soát, hoàn thành trước ngày 15/8/2025.").date == "2025-08-15"


@pytest.mark.parametrize("text, want_text, recurrence", [
    # 0129/KH-UBND (Đắk Lắk): relief phases in hours, a round-the-clock duty
    ("Giai đoạn khẩn cấp (0-48 giờ): Tổ chức lực lượng, phương tiện tiếp cận ngay các vùng ngập sâu", "Giai đoạn khẩn cấp (0-48 giờ)", None),
    ("Giai đoạn sau 72 giờ: Hỗ trợ tấm lợp, vật liệu sửa nhà cho các hộ dân bị tốc mái", "Giai đoạn sau 72 giờ", None),
    ("UBND xã, phường thực hiện trực ban phòng chống thiên tai 24/24, duy trì thông tin liên lạc", "24/24", "continuous"),
])
def test_phases_and_round_the_clock_duty(text, want_text, recurrence):
    got = d(text)
    assert got.text == want_text and got.date is None and got.recurrence == recurrence
