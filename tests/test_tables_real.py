"""Task tables as issued: rows copied from real plans' task tables (Nghị quyết 105/NQ-CP,
Quyết định 982/QĐ-TTg and 893/QĐ-TTg of 2026, Quyết định 2820/QĐ-UBND of TP Hồ Chí Minh),
read by ``extract.tables``; and the vendored real PDFs end to end."""
from __future__ import annotations

import pytest

from kehoach.extract.deadlines import parse_deadline
from kehoach.extract.tables import _Row, _row_kind, classify_columns, table_tasks
from kehoach.extract.targets import parse_target
from kehoach.extract.tasks import Context
from kehoach.ingest.builder import DocBuilder
from tests.shared import files

# Nghị quyết 105/NQ-CP (2026), Phụ lục, pages 9-13: roman group rows, one with owner and time cells
NQ105_HEADER = ["TT", "Nội dung công việc", "Cơ quan chủ trì", "Cơ quan phối hợp", "Cấp trình", "Sản phẩm",
                "Thời hạn hoàn thành"]
NQ105 = [
    ["I", "Thực hiện hiệu quả công tác giáo dục chính trị, tư tưởng, thông tin, tuyên truyền", "", "", "", "", ""],
    ["1", "Tham mưu cấp có thẩm quyền xem xét, quyết định biểu dương, khen thưởng những tập thể, cá nhân có thành "
          "tích đặc biệt xuất sắc trong tổ chức triển khai, thực hiện sắp xếp, tinh gọn tổ chức bộ máy",
     "Các bộ, cơ quan ngang bộ, Ủy ban nhân dân các tỉnh, thành phố trực thuộc trung ương",
     "Bộ Nội vụ; các bộ, ngành, cơ quan liên quan", "Cấp có thẩm quyền", "Quyết định biểu dương, khen thưởng",
     "Thường xuyên"],
    ["II", "Hoàn thiện thể chế; tiếp tục đẩy mạnh phân cấp, phân quyền gắn với cải cách thủ tục hành chính",
     "Các bộ, cơ quan ngang bộ, Ủy ban nhân dân các tỉnh, thành phố trực thuộc trung ương", "",
     "Cấp có thẩm quyền", "", "Thường xuyên"],
    ["1", "Tăng cường hướng dẫn, hỗ trợ các địa phương thực hiện có hiệu quả các nhiệm vụ được phân cấp, phân quyền",
     "Các bộ, cơ quan ngang bộ", "Các bộ, ngành, cơ quan liên quan", "Cấp có thẩm quyền",
     "Hoạt động theo dõi, hướng dẫn, hỗ trợ địa phương", "Thường xuyên"],
    ["2", "Thực hiện quản lý, sử dụng hiệu quả tài sản công; bố trí nguồn lực, đầu tư cơ sở vật chất, trang thiết "
          "bị, điều kiện làm việc cho các cơ quan, đơn vị, tổ chức nhất là nơi hợp nhất, sáp nhập và cấp xã",
     "Các bộ, cơ quan ngang bộ, Ủy ban nhân dân các tỉnh, thành phố trực thuộc trung ương", "Bộ Tài chính",
     "Cấp có thẩm quyền", "Hoạt động theo dõi, hướng dẫn, hỗ trợ địa phương", "Năm 2026"],
    ["IV", "Thực hiện hiệu quả công tác quản lý cán bộ, công chức, viên chức", "", "", "", "", ""],
    ["2", "Rà soát, phê duyệt vị trí việc làm, tỷ lệ công chức, viên chức bố trí theo vị trí việc làm",
     "Các bộ, cơ quan ngang bộ, Ủy ban nhân dân các tỉnh, thành phố trực thuộc trung ương", "",
     "Cấp có thẩm quyền", "Văn bản phê duyệt vị trí việc làm",
     "Năm 2026 (sau khi Chính phủ ban hành Nghị định quy định về vị trí việc làm)"],
]

