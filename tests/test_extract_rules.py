"""Unit tests of the extraction stages one family at a time: bodies, owners, header, outline,
and a Quyết định that issues a plan (2025 two-level local government, web-portal text)."""
from pathlib import Path

import pytest

from kehoach.extract import extract
from kehoach.extract.bodies import bodies, canonical, kind_of
from kehoach.extract.header import issuer_kind, sentence_case_name
from kehoach.extract.outline import build_outline, parse_marker
from kehoach.extract.owners import heading_owner, leading_owner, owner_declaration, support_in
from kehoach.ingest import read
from kehoach.ingest.builder import DocBuilder

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("text,expected", [
    ("Phòng Tư pháp và Trung tâm Phục vụ hành chính công xã", ["Phòng Tư pháp", "Trung tâm Phục vụ hành chính công xã"]),
    ("Trung tâm Xúc tiến đầu tư, thương mại và Du lịch", ["Trung tâm Xúc tiến đầu tư, thương mại và Du lịch"]),
    ("các phòng, ban, Ủy ban nhân dân xã, phường", ["Các phòng, ban", "Ủy ban nhân dân xã, phường"]),
    ("Sở Tài chính, Sở TT&TT, Công an tỉnh và các cơ quan có liên quan",
     ["Sở Tài chính", "Sở Thông tin và Truyền thông", "Công an tỉnh", "Các cơ quan có liên quan"]),
    ("- Các cơ quan chuyên môn thuộc UBND tỉnh - UBND các xã, phường", ["Các cơ quan chuyên môn thuộc Ủy ban nhân dân tỉnh", "Ủy ban nhân dân các xã, phường"]),
    ("Văn phòng HĐND và UBND huyện; Phòng Văn hóa và Thông tin", ["Văn phòng Hội đồng nhân dân và Ủy ban nhân dân huyện", "Phòng Văn hóa và Thông tin"]),
])
def test_lists_of_bodies_split_at_body_boundaries_only(text, expected):
    assert bodies(text) == expected


def test_two_names_of_one_body_and_the_spaced_dash():
    # 4385/QĐ-BVHTTDL: the department is named differently from province to province
    assert bodies("Sở Văn hóa, Thể thao và Du lịch/Sở Văn hóa và Thể thao tỉnh, thành phố trực thuộc Trung ương") == [
        "Sở Văn hóa, Thể thao và Du lịch tỉnh, thành phố trực thuộc Trung ương",
        "Sở Văn hóa và Thể thao tỉnh, thành phố trực thuộc Trung ương"]
    assert bodies("Ban Chỉ đạo 389/TW") == ["Ban Chỉ đạo 389/TW"]
    # 982/KH-UBND writes "chính trị-xã hội"
    assert bodies("Ủy ban Mặt trận Tổ quốc tỉnh, các tổ chức chính trị-xã hội") == [
        "Ủy ban Mặt trận Tổ quốc tỉnh", "Các tổ chức chính trị - xã hội"]


def test_canonical_names_drop_leader_titles_and_expand_abbreviations():
    assert canonical("Thủ trưởng các sở, ban, ngành") == "Các sở, ban, ngành"
    assert canonical("Giao Văn phòng UBND tỉnh") == "Văn phòng Ủy ban nhân dân tỉnh"
    assert canonical("Chủ tịch UBND các xã") == "Ủy ban nhân dân các xã"
    assert kind_of("Các cơ quan liên quan") == "generic" and kind_of("Sở Nội vụ") == "so"


@pytest.mark.parametrize("heading,owners", [
    ("b) Sở Tài chính có trách nhiệm:", ["Sở Tài chính"]),
    ("3.1. Công an tỉnh", ["Công an tỉnh"]),
    ("2. Trách nhiệm của Ủy ban nhân dân các xã, phường", ["Ủy ban nhân dân các xã, phường"]),
    ("III. TRÁCH NHIỆM CỦA CÁC CƠ QUAN, ĐƠN VỊ", ["Các cơ quan, đơn vị"]),
    ("a) Đối với chỉ số cải cách thể chế", []),
    ("1. Nâng cao chất lượng dịch vụ công trực tuyến", []),
    # 01/2026/QĐ-TTg Điều 12: a procedural time limit between the subject and "có trách nhiệm" is no part
    # of the name; the lines of a certificate's template are not bodies ("đ) Các dòng tiếp theo: Dùng để ghi")
    ("2. Ủy ban nhân dân cấp xã trong thời hạn 15 ngày làm việc kể từ ngày nhận đủ hồ sơ theo quy định có trách "
     "nhiệm:", ["Ủy ban nhân dân cấp xã"]),
    # 16/CT: a body and its role alone head its duties; with an object the line is a task, not a heading
    ("5. Sở Y tế chủ trì, phối hợp thực hiện", ["Sở Y tế"]),
    ("2. Sở Tài chính chủ trì thực hiện các nhiệm vụ sau:", ["Sở Tài chính"]),
    ("3. Sở Nội vụ chủ trì tổ chức hội nghị tổng kết", []),
    # a fronted clause before the owner (30/2025/QĐ-TTg Điều 9)
    ("1. Định kỳ hằng năm và khi có yêu cầu, Bộ Công an có trách nhiệm:", ["Bộ Công an"]),
    ("3. Bộ Nội vụ trong thời hạn 20 ngày làm việc kể từ ngày nhận đủ hồ sơ theo quy định có trách nhiệm:",
     ["Bộ Nội vụ"]),
])
def test_heading_owners(heading, owners):
    t = heading[parse_marker(heading)[2]:]
    assert heading_owner(t) == owners