# Quyết định 982/QĐ-TTg (2026), Phụ lục, page 13: a numbered group row with empty cells over 1.1, 1.2
QD982_HEADER = ["TT", "Nhiệm vụ, giải pháp", "Cơ quan chủ trì", "Cơ quan phối hợp", "Sản phẩm", "Thời gian thực hiện"]
QD982 = [
    ["1.", "Rà soát, hoàn thiện thể chế", "", "", "", ""],
    ["1.1", "Nghiên cứu, rà soát, sửa đổi, bổ sung và đơn giản hóa các quy định, thủ tục hành chính liên quan đến "
            "hoạt động đầu tư, kinh doanh, xuất khẩu sản phẩm, dịch vụ công nghệ số.",
     "Bộ Tài chính", "Bộ Khoa học và Công nghệ Cơ quan, tổ chức và doanh nghiệp liên quan",
     "Cơ chế, chính sách được ban hành", "Nhiệm vụ thường xuyên"],
    ["1.2", "Nghiên cứu, xây dựng cơ chế tài chính, tín dụng khuyến khích M&A doanh nghiệp công nghệ số vươn ra "
            "toàn cầu.",
     "Bộ Tài chính", "Bộ Khoa học và Công nghệ Cơ quan, tổ chức và doanh nghiệp liên quan",
     "Cơ chế, chính sách được ban hành", "Quý IV/2026"],
]

# Quyết định 893/QĐ-TTg (2026), Phụ lục, page 15: year-range deadlines in "Tiến độ thực hiện"
QD893_HEADER = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Đơn vị phối hợp (Bộ/ngành/địa phương)", "Cấp phê duyệt",
                "Tiến độ thực hiện"]
QD893 = [
    ["1", "Điều tra, đánh giá nhu cầu đào tạo, bồi dưỡng nhân lực quản lý nhà nước, nghiên cứu - phát triển, ứng "
          "dụng và hỗ trợ kỹ thuật trong lĩnh vực năng lượng nguyên tử",
     "Bộ Khoa học và Công nghệ", "Các bộ, ngành và địa phương", "Bộ trưởng Bộ Khoa học và Công nghệ", "Hằng năm"],
    ["3", "Ban hành khung chương trình đào tạo, bồi dưỡng đối với nhân lực quản lý nhà nước theo yêu cầu vị trí "
          "việc làm trong lĩnh vực năng lượng nguyên tử",
     "Bộ Khoa học và Công nghệ", "Bộ Giáo dục và Đào tạo và các bộ, ngành, địa phương có liên quan",
     "Bộ trưởng Bộ Khoa học và Công nghệ", "2026 - 2027"],
]

# Quyết định 2820/QĐ-UBND (TP Hồ Chí Minh, 2025), Phụ lục: "Kết quả dự kiến" is the product column
QD2820_HEADER = ["TT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian dự kiến hoàn thành",
                 "Kết quả dự kiến", "Nguồn kinh phí"]
QD2820 = [
    ["I", "Hoàn thiện thể chế, ban hành quy định, hướng dẫn yêu cầu kỹ thuật để xây dựng và triển khai Hệ thống "
          "thông tin và cơ sở dữ liệu quốc gia về quy hoạch", "", "", "", "", ""],
    ["1", "Phối hợp rà soát, sửa đổi Luật Quy hoạch và xây dựng các văn bản quy phạm pháp luật có liên quan để tạo "
          "hành lang pháp lý cho hoạt động của Hệ thống thông tin và cơ sở dữ liệu quốc gia về quy hoạch.",
     "Sở Tài chính", "Các sở, ngành, UBND xã, phường, đặc khu", "Quý IV/2025",
     "Luật Quy hoạch, Quyết định của cấp có thẩm quyền", "Chi thường xuyên hoặc nguồn vốn hợp pháp khác (nếu có)"],
    ["2", "Phối hợp xây dựng nội dung quy định việc xây dựng, cập nhật, duy trì và khai thác, sử dụng cơ sở dữ liệu "
          "quốc gia về quy hoạch trong Nghị định hướng dẫn chi tiết thi hành Luật Quy hoạch sửa đổi.",
     "Sở Tài chính", "Các sở, ngành, UBND xã, phường, đặc khu", "Năm 2025 - 2026", "Nghị định", ""],
]


def _tasks(header, rows, year=2026, section="PL", appendix=True, pages=None):
    b = DocBuilder()
    b.para("PHỤ LỤC", 1)
    b.table()
    b.row(header, 1, True)
    for k, r in enumerate(rows):
        b.row(r, (pages or {}).get(k, 1), False)
    doc = b.build("t.pdf", "x", "pdf")
    ctx = Context(doc=doc, plan_year=year, deadline=parse_deadline, target=parse_target)
    return table_tasks(ctx, lambda bi: section, lambda bi: appendix)


def test_roman_group_rows_are_headings_not_tasks():
    tasks = _tasks(NQ105_HEADER, NQ105)
    texts = [t.text for t in tasks]
    assert len(tasks) == 4
    assert not any(t.startswith(("Thực hiện hiệu quả công tác", "Hoàn thiện thể chế;")) for t in texts)


def test_rows_take_their_section_from_group_and_stt():
    assert [t.section for t in _tasks(NQ105_HEADER, NQ105)] == ["PL.I.1", "PL.II.1", "PL.II.2", "PL.IV.2"]
    assert [t.section for t in _tasks(QD982_HEADER, QD982, section="Điều 3.2", appendix=False)] == \
        ["Điều 3.2.1.1", "Điều 3.2.1.2"]


def test_numbered_group_row_over_sub_rows_is_not_a_task_and_keeps_sub_row_text():
    tasks = _tasks(QD982_HEADER, QD982)
    assert [t.text[:20] for t in tasks] == ["Nghiên cứu, rà soát,", "Nghiên cứu, xây dựng"]
    assert tasks[0].deadline.recurrence == "continuous"
    assert tasks[1].deadline.date == "2026-12-31"


def test_group_row_owner_and_deadline_pass_down_to_empty_cells():
    rows = [r[:] for r in NQ105[2:5]]
    rows[1][2] = rows[1][6] = ""            # a row under group II with no owner and no time of its own
    tasks = _tasks(NQ105_HEADER, rows)
    assert tasks[0].lead == ["Các bộ, cơ quan ngang bộ",
                             "Ủy ban nhân dân các tỉnh, thành phố trực thuộc trung ương"]
    assert tasks[0].deadline.recurrence == "continuous"
    assert tasks[1].lead == ["Các bộ, cơ quan ngang bộ",
                             "Ủy ban nhân dân các tỉnh, thành phố trực thuộc trung ương"]


def test_merged_time_cell_is_copied_down_in_a_filled_column():
    rows = [r[:] for r in QD893] + [[r[0] + "0"] + r[1:] for r in QD893]
    rows[2][5] = ""                          # the cell under "2026 - 2027", vertically merged
    tasks = _tasks(QD893_HEADER, rows)
    assert [t.deadline.text for t in tasks] == ["Hằng năm", "2026 - 2027", "2026 - 2027", "2026 - 2027"]


def test_deadline_cells_as_real_tables_write_them():
    got = [(t.deadline.text, t.deadline.date, t.deadline.recurrence) for t in _tasks(NQ105_HEADER, NQ105)]
    assert got == [("Thường xuyên", None, "continuous"), ("Thường xuyên", None, "continuous"),
                   ("Năm 2026", "2026-12-31", None), ("Năm 2026", "2026-12-31", None)]
    assert [(t.deadline.text, t.deadline.date) for t in _tasks(QD893_HEADER, QD893)][1] == ("2026 - 2027", "2027-12-31")
    assert [(t.deadline.text, t.deadline.date) for t in _tasks(QD2820_HEADER, QD2820, year=2025)] == \
        [("Quý IV/2025", "2025-12-31"), ("Năm 2025 - 2026", "2026-12-31")]