def test_owner_lines_and_leading_owners():
    assert owner_declaration("Cơ quan chủ trì: Phòng Tài chính - Kế hoạch.") == ("lead", ["Phòng Tài chính - Kế hoạch"])
    assert owner_declaration("Đơn vị phối hợp: Các phòng chuyên môn") == ("support", ["Các phòng chuyên môn"])
    assert leading_owner("Giao Sở Y tế chủ trì, phối hợp với các đơn vị liên quan tổ chức tiêm chủng.")[0] == ["Sở Y tế"]
    assert leading_owner("Sở Xây dựng, Sở Giao thông vận tải: Rà soát quy hoạch.")[0] == ["Sở Xây dựng", "Sở Giao thông vận tải"]
    assert leading_owner("Trên cơ sở kết quả rà soát, Ủy ban nhân dân các xã chủ động bố trí kinh phí.")[0] == ["Ủy ban nhân dân các xã"]
    assert leading_owner("Tiêu chí thành phần công khai: Các phòng chuyên môn chủ động cập nhật.")[0] == ["Các phòng chuyên môn"]
    assert leading_owner("Theo dõi, đôn đốc các cơ quan, đơn vị thực hiện kế hoạch.") == ([], False)
    # the lines of a certificate's template (01/2026/QĐ-TTg Điều 60) are not bodies
    assert leading_owner("Các dòng tiếp theo: Dùng để ghi tên của tập thể, cá nhân được khen thưởng; chữ màu đen;") \
        == ([], False)
    who, person = leading_owner("Người đứng đầu các cơ quan, đơn vị phải trực tiếp chỉ đạo.")
    assert who == ["Các cơ quan, đơn vị"] and person
    assert support_in("Sở Nội vụ chủ trì, phối hợp với Sở Tài chính, Văn phòng UBND tỉnh và các cơ quan liên quan tham mưu") == \
        ["Sở Tài chính", "Văn phòng Ủy ban nhân dân tỉnh", "Các cơ quan liên quan"]


def test_header_names_and_issuer_levels():
    assert sentence_case_name("SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH") == "Sở Văn hóa, Thể thao và Du lịch"
    assert sentence_case_name("VĂN PHÒNG UBND TỈNH ĐỒNG THÁP") == "Văn phòng Ủy ban nhân dân tỉnh Đồng Tháp"
    assert issuer_kind("Ủy ban nhân dân thành phố Hà Nội") == "ubnd_tinh"
    assert issuer_kind("Ủy ban nhân dân thành phố Trà Vinh") == "ubnd_huyen"
    assert issuer_kind("Ủy ban nhân dân phường Long Xuyên") == "ubnd_xa"


def _outline(lines):
    b = DocBuilder()
    for ln in lines:
        b.para(ln)
    doc = b.build("x", "0" * 64, "txt")
    return build_outline(doc.blocks, 0, len(doc.blocks))


def test_outline_sections_nest_by_marker_and_depth():
    out = _outline(["I. MỤC TIÊU", "1. Mục tiêu chung", "II. NHIỆM VỤ", "1. Nhiệm vụ chung", "1.1. Cải cách thể chế",
                    "a) Rà soát văn bản", "- Rà soát các văn bản quy phạm pháp luật hết hiệu lực.",
                    "1.2. Hiện đại hóa", "- Số hóa hồ sơ thủ tục hành chính."])
    by_text = {n.text: n for n in out.nodes}
    dash1 = by_text["Rà soát các văn bản quy phạm pháp luật hết hiệu lực."]
    dash2 = by_text["Số hóa hồ sơ thủ tục hành chính."]
    assert dash1.section == "II.1.1.a" and dash1.zone == "task"
    assert dash2.section == "II.1.2"
    assert by_text["Mục tiêu chung"].zone == "objective"


def test_quyet_dinh_issuing_a_plan_yields_the_plans_tasks():
    ex = extract(read(DATA / "quyet_dinh_ban_hanh_ke_hoach.txt"))
    d = ex.document
    assert (d.type, d.number, d.date, d.issuer) == ("Quyết định", "1520/QĐ-UBND", "2025-08-12", "Ủy ban nhân dân tỉnh An Giang")
    assert d.signer.name == "Nguyễn Thị Minh Thúy" and d.signer.title == "Phó Chủ tịch"
    texts = [t.text for t in ex.tasks]
    assert not any(t.startswith(("Căn cứ", "CHỦ TỊCH", "Quyết định này", "Ban hành kèm theo")) for t in texts)
    first = ex.tasks[0]
    assert first.lead == ["Văn phòng Ủy ban nhân dân tỉnh"] and first.support == ["Sở Khoa học và Công nghệ"]
    assert first.deadline.date == "2025-09-30"
    xa = [t for t in ex.tasks if t.lead == ["Ủy ban nhân dân các xã, phường, đặc khu"]]
    assert len(xa) == 2
    last = ex.tasks[-1]
    assert last.lead == ["Sở Nội vụ"] and last.deadline.date == "2025-12-31"
    assert {r.symbol for r in ex.legal_refs} >= {"72/2025/QH15", "118/2025/NĐ-CP"}


def test_chi_thi_directives_with_posts_standing_for_bodies():
    ex = extract(read(DATA / "chi_thi.txt"))
    assert ex.document.type == "Chỉ thị" and ex.document.number == "05/CT-UBND"
    assert ex.document.title == "Về tăng cường kỷ luật, kỷ cương hành chính trong giải quyết thủ tục hành chính"
    assert ex.document.signer.name == "Trần Trí Quang" and ex.document.signer.title == "Chủ tịch"
    leads = [t.lead for t in ex.tasks]
    # a post that heads a list of duties ("1. Giám đốc các sở, ban, ngành tỉnh:", "2. Chủ tịch UBND các xã,
    # phường: Tổ chức ...") is the owner as written, as the real plans' gold writes it (012/CT-UBND,
    # 0125/KH-UBND); a post as the subject of a sentence stands for its body (seed 000's gold)
    assert leads[:2] == [["Giám đốc các sở, ban, ngành tỉnh"]] * 2
    assert ["Chủ tịch Ủy ban nhân dân các xã, phường"] in leads and ["Văn phòng Ủy ban nhân dân tỉnh"] in leads
    assert ex.tasks[1].deadline.recurrence == "quarterly"
    assert not any(t.text.startswith(("Yêu cầu", "Thời gian qua")) for t in ex.tasks)