def test_product_column_fills_task_product():
    assert [t.product for t in _tasks(QD982_HEADER, QD982)] == ["Cơ chế, chính sách được ban hành"] * 2
    tasks = _tasks(QD2820_HEADER, QD2820, year=2025)
    assert [t.product for t in tasks] == ["Luật Quy hoạch, Quyết định của cấp có thẩm quyền", "Nghị định"]
    assert tasks[0].to_dict()["product"] == "Luật Quy hoạch, Quyết định của cấp có thẩm quyền"
    assert all(t.product is None for t in _tasks(QD893_HEADER, QD893))     # no such column


def test_columns_of_real_headers():
    assert classify_columns(QD2820_HEADER) == {"stt": 0, "text": 1, "lead": 2, "support": 3, "time": 4,
                                               "product": 5}
    assert classify_columns(NQ105_HEADER)["product"] == 5
    assert "product" not in classify_columns(QD893_HEADER)


def test_header_repeated_on_a_later_page_is_not_a_task():
    # the header as a page of the text copy repeats it, with one cell worded apart
    repeat = ["TT", "Nhiệm vụ, giải pháp", "Cơ quan chủ trì", "Cơ quan phối hợp", "Sản phẩm", "Thời gian"]
    numbering = ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"]
    tasks = _tasks(QD982_HEADER, [numbering] + QD982[:2] + [repeat] + QD982[2:])
    assert [t.section for t in tasks] == ["PL.1.1", "PL.1.2"]
    cols = classify_columns(QD982_HEADER)
    assert _row_kind(_Row(None, repeat, cols), QD982_HEADER, None) == "header"


def test_pilot_period_is_not_the_deadline():
    # a 2820/QĐ-UBND row whose text ends with the pilot period the issue quotes from a Hà Nội
    # plan's task table ("thí điểm đến 31/12/2027"), its time cell empty
    row = ["1", "Phối hợp xây dựng nội dung quy định việc xây dựng, cập nhật, duy trì và khai thác, sử dụng cơ sở "
                "dữ liệu quốc gia về quy hoạch, thí điểm đến 31/12/2027",
           "Sở Tài chính", "Các sở, ngành, UBND xã, phường, đặc khu", "", "Nghị định", ""]
    assert _tasks(QD2820_HEADER, [row], year=2025)[0].deadline is None
    row[4] = "Quý IV/2026"
    assert _tasks(QD2820_HEADER, [row], year=2025)[0].deadline.date == "2026-12-31"


@pytest.mark.parametrize("path", files("real/pdf", "*.pdf"), ids=lambda p: p.stem)
def test_vendored_real_pdfs_give_no_header_or_group_rows_as_tasks(path):
    from kehoach.extract import extract
    from kehoach.ingest import read
    ex = extract(read(str(path)))
    heads = {"stt", "tt", "nhiệm vụ", "nội dung", "cơ quan chủ trì", "đơn vị chủ trì", "thời gian"}
    assert not [t.text for t in ex.tasks if t.text.strip().lower() in heads]
    for t in ex.tasks:
        assert t.product is None or t.product.strip()


# ---------------------------------------------------------------- Công văn task lists