# ---------------------------------------------------------------- issue 8: records that hold together

from kehoach.extract import signals  # noqa: E402
from kehoach.extract.outline import assigns_owners, zone_of_heading  # noqa: E402
from kehoach.extract.owners import part_heading_owner  # noqa: E402
from kehoach.extract.tasks import task_field  # noqa: E402


@pytest.mark.parametrize("line,field", [
    ("Thời gian thực hiện: Từ tháng 10/2025 đến khi tổ chức thành công Đại hội", ("deadline", "Từ tháng 10/2025 đến khi tổ chức thành công Đại hội")),
    ("- Thời hạn hoàn thành: Quý IV/2025.", ("deadline", "Quý IV/2025")),
    ("* Cơ quan chủ trì: Phòng Nội vụ.", ("lead", "Phòng Nội vụ")),
    ("- Đơn vị phối hợp: Sở Tài chính, Công an tỉnh", ("support", "Sở Tài chính, Công an tỉnh")),
    ("+ Sản phẩm: Quyết định của Ủy ban nhân dân tỉnh", ("product", "Quyết định của Ủy ban nhân dân tỉnh")),
    ("Phối hợp với Sở Khoa học và Công nghệ xây dựng và trình Ủy ban nhân dân Thành phố", None),
    ("Chủ trì xây dựng, tổ chức thực hiện, theo dõi, đôn đốc thực hiện Kế hoạch.", None),
])
def test_field_lines_name_one_field_of_the_task_above(line, field):
    assert task_field(line) == field


def test_field_line_after_a_task_fills_it_and_is_no_task():
    text = ("KẾ HOẠCH\n\nIII. NHIỆM VỤ\n\n1. Xây dựng cơ sở dữ liệu quy hoạch của tỉnh và tích hợp vào Hệ thống quốc gia.\n\n"
            "- Thời gian thực hiện: Quý IV/2025.\n\n- Đơn vị chủ trì: Sở Tài chính.\n\n"
            "2. Tổ chức tập huấn về quản lý dữ liệu cho cán bộ các sở, ngành.\n")
    b = DocBuilder()
    for para in text.split("\n\n"):
        b.para(para.strip())
    ext = extract(b.build("t.txt", "0" * 64, "txt"))
    texts = [t.text for t in ext.tasks]
    assert not any(t.startswith(("Thời gian", "Đơn vị")) for t in texts), texts
    first = ext.tasks[0]
    assert first.deadline.date == "2025-12-31" and first.lead == ["Sở Tài chính"]
    assert first.context == "NHIỆM VỤ"


@pytest.mark.parametrize("heading,owners", [
    # 2820/QĐ-UBND, 0129/KH-UBND, 159/KH-UBND, 597/KH-UBND, 4385/QĐ-BVHTTDL
    ("Sở Tài chính (cơ quan chủ trì)", ["Sở Tài chính"]),
    ("Đề nghị Ban Tuyên giáo và Dân vận Tỉnh ủy:", ["Ban Tuyên giáo và Dân vận Tỉnh ủy"]),
])
def test_heading_owners_of_real_plans(heading, owners):
    assert heading_owner(heading) == owners