# No real Công văn is in the shared data: this one follows the form of Nghị định 30/2020/NĐ-CP
# (Phụ lục III, mẫu 1.4 Công văn): letterhead, V/v, "Kính gửi:" with recipients one a line,
# the numbered assignments, the closing formula ending "./.", Nơi nhận, signature.
CONG_VAN = """UBND THÀNH PHỐ HÀ NỘI
SỞ Y TẾ
Số: 1234/SYT-NVY
V/v triển khai công tác phòng, chống dịch bệnh mùa hè năm 2025
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Hà Nội, ngày 15 tháng 5 năm 2025

Kính gửi:
- Các bệnh viện trực thuộc Sở Y tế;
- Trung tâm Kiểm soát bệnh tật Hà Nội;
- Trung tâm Y tế các quận, huyện, thị xã.

Thực hiện Kế hoạch số 120/KH-UBND ngày 10/4/2025 của Ủy ban nhân dân Thành phố về phòng, chống dịch bệnh truyền nhiễm năm 2025, Sở Y tế yêu cầu các đơn vị triển khai các nội dung sau:
1. Trung tâm Kiểm soát bệnh tật Hà Nội chủ trì, phối hợp với Trung tâm Y tế các quận, huyện tăng cường giám sát, phát hiện sớm các trường hợp mắc bệnh sốt xuất huyết, tay chân miệng; báo cáo Sở Y tế trước ngày 30/6/2025.
2. Các bệnh viện trực thuộc chuẩn bị đầy đủ thuốc, vật tư, trang thiết bị, giường bệnh để thu dung, điều trị người bệnh, hạn chế thấp nhất tử vong.
3. Trung tâm Y tế các quận, huyện, thị xã tổ chức tuyên truyền các biện pháp phòng bệnh cho người dân tại cộng đồng.
4. Giao Phòng Nghiệp vụ Y tổng hợp kết quả thực hiện, báo cáo Giám đốc Sở hằng tháng.
Sở Y tế đề nghị các đơn vị nghiêm túc triển khai thực hiện./.

Nơi nhận:
- Như trên;
- Lưu: VT, NVY.
KT. GIÁM ĐỐC
PHÓ GIÁM ĐỐC
Nguyễn Văn A
"""


def test_cong_van_numbered_assignments_are_its_tasks():
    from kehoach.extract import extract
    from kehoach.ingest.text import read_text
    ex = extract(read_text(CONG_VAN.encode("utf-8"), "cv.txt", "x"))
    assert ex.document.type == "Công văn"
    assert [t.section for t in ex.tasks] == ["1", "2", "3", "4"]        # not the recipients, not the closing
    assert ex.tasks[0].lead == ["Trung tâm Kiểm soát bệnh tật Hà Nội"]
    assert ex.tasks[0].deadline.date == "2025-06-30"
    assert ex.tasks[3].lead == ["Phòng Nghiệp vụ Y"]
    assert ex.tasks[3].deadline.recurrence == "monthly"


def test_a_figures_form_over_years_gives_no_tasks_but_a_target_table_does():
    """0204/KH-UBND (Cà Mau, 3-year budget plan) annexes forms of figures ("Năm hiện hành 2025 | Năm 2026 |
    Năm 2027 | Năm 2028"); they forecast, they assign nothing. Seed 004's target table keeps its indicators."""
    from kehoach.extract import extract
    from kehoach.ingest import read
    from tests.shared import need
    from kehoach.extract.tables import _figures_form
    assert _figures_form(["STT", "Nội dung", "Đơn vị tính", "Năm hiện hành 2025", "Năm 2026", "Năm 2027"])
    assert _figures_form(["STT", "Nội dung", "Năm 2025", "Dự toán 2026", "DT 2026 với UTH 2025 (%)"])
    assert not _figures_form(["STT", "Chỉ tiêu", "Đơn vị", "Chỉ tiêu năm 2024", "Cơ quan chủ trì thực hiện"])
    ex = extract(read(need("real/web/0204-KH-UBND__9b7eebad.txt")))
    assert not [t for t in ex.tasks if t.section.startswith("PL")]
    assert len(ex.tasks) >= 12
    seed = extract(read(need("seeds/004_5709e56b5db05d79.txt")))
    assert sum(t.kind == "indicator" for t in seed.tasks) == 15