def test_sub_headings_of_the_part_assigning_work_name_owners():
    assert assigns_owners("TỔ CHỨC THỰC HIỆN") and assigns_owners("PHÂN CÔNG NHIỆM VỤ")
    assert not assigns_owners("NHIỆM VỤ VÀ GIẢI PHÁP CHỦ YẾU")
    assert not assigns_owners("DỰ BÁO NHỮNG TÁC ĐỘNG ĐẾN CÂN ĐỐI NSĐP VÀ CÁC GIẢI PHÁP TỔ CHỨC THỰC HIỆN KẾ HOẠCH")
    assert part_heading_owner("Các doanh nghiệp hoạt động trong lĩnh vực xây dựng, giao thông, vận tải, logistics và "
                              "công nghệ thông tin trên địa bàn Tỉnh") == [
        "Các doanh nghiệp hoạt động trong lĩnh vực xây dựng, giao thông, vận tải, logistics và công nghệ thông tin trên địa bàn Tỉnh"]
    assert part_heading_owner("Các sở ngành liên quan, Viện Nghiên cứu phát triển Thành phố") == [
        "Các sở ngành liên quan", "Viện Nghiên cứu phát triển Thành phố"]
    assert part_heading_owner("Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh và các tổ chức chính trị - xã hội:") == [
        "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "Các tổ chức chính trị - xã hội"]
    assert part_heading_owner("Cơ chế phối hợp và trách nhiệm giải trình") == []


def test_funding_part_and_forecasts_are_not_task_zones():
    assert zone_of_heading("KINH PHÍ THỰC HIỆN", top=True) == "objective"
    assert zone_of_heading("Kinh phí thực hiện", top=False) is None          # below NỘI DUNG THỰC HIỆN: unchanged
    assert zone_of_heading("Dự báo những tác động đến thu, chi ngân sách", top=False) == "objective"
    assert zone_of_heading("PHẠM VI, ĐỐI TƯỢNG, NHU CẦU, PHƯƠNG ÁN HỖ TRỢ", top=True) == "objective"
    assert zone_of_heading("Phương án tổ chức cấp phát", top=False) == "task"


def test_signals_name_the_file_when_nothing_or_no_owner_is_found():
    from kehoach.models import Task
    out = build_outline([], 0, 0)
    assert signals("x.txt", [], []) == []
    tasks = [Task(id="", kind="task", section="", text=f"Việc {k}") for k in range(5)]
    assert signals("x.txt", tasks, [(0, 0, out, False)]) == ["5 of 5 tasks in x.txt have no owner (chủ trì)"]


def test_a_file_with_no_letterhead_is_flagged_and_a_real_plan_is_not(tmp_path):
    """A file with no document kind, number or issuer (notes, a README dropped in with the plans) says so in
    one line naming it; a real plan copied from a portal has its letterhead found, so no such line."""
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\n- Install the tools first.\n- Run the tests before a release.\n", encoding="utf-8")
    assert any(w.startswith("no letterhead in") and "notes.md" in w for w in extract(read(notes)).warnings)
    from tests.shared import files
    for plan in list(files("real/web", "*.txt"))[:3]:
        assert not any("no letterhead" in w for w in extract(read(plan)).warnings), plan.name


@pytest.mark.parametrize("text", [
    # 4385/QĐ-BVHTTDL: a pointer to the appendix and a list intro are no tasks
    "(Chi tiết danh mục các dự án dự kiến ưu tiên đầu tư và phân kỳ thực hiện tại Phụ lục kèm theo)",
    "Trong đó, tỷ lệ vốn ngân sách nhà nước dự kiến: 85%-90% tổng vốn đầu tư. Cụ thể:",
    # 05/2026/QĐ-TTg (vbpl): the closing article, its list of posts 330 characters long
    "Các Bộ trưởng, Thủ trưởng cơ quan ngang bộ, Thủ trưởng cơ quan thuộc Chính phủ, Chủ tịch Ủy ban nhân dân các "
    "tỉnh, thành phố trực thuộc trung ương và Thủ trưởng các cơ quan, đơn vị sử dụng vốn ngân sách trung ương (bao "
    "gồm vốn đầu tư phát triển và vốn sự nghiệp) thuộc Chương trình mục tiêu quốc gia phòng, chống ma túy đến năm "
    "2030 chịu trách nhiệm thi hành Quyết định này.",
])
def test_appendix_pointers_and_list_intros_are_not_tasks(text):
    from kehoach.extract.tasks import is_non_task
    assert is_non_task(text)


def test_an_assignment_ending_with_cu_the_is_still_a_task():
    # 892/QĐ-TTg VI.3: the heading assigns the work itself
    from kehoach.extract.tasks import _owner_sentence
    t = ("Các bộ, ngành, Ủy ban nhân dân tỉnh, thành phố trực thuộc Trung ương tổ chức thực hiện các chủ trương, "
         "định hướng, nhiệm vụ, giải pháp nêu trong Đề án gắn với yêu cầu thực tế của ngành, lĩnh vực, địa phương "
         "mình phụ trách. Cụ thể:")
    assert _owner_sentence(t)
    b = DocBuilder()
    for para in ("QUYẾT ĐỊNH", "VI. TỔ CHỨC THỰC HIỆN", "3. " + t,
                 "- Phối hợp với Bộ Ngoại giao trong quá trình triển khai Đề án, nhất là theo dõi, đánh giá.",
                 "- Tạo điều kiện để cán bộ, công chức, viên chức tham gia các khóa bồi dưỡng."):
        b.para(para)
    tasks = extract(b.build("t.txt", "0" * 64, "txt")).tasks
    assert [x.text for x in tasks][0] == t
    assert all(x.lead[0] == "Các bộ, ngành" for x in tasks)


def test_a_long_owner_phrase_keeps_where_its_body_belongs():
    # 892/QĐ-TTg: "trực thuộc Trung ương" is part of the name, not the verb that ends it
    got, _ = leading_owner("Các bộ, ngành, Ủy ban nhân dân tỉnh, thành phố trực thuộc Trung ương tổ chức thực hiện các "
                           "chủ trương, định hướng, nhiệm vụ, giải pháp nêu trong Đề án.")
    assert got == ["Các bộ, ngành", "Ủy ban nhân dân tỉnh, thành phố trực thuộc Trung ương"]


# ---------------------------------------------------------------- owner phrases (issue #8)

def test_a_heading_of_posts_names_the_posts():
    from kehoach.extract.owners import heading_owner
    assert heading_owner("Thủ trưởng các sở, ban, ngành tỉnh; Chủ tịch UBND các xã, phường") == [
        "Thủ trưởng các sở, ban, ngành tỉnh", "Chủ tịch Ủy ban nhân dân các xã, phường"]
    assert heading_owner("Giám đốc Sở Y tế") == ["Giám đốc Sở Y tế"]
    assert heading_owner("Thủ trưởng các đơn vị thực hiện nghiêm túc Kế hoạch này.") == []   # a sentence, not a heading


def test_support_with_and_without_voi():
    assert support_in("Phối hợp UBND các xã, phường cập nhật thiệt hại nông nghiệp, thủy sản") == [
        "Ủy ban nhân dân các xã, phường"]
    assert support_in("Sở Nội vụ phối hợp với các sở, ngành, đơn vị có liên quan thu thập, biên tập dữ liệu") == [
        "Các sở, ngành, đơn vị có liên quan"]
    assert support_in("phối hợp chính quyền địa phương, lực lượng xung kích hỗ trợ người dân") == [
        "Chính quyền địa phương", "Lực lượng xung kích"]
    assert support_in("Phối hợp tổ chức chu đáo các Hội chợ xuân") == []     # "tổ chức" is the verb here


@pytest.mark.parametrize("text,owners", [
    # "các tổ chức": a noun after "các", not the verb "tổ chức"
    ("Ủy ban MTTQ Việt Nam tỉnh và các tổ chức chính trị - xã hội tỉnh vận động đoàn viên tham gia.",
     ["Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "Các tổ chức chính trị - xã hội tỉnh"]),
    # nouns holding a stop word: "bầu cử", "công trình", "được phân công nhiệm vụ"
    ("Ủy ban bầu cử tỉnh tổ chức họp trước ngày 15/3.", ["Ủy ban bầu cử tỉnh"]),
    ("Công ty TNHH MTV Khai thác công trình thủy lợi kiểm tra an toàn hồ chứa.",
     ["Công ty TNHH MTV Khai thác công trình thủy lợi"]),
    ("Các cơ quan, đơn vị được phân công nhiệm vụ có trách nhiệm thực hiện đúng tiến độ.",
     ["Các cơ quan, đơn vị được phân công nhiệm vụ"]),
    ("Bộ Xây dựng chủ trì tổ chức việc kiểm tra.", ["Bộ Xây dựng"]),
    ("Hội đồng Thi đua - Khen thưởng các cấp phân công rõ trách nhiệm các thành viên.",
     ["Hội đồng Thi đua - Khen thưởng các cấp"]),
    # words that start like a body but are not one
    ("Trường hợp chậm trễ, không gửi dữ liệu, đơn vị chịu trách nhiệm giải trình.", []),
    ("Báo cáo thành tích của các tập thể theo mẫu quy định.", []),
    ("Các khóa bồi dưỡng được tổ chức hằng năm tại các cơ sở đào tạo.", []),
    # a passive statement has no actor
    ("Doanh nghiệp dịch vụ được hỗ trợ theo quy định tại Quyết định này.", []),
])
def test_owner_phrases_end_at_the_verb(text, owners):
    assert leading_owner(text)[0] == owners


def test_an_action_of_a_named_body_and_the_lines_that_only_name_bodies():
    from kehoach.extract.owners import is_body_list, opens_with_action, subject_action
    assert subject_action("Khen thưởng cấp Nhà nước: Sở Nội vụ phối hợp với các cơ quan có liên quan báo cáo.")
    assert subject_action("Giấy khen: Căn cứ kết quả, các Sở, ban, ngành quy định số lượng khen thưởng.")
    assert not subject_action("Ban Chỉ đạo bầu cử của tỉnh: Không quá 05 cá nhân;")
    assert not subject_action("Các cơ quan, đơn vị được phân công tham gia bầu cử, đạt các tiêu chuẩn sau")
    assert is_body_list("Ban Chỉ đạo Quốc gia về PCTT (b/c);") and is_body_list("Các Sở, ban, ngành tỉnh;")
    assert not is_body_list("Sở Nội vụ chủ trì tổ chức thực hiện.")
    assert opens_with_action("Xây dựng, triển khai Kế hoạch bồi dưỡng theo 2 nhóm năng lực:")
    assert not opens_with_action("Đề nghị Ủy ban MTTQ tỉnh và các tổ chức chính trị - xã hội:")
    assert not opens_with_action("Căn cứ tình hình thực tế, cần tập trung vào các giải pháp sau:")


def test_an_awards_part_keeps_assignments_and_drops_quotas():
    """A plan part outside the task zones (SỐ LƯỢNG ĐỀ NGHỊ KHEN THƯỞNG) gives the items where a body acts."""
    from kehoach.ingest.text import read_text
    text = """ỦY BAN NHÂN DÂN
TỈNH HÀ TĨNH
Số: 12/KH-UBND
KẾ HOẠCH
Tổ chức phong trào thi đua năm 2025
I. MỤC ĐÍCH, YÊU CẦU
1. Sở Nội vụ chủ trì tổ chức phát động phong trào thi đua trong toàn tỉnh.
II. SỐ LƯỢNG ĐỀ NGHỊ KHEN THƯỞNG
1. Khen thưởng cấp Nhà nước: Sở Nội vụ phối hợp với các cơ quan, đơn vị có liên quan lựa chọn, báo cáo Ủy ban nhân dân tỉnh.
2. Ban Chỉ đạo của tỉnh: Không quá 05 cá nhân.
III. TỔ CHỨC THỰC HIỆN
1. Sở Tài chính bố trí kinh phí khen thưởng theo quy định.
"""
    ex = extract(read_text(text.encode("utf-8"), "kh.txt", "x"))
    assert [(t.section, t.lead) for t in ex.tasks] == [("II.1", ["Sở Nội vụ"]), ("III.1", ["Sở Tài chính"])]


def test_doi_voi_names_the_addressee_even_with_a_verb_inside():
    from kehoach.extract.owners import heading_owner
    assert heading_owner("Đối với cơ quan quản lý, sử dụng cán bộ, công chức, viên chức làm công tác đối ngoại:") == [
        "Cơ quan quản lý, sử dụng cán bộ, công chức, viên chức làm công tác đối ngoại"]
    assert heading_owner("Đối với các dự án đầu tư công:") == []          # a thing, not a body


def test_the_members_of_a_board_are_seats_not_tasks():
    # 798/QĐ-TTg (Gazette PDF, not vendored): "Điều 1. Kiện toàn Ban Chỉ đạo ..., gồm các thành viên sau đây:",
    # "3. Các ủy viên:" then "- 01 Phó Trưởng ban Ban Tổ chức Trung ương;" (the "Tổ chức" of a name read as a verb)
    from kehoach.extract.tasks import is_member_list_head
    assert is_member_list_head("Kiện toàn Ban Chỉ đạo Trung ương về cải cách chính sách tiền lương, bảo hiểm xã hội "
                               "và ưu đãi người có công (gọi tắt là Ban Chỉ đạo), gồm các thành viên sau đây:")
    assert is_member_list_head("Các ủy viên:")
    assert not is_member_list_head("Nhiệm vụ của Ban Chỉ đạo:")
    assert not is_member_list_head("Sở Nội vụ chủ trì, phối hợp với các thành viên Ban Chỉ đạo thực hiện các nội dung sau:")


def test_the_titled_articles_of_a_normative_text_give_tasks_only_where_a_body_acts():
    """A Quy định of titled articles ("Điều 4. Điều kiện vay vốn", "Điều 10. Thời hạn cho vay": doc_000081, a
    vbpl page; 28/2021/QĐ-TTg, a Gazette PDF) states rules: their items are tasks only where they name the
    body or party that acts. The article about carrying it out ("Điều 16. Tổ chức thực hiện") keeps every item, and a
    decision that issues a plan (892/QĐ-TTg, "Điều 1. Phê duyệt Đề án ...") keeps its plan's tasks."""
    from tests.shared import files
    html = next(p for p in files("real/html", "*.html") if p.name == "doc_000081.html")
    tasks = extract(read(html)).tasks
    assert not any(t.section.startswith(("Điều 3.", "Điều 4.", "Điều 10.", "Điều 13.")) for t in tasks)
    assert all(t.lead for t in tasks if not t.section.startswith(("Điều 15", "Điều 16")))
    assert sum(1 for t in tasks if t.section.startswith("Điều 16.")) >= 15
    pdfs = {p.name: p for p in files("real/pdf", "*.pdf")}
    rules = extract(read(pdfs["quyet-dinh-so-28-2021-qd-ttg-34546.pdf"])).tasks
    # a party named by its kind that acts is a task too (the hand-judged gold of tests/data/gold-real-extra)
    assert rules and all(t.lead or t.text.startswith("Người ") for t in rules)
    assert any(t.text.startswith("Người sử dụng lao động lập danh sách") for t in rules)
    assert not any(t.text.startswith("Thời gian thực hiện giảm mức đóng") for t in rules)
    assert {t.lead[0] for t in rules if t.section.startswith("Điều 6.")} >= {"Bộ Thông tin và Truyền thông",
                                                                          "Bảo hiểm xã hội Việt Nam"}
    plan = extract(read(pdfs["quyet-dinh-so-892-qd-ttg-469579.pdf"])).tasks
    assert len(plan) >= 40


@pytest.mark.parametrize("text, acts", [
    ("Người sử dụng lao động lập danh sách thông tin của người lao động", True),
    ("Chủ đầu tư dự án đề nghị cơ quan nhà nước có thẩm quyền xác nhận dự án", True),
    ("Người lao động được hỗ trợ 01 lần đối với từng nội dung hỗ trợ", False),      # passive
    ("Tổ chức kiểm tra liên ngành.", False),                                       # "tổ chức" is the verb
    ("Thân huân chương: Hình sao vàng năm cánh cách điệu", False),
    ("Hồ sơ đề nghị xác nhận gồm các tài liệu sau", False),
])
def test_a_party_named_by_its_kind_acting(text, acts):
    from kehoach.extract.owners import actor_action
    assert actor_action(text) is acts


@pytest.mark.parametrize("text, lead", [
    # 04/CT-UBND (a signed scan), its closing assignment: the post stands for its body
    ("Giao Chánh Thanh tra tỉnh chủ trì, phối hợp với các cơ quan liên quan theo dõi, đôn đốc việc thực hiện Chỉ thị này.",
     ["Thanh tra tỉnh"]),
    ("Giao Giám đốc Sở Tài chính chủ trì theo dõi, đôn đốc việc thực hiện.", ["Sở Tài chính"]),
    ("Giao Chánh Văn phòng UBND tỉnh theo dõi, đôn đốc việc thực hiện.", ["Văn phòng Ủy ban nhân dân tỉnh"]),
    # 44/CT-UBND (a signed scan): a note in brackets before the colon is no part of the owner's name
    ("Sở Nông nghiệp và Phát triển nông thôn (Cơ quan Thường trực về Phòng, chống thiên tai): Phối hợp Đài Khí tượng "
     "Thủy văn Quảng Ngãi theo dõi chặt chẽ diễn biến thời tiết", ["Sở Nông nghiệp và Phát triển nông thôn"]),
])
def test_an_assignment_to_a_post_gives_its_body(text, lead):
    assert leading_owner(text)[0] == lead


@pytest.mark.parametrize("text, lead", [
    # a post as the subject of a sentence stands for its body (body_posts.tsv), as "Giám đốc Sở X" does
    ("Viện trưởng Viện kiểm sát nhân dân tỉnh chỉ đạo các cơ quan tố tụng đẩy nhanh tiến độ.", ["Viện kiểm sát nhân dân tỉnh"]),
    ("Chánh Thanh tra tỉnh chủ trì theo dõi việc thực hiện.", ["Thanh tra tỉnh"]),
    ("Trưởng ban Ban Dân tộc tỉnh chủ trì rà soát các chính sách.", ["Ban Dân tộc tỉnh"]),
    ("Giám đốc Sở Tài chính chủ trì thẩm định kinh phí.", ["Sở Tài chính"]),
])
def test_a_post_as_subject_stands_for_its_body(text, lead):
    who, person = leading_owner(text)
    assert who == lead and person


def test_a_list_of_posts_as_subject_gives_the_posts_as_written():
    who, person = leading_owner("Chánh Văn phòng UBND tỉnh, Giám đốc các sở, ban, ngành và Chủ tịch UBND các huyện "
                                "chịu trách nhiệm thi hành Quyết định này.")
    assert person and who == ["Chánh Văn phòng Ủy ban nhân dân tỉnh", "Giám đốc các sở, ban, ngành",
                              "Chủ tịch Ủy ban nhân dân các huyện"]
    assert leading_owner("Chánh Văn phòng UBND tỉnh theo dõi, đôn đốc việc thực hiện.")[0] == \
        ["Văn phòng Ủy ban nhân dân tỉnh"]
    assert heading_owner("Đề nghị Giám đốc Công an tỉnh và Viện trưởng Viện kiểm sát nhân dân tỉnh tổ chức thực hiện:") \
        == ["Giám đốc Công an tỉnh", "Viện trưởng Viện kiểm sát nhân dân tỉnh"]


def test_a_partner_after_phoi_hop_voi_is_not_the_subject():
    # 44/CT-UBND (a signed scan): after a fronted clause the bodies listed after "phối hợp với" are partners
    text = ("Căn cứ tình hình thực tế hiện trạng công trình, tình hình mưa, lũ, quyết định việc tạm dừng khai thác các "
            "công trình cầu không đảm bảo an toàn giao thông; đồng thời phối hợp với Sở Giao thông vận tải, Công an tỉnh "
            "và các lực lượng chức năng phân luồng đảm bảo giao thông.")
    assert leading_owner(text)[0] == []
    assert leading_owner("Căn cứ kết quả rà soát, Sở Tài chính phối hợp với Sở Nội vụ, Văn phòng UBND tỉnh tham mưu "
                         "bố trí kinh phí.")[0] == ["Sở Tài chính"]


@pytest.mark.parametrize("heading, owners", [
    # 04/CT-UBND (a signed scan; the OCR lost the colon): the heads of the bodies asked, as written
    ("Đề nghị Giám đốc Công an tỉnh, Viện trưởng Viện kiểm sát nhân dân tỉnh, Chánh án Tòa án nhân dân tỉnh, Cục "
     "trưởng Cục Thi hành án dân sự tỉnh tổ chức thực hiện",
     ["Giám đốc Công an tỉnh", "Viện trưởng Viện kiểm sát nhân dân tỉnh", "Chánh án Tòa án nhân dân tỉnh",
      "Cục trưởng Cục Thi hành án dân sự tỉnh"]),
    ("Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh và các tổ chức chính trị - xã hội tỉnh thực hiện các nội dung sau:",
     ["Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "Các tổ chức chính trị - xã hội tỉnh"]),
    ("Sở Nội vụ tổ chức hội nghị tổng kết", []),          # an object: a task, not a heading of duties
])
def test_a_heading_asking_bodies_to_carry_out_the_items(heading, owners):
    assert heading_owner(heading) == owners


def test_fast_compile_finds_the_same_matches_on_real_plans():
    """``fast_compile`` puts a first-character look-ahead in front of the patterns the regex engine
    cannot skip ahead with (the deadline rules open with an optional completion cue): on every line
    of the real web plans, each folded deadline and recurrence pattern finds the same spans and
    groups as the plain pattern, and the cue patterns are wrapped."""
    import re

    from kehoach.extract.data import fast_compile
    from kehoach.extract.deadlines import deadline_rules, fold_pattern, recurrence_rules
    from tests.shared import files

    lines = [ln.lower() for p in files("real/web", "*.txt") for ln in p.read_text("utf-8").splitlines() if ln.strip()]
    rules = deadline_rules()[0] + recurrence_rules()[0]
    wrapped = 0
    for r in rules:
        pattern = fold_pattern(r.regex.pattern)
        plain, fast = re.compile(pattern), fast_compile(pattern)
        wrapped += fast.pattern != pattern
        for ln in lines:
            assert [(m.span(), m.groupdict()) for m in fast.finditer(ln)] == \
                [(m.span(), m.groupdict()) for m in plain.finditer(ln)], (pattern, ln)
    assert wrapped >= 10
    # a case-insensitive group inside: the first-letter test is case-insensitive too
    raw = [p.read_text("utf-8") for p in files("real/web", "*.txt")]
    for pattern in (r"(?<!\w)(?P<type>(?i:quyết\s+định|kế\s+hoạch|chỉ\s+thị))(?:\s+(?i:s[ốo]))?",
                    r"(?<!\w)(?i:các)\s+(?P<type>(?i:sở|ban|ngành))"):
        plain, fast = re.compile(pattern), fast_compile(pattern)
        assert fast.pattern.startswith("(?=(?i:")
        found = [(m.span(), m.groupdict()) for t in raw for m in plain.finditer(t)]
        assert found and [(m.span(), m.groupdict()) for t in raw for m in fast.finditer(t)] == found
    # anchored, literal-prefixed and can-be-empty patterns are left as they are
    for p in (r"^(?:trong\s+)?quý\s+\d", r"tháng\s+\d", r"(?:trong\s+)?", r"(?:\s+|x)y"):
        assert fast_compile(p).pattern == p
    assert fast_compile(r"(?:trong\s+)?năm\s+\d{4}").search("kế hoạch trong năm 2025").span() == (9, 23)


def test_letter_items_written_a_dot_read_like_a_paren(tmp_path):
    """Some plans write their điểm "a. Sở ..." instead of the standard "a) Sở ...": a real directive re-written
    so gives the same tasks, sections and owners (the letter must open a capitalised word: "v.v." is no item)."""
    import re as _re
    from tests.shared import files
    src = next(p for p in files("real/web", "*.txt") if p.name.startswith("012-CT"))
    text = src.read_text("utf-8")
    dotted = _re.sub(r"(?m)^(\s*)([a-zđ])\) ", r"\1\2. ", text)
    assert dotted.count("\nb. ") >= 1
    p = tmp_path / src.name
    p.write_text(dotted, "utf-8")
    want, got = extract(read(src)).tasks, extract(read(p)).tasks
    assert len(want) >= 15
    assert [(t.section, t.lead, t.support, t.text) for t in got] == [(t.section, t.lead, t.support, t.text) for t in want]


def test_the_authority_line_run_into_a_decision_s_title_is_cut(tmp_path):
    """2820/QĐ-UBND laid out with no blank lines: the wrapped upper-case title and the authority line
    under it ("ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH") come as one paragraph; the title is the same as read
    from the portal's layout, and a body the title itself names after "của" stays in it."""
    import re as _re
    from kehoach.extract.header import _without_authority
    from tests.shared import files
    src = next(p for p in files("real/web", "*.txt") if p.name.startswith("2820-QD-UBND"))
    flat = tmp_path / src.name
    flat.write_text(_re.sub(r"\n\s*\n", "\n", src.read_text("utf-8")), encoding="utf-8")
    want = extract(read(src)).document.title
    assert want and extract(read(flat)).document.title == want
    assert _without_authority("TRIỂN KHAI NGHỊ QUYẾT CỦA HỘI ĐỒNG NHÂN DÂN TỈNH", []) == \
        "TRIỂN KHAI NGHỊ QUYẾT CỦA HỘI ĐỒNG NHÂN DÂN TỈNH"


def test_any_of_and_needs_digit_agree_with_the_plain_patterns_on_real_plans():
    """``AnyOf`` (the non-task and member-list rows tried as one alternation, the anchored ones at
    position 0 only) says what ``any(re.search(...))`` says, on every paragraph of the real web plans;
    ``needs_digit`` marks the deadline triggers that cannot match a text with no digit, and none of
    them matches a digit-free line."""
    import re

    from kehoach.extract.data import AnyOf, needs_digit, rows
    from kehoach.extract.deadlines import _scan_plan
    from tests.shared import files

    paras = [" ".join(p.split()) for f in files("real/web", "*.txt") for p in f.read_text("utf-8").split("\n\n")]
    paras = [p for p in paras if p]
    paras += [p + end for p in paras[:150] for end in (" như sau:", ", gồm các thành viên sau đây:")]
    for table in ("non_tasks.tsv", "member_lists.tsv"):
        patterns = [r[0] for r in rows(table)]
        both = AnyOf(patterns, re.I)
        assert both.anchored is not None
        hits = 0
        for p in paras:
            plain = any(re.search(x, p, re.I) for x in patterns)
            assert both.search(p) == plain, (table, p)
            hits += plain
        assert hits > 0, table
    # patterns that cannot share one alternation (a back-reference, a global inline flag) are tried one by one
    for patterns, text, expected in (([r"(a)\1", r"^x"], "baa", True), ([r"(?i)abc", r"^x"], "ABC", True),
                                     ([r"(a)\1", r"^x"], "ab", False)):
        one = AnyOf(patterns)
        assert one.each is not None and one.search(text) == expected
    folded, _triggers, groups, rgroups = _scan_plan(False, True)
    digit_free, _t, free_groups, free_rgroups = _scan_plan(False, False)
    # left out: the rules that need a digit (a group left with none drops its trigger too)
    bound = [rx for rx in folded if rx not in digit_free and needs_digit(rx.pattern)]
    bound += [r.folded for _k, rs in groups + rgroups for r in rs
              if r not in {x for _k2, xs in free_groups + free_rgroups for x in xs}]
    assert len(bound) >= 8 and len(digit_free) >= 8
    lines = [ln.lower() for f in files("real/web", "*.txt") for ln in f.read_text("utf-8").splitlines()]
    plain_lines = [ln for ln in lines if not re.search(r"\d", ln)]
    assert len(plain_lines) > 100
    for rx in bound:       # left out for digit-free texts: none of them matches one
        assert not any(rx.search(ln) for ln in plain_lines), rx.pattern
    assert needs_digit(r"tháng\s+\d") and needs_digit(r"ngày\s+\d|trước\s+\d") and needs_digit(r"(?=\d)")
    assert not needs_digit(r"(?:6|sáu)\s+tháng") and not needs_digit(r"\d?x") and not needs_digit(r"[^0-9]")


def test_first_letter_alternation_matches_as_the_flat_alternation():
    """The owner stop words grouped under their first letter find, on every line of the real web plans,
    the same first stop word (start and end) as the flat alternation of word_alternation."""
    import re

    from kehoach.extract.data import first_letter_alternation, table_words, word_alternation
    from tests.shared import files

    edge = r"[\wÀ-ỹđĐ]"
    flat = re.compile(rf"(?<!{edge})(?:" + word_alternation("owner_words.tsv", "verb", "prep") + rf")(?!{edge})")
    grouped = re.compile(rf"(?<!{edge})" + first_letter_alternation(table_words("owner_words.tsv", "verb", "prep"))
                         + rf"(?!{edge})")
    lines = [ln[0].lower() + ln[1:] for p in files("real/web", "*.txt") for ln in p.read_text("utf-8").splitlines()
             if ln.strip()]
    spans = [[m.span() for m in flat.finditer(ln)] for ln in lines]
    assert sum(map(len, spans)) > 500
    assert [[m.span() for m in grouped.finditer(ln)] for ln in lines] == spans
    # folded: a head in either case, "Sở" / "sở"
    heads = re.compile(first_letter_alternation(["Sở Y tế", "Sở", "Ban"], fold=True) + r"\b")
    assert heads.match("sở Y tế tỉnh").group(0) == "sở Y tế" and heads.match("ban chỉ đạo").group(0) == "ban"


@pytest.mark.parametrize("text, want", [
    # a verb inside the standard name ("đầu tư") is part of the name; what a dash adds after it says what the
    # body is, not who else leads
    ("Sở Kế hoạch và Đầu tư - cơ quan thường trực Ban vì sự tiến bộ phụ nữ tỉnh giúp Ủy ban nhân dân tỉnh chỉ "
     "đạo triển khai Kế hoạch hành động", ["Sở Kế hoạch và Đầu tư"]),
    ("Sở Y tế - Cơ quan Thường trực Ban Chỉ đạo tỉnh giúp Ủy ban nhân dân tỉnh theo dõi, đôn đốc các đơn vị "
     "triển khai thực hiện", ["Sở Y tế"]),
])
def test_a_dash_after_the_leading_body_adds_no_owner(text, want):
    assert leading_owner(text)[0] == want


def test_the_standing_committee_for_women_is_one_name():
    # "Ban vì sự tiến bộ của phụ nữ" (every province has one) holds "vì", which the tagger read as the verb
    assert leading_owner("Ban vì sự tiến bộ của phụ nữ tỉnh chủ trì theo dõi, đôn đốc việc thực hiện Kế hoạch")[0] == [
        "Ban vì sự tiến bộ của phụ nữ tỉnh"]
