"""Layout recovery for text copied from portals (ingest/webtext.py), on real snippets of
the plans in real/web and on every real web file."""
import re

import pytest

from kehoach.ingest import read
from kehoach.ingest.webtext import bounded_rows, cell_lines, group_paragraphs
from tests.shared import files

# the letterhead of 2820/QĐ-UBND (Thành phố Hồ Chí Minh), as the portal flattened it
LETTERHEAD_2820 = ("|\nỦY BAN NHÂN\nDÂN \nTHÀNH PHỐ HỒ CHÍ MINH\n--------\n|\nCỘNG HÒA XÃ\nHỘI CHỦ NGHĨA VIỆT NAM\n"
                   "Độc lập - Tự do - Hạnh phúc\n---------------\n|\n|\nSố:\n2820/QĐ-UBND\n|\nThành phố Hồ\n"
                   "Chí Minh, ngày 19 tháng 11 năm 2025\n|\n\n\nQUYẾT ĐỊNH\n\n")


def paragraphs(text: str, width: int = 80) -> list[str]:
    lines = text.split("\n")
    return [" ".join(x.strip() for x in lines[a:b + 1]) for a, b in group_paragraphs(lines, width)]


def blocks_of(tmp_path, text: str) -> list[str]:
    p = tmp_path / "plan.txt"
    p.write_text(text, "utf-8")
    return [b.text for b in read(p).blocks]


def test_a_list_marker_alone_on_its_line_joins_its_heading():
    # 0129/KH-UBND (Đắk Lắk)
    assert paragraphs("I.\nĐÁNH GIÁ TÌNH HÌNH THIỆT HẠI\n\n2.\nXác định khu vực ưu tiên cứu trợ\n") == [
        "I. ĐÁNH GIÁ TÌNH HÌNH THIỆT HẠI", "2. Xác định khu vực ưu tiên cứu trợ"]


def test_a_heading_wrapped_over_lines_is_one_block():
    # 0129/KH-UBND, 0124/KH-UBND, 0125/KH-UBND
    assert paragraphs("II. MỤC\nTIÊU\n") == ["II. MỤC TIÊU"]
    assert paragraphs("III. ĐỐI TƯỢNG,\nTIÊU CHÍ THI ĐUA VÀ HÌNH THỨC KHEN THƯỞNG\n") == [
        "III. ĐỐI TƯỢNG, TIÊU CHÍ THI ĐUA VÀ HÌNH THỨC KHEN THƯỞNG"]
    assert paragraphs("1. Đối tượng\nthi đua\n") == ["1. Đối tượng thi đua"]


def test_a_paragraph_whose_first_line_is_cut_short_is_one_block():
    # 0124/KH-UBND: the first line stops at 30 characters, the rest wraps at 80
    text = ("a) Đối với các sở, ban, ngành,\nUBND các xã, phường\n\n"
            "- Hoàn thành vượt mức các chỉ\ntiêu phát triển kinh tế - xã hội năm 2025, bảo đảm ổn định chính trị, giữ vững\n"
            "quốc phòng, an ninh, trật tự, an toàn xã hội.\n")
    assert paragraphs(text) == [
        "a) Đối với các sở, ban, ngành, UBND các xã, phường",
        "- Hoàn thành vượt mức các chỉ tiêu phát triển kinh tế - xã hội năm 2025, bảo đảm ổn định chính trị, "
        "giữ vững quốc phòng, an ninh, trật tự, an toàn xã hội."]


def test_a_number_at_the_start_of_a_wrapped_line_goes_on_with_the_sentence():
    # 0129/KH-UBND: "... cấp độ" / "1. Cấp ngay ..." is one paragraph, not a new item
    text = ("- Giai đoạn khẩn cấp\n(0-48 giờ): Tổ chức lực lượng, phương tiện tiếp cận ngay các vùng ngập sâu,\n"
            "chia cắt bằng ca nô, xuồng máy, phương tiện cơ động, ưu tiên các địa bàn cấp độ\n"
            "1. Cấp ngay mì tôm, lương khô, nước uống, thuốc men thiết yếu, sữa và một số\nnhu yếu phẩm cơ bản khác.\n")
    (one,) = paragraphs(text)
    assert "cấp độ 1. Cấp ngay mì tôm" in one


def test_list_items_in_one_group_are_never_joined():
    # 0124/KH-UBND, the recipients: one item a line, an item's wrapped "(b/c);" stays with it
    text = ("Nơi nhận:\n- Ban Thi đua - Khen thưởng Trung ương\n(b/c);\n- TT. Tỉnh ủy; TT. HĐND tỉnh (b/c);\n"
            "- CT, PCT UBND tỉnh;\n- Lưu: VT, NV (V-10b).\n")
    assert paragraphs(text) == ["Nơi nhận:", "- Ban Thi đua - Khen thưởng Trung ương (b/c);",
                                "- TT. Tỉnh ủy; TT. HĐND tỉnh (b/c);", "- CT, PCT UBND tỉnh;", "- Lưu: VT, NV (V-10b)."]


@pytest.mark.parametrize("raw,want", [
    (["ỦY BAN NHÂN", "DÂN ", "THÀNH PHỐ CẦN THƠ", "--------"], ["ỦY BAN NHÂN DÂN", "THÀNH PHỐ CẦN THƠ", "--------"]),
    (["ỦY BAN NHÂN DÂN", "TỈNH ĐẮK LẮK", "-------"], ["ỦY BAN NHÂN DÂN", "TỈNH ĐẮK LẮK", "-------"]),
    (["BỘ VĂN HÓA, THỂ", "THAO ", "VÀ DU LỊCH", "-------"], ["BỘ VĂN HÓA, THỂ THAO", "VÀ DU LỊCH", "-------"]),
    (["CỘNG HÒA XÃ HỘI", "CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"],
     ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]),
    (["CỘNG HÒA XÃ", "HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"],
     ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]),
    (["Số:", "2820/QĐ-UBND"], ["Số: 2820/QĐ-UBND"]),
    (["Đắk Lắk, ngày 18", "tháng 11 năm 2025"], ["Đắk Lắk, ngày 18 tháng 11 năm 2025"]),
    (["Cần Thơ, ngày", "19 tháng 11 năm 2025"], ["Cần Thơ, ngày 19 tháng 11 năm 2025"]),
    (["KT. CHỦ TỊCH ", "PHÓ CHỦ TỊCH", "Đào Mỹ"], ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Đào Mỹ"]),
    (["Số: 123/UBND-VX", "V/v triển khai thực hiện", "kế hoạch phòng chống thiên tai"],   # a Công văn's number cell
     ["Số: 123/UBND-VX", "V/v triển khai thực hiện kế hoạch phòng chống thiên tai"]),
    (["TM. ỦY BAN", "NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Chí Hùng"],   # 159/KH-UBND
     ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Chí Hùng"]),
    (["UBND TỈNH ĐẮK LẮK", "SỞ NỘI VỤ", "-----"], ["UBND TỈNH ĐẮK LẮK", "SỞ NỘI VỤ", "-----"]),
    (["TM. ỦY BAN NHÂN", "DÂN ", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Lâm Văn Bi"],
     ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Lâm Văn Bi"]),
])
def test_letterhead_and_signature_cells_are_rejoined_where_the_portal_cut_them(raw, want):
    assert cell_lines(raw) == want


def test_the_flattened_letterhead_gives_issuer_motto_number_and_date_blocks(tmp_path):
    body = "TRIỂN KHAI QUYẾT ĐỊNH SỐ\n06/QĐ-TTG NGÀY 02 THÁNG 01 NĂM 2025\n\n" + "\n\n".join(
        f"Căn cứ Luật số\n{k}/2024/QH15 ngày 29 tháng 11 năm 2024 về việc quản lý và sử dụng nguồn lực của\nnhà nước;"
        for k in range(10, 20)) + "\n"
    got = blocks_of(tmp_path, LETTERHEAD_2820 + body)
    assert got[:10] == ["ỦY BAN NHÂN DÂN", "THÀNH PHỐ HỒ CHÍ MINH", "--------", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                        "Độc lập - Tự do - Hạnh phúc", "---------------", "Số: 2820/QĐ-UBND",
                        "Thành phố Hồ Chí Minh, ngày 19 tháng 11 năm 2025", "QUYẾT ĐỊNH",
                        "TRIỂN KHAI QUYẾT ĐỊNH SỐ 06/QĐ-TTG NGÀY 02 THÁNG 01 NĂM 2025"]


def test_a_table_whose_rows_open_with_their_own_pipe_is_rebuilt_row_by_row():
    # 2820/QĐ-UBND, Phụ lục: a group row (merged across), then task rows, one under a rowspan cell
    lines = ("|\nTT\n|\nNhiệm vụ\n|\nCơ quan chủ trì\n|\nCơ quan phối hợp\n|\nThời gian dự kiến hoàn thành\n|\n"
             "Kết quả dự kiến\n|\nNguồn kinh phí\n|\n|\nI\n|\nHoàn thiện thể chế\n|\n|\n1\n|\nPhối hợp rà soát, sửa đổi Luật\n"
             "Quy hoạch.\n|\nSở Tài chính\n|\nCác sở, ngành\n|\nQuý IV/2025\n|\nLuật Quy hoạch\n|\nChi thường xuyên\n|\n|\n"
             "2\n|\nPhối hợp xây dựng nội dung\n|\nSở Tài chính\n|\nCác sở, ngành\n|\nNăm 2025 - 2026\n|\nNghị định\n|\n")
    cells, cur = [], None
    for ln in lines.split("\n")[1:]:
        if ln == "|":
            cells.append(" ".join(cur or []))
            cur = []
        elif ln:
            cur = (cur or []) + [ln]
    rows = bounded_rows(cells)
    assert [r[0] for r in rows] == ["TT", "I", "1", "2"]
    assert rows[1] == ["I", "Hoàn thiện thể chế"]
    assert rows[2][1:5] == ["Phối hợp rà soát, sửa đổi Luật Quy hoạch.", "Sở Tài chính", "Các sở, ngành", "Quý IV/2025"]
    assert rows[3][4] == "Năm 2025 - 2026"


@pytest.mark.parametrize("path", files("real/web", "*.txt"), ids=lambda p: p.stem)
def test_every_real_web_file_gives_exact_spans_and_recovered_paragraphs(path):
    doc = read(path)
    for b in doc.blocks:
        assert doc.text[b.start:b.end] == b.text
    paras = [b.text for b in doc.blocks if b.kind == "para"]
    # no list marker is left alone, the motto is one block, the date line is whole
    assert not [t for t in paras if re.fullmatch(r"(?:[IVXLC]{1,6}|\d{1,3}(?:\.\d{1,3})*|[a-zđ])[.)]", t)]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in paras
    assert any(re.search(r", ngày \d{1,2} tháng \d{1,2} năm \d{4}$", t) for t in paras[:12])
    # the document's title (after its kind) is one block: the next block is not its wrapped tail
    kind = next(i for i, t in enumerate(paras) if re.match(r"^(KẾ HOẠCH|QUYẾT ĐỊNH|CHỈ THỊ)$", t))
    title = paras[kind + 1]
    assert len(title) > 40 and not (paras[kind + 2].isupper() and len(paras[kind + 2]) < 40
                                    and not re.match(r"^(ỦY BAN|BỘ TRƯỞNG)", paras[kind + 2]))


def test_an_upper_case_heading_is_not_joined_to_the_mixed_case_line_under_it():
    assert paragraphs("KẾ HOẠCH\nTriển khai chính quyền địa phương hai cấp\n") == [
        "KẾ HOẠCH", "Triển khai chính quyền địa phương hai cấp"]
    # 0124/KH-UBND: an upper-case heading wrapped over two lines stays one
    assert paragraphs("IV. TỔ CHỨC\nTHỰC HIỆN\n") == ["IV. TỔ CHỨC THỰC HIỆN"]


def test_a_table_whose_first_cell_comes_before_its_first_pipe(tmp_path):
    # the layout of the re-laid seeds (shared/eval/webstyle.py): each cell followed by "|",
    # an empty cell as a blank line, no "|" opening a row
    head = LETTERHEAD_2820 + "KẾ HOẠCH\n\n" + "\n\n".join(
        f"{k}. Nội dung\nthứ {k} của kế hoạch được triển khai trên địa bàn thành phố theo đúng quy định của\npháp luật."
        for k in range(1, 9)) + "\n\nPHỤ LỤC\n\n"
    table = ("STT\n|\nCác nhiệm vụ\n|\nĐơn vị chủ trì\n|\nThời gian\n|\nChỉ số PCI (Chỉ số Năng lực cạnh tranh cấp\n"
             "tỉnh)\n|\n\n|\n\n|\n\n|\n1\n|\nChủ trì phối hợp các cơ quan liên quan duy trì\nkiểm soát chất lượng.\n|\n"
             "Phòng Quản lý xây dựng\n|\nThường xuyên\n|\n\nTrên đây là Kế hoạch.\n")
    p = tmp_path / "plan.txt"
    p.write_text(head + table, "utf-8")
    doc = read(p)
    rows = [b.cells for b in doc.blocks if b.kind == "row"]
    assert rows == [["STT", "Các nhiệm vụ", "Đơn vị chủ trì", "Thời gian"],
                    ["Chỉ số PCI (Chỉ số Năng lực cạnh tranh cấp tỉnh)", "", "", ""],
                    ["1", "Chủ trì phối hợp các cơ quan liên quan duy trì kiểm soát chất lượng.",
                     "Phòng Quản lý xây dựng", "Thường xuyên"]]
    assert doc.blocks[-1].text == "Trên đây là Kế hoạch."
    for b in doc.blocks:
        assert doc.text[b.start:b.end] == b.text


def test_a_markdown_table_becomes_rows_with_its_header(tmp_path):
    head = LETTERHEAD_2820 + "KẾ HOẠCH\n\nTriển khai nhiệm vụ\n\n"
    table = ("| STT | Nhiệm vụ | Cơ quan chủ trì | Thời gian |\n| --- | --- | --- | --- |\n"
             "| 1 | Rà soát, sửa đổi quy định về quy hoạch | Sở Tài chính | Quý IV/2025 |\n"
             "| 2 | Xây dựng cơ sở dữ liệu | Sở Xây dựng | Năm 2026 |\n\nTrên đây là Kế hoạch.\n")
    p = tmp_path / "plan.txt"
    p.write_text(head + table, "utf-8")
    doc = read(p)
    rows = [(b.cells, b.header) for b in doc.blocks if b.kind == "row"]
    assert rows == [(["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Thời gian"], True),
                    (["1", "Rà soát, sửa đổi quy định về quy hoạch", "Sở Tài chính", "Quý IV/2025"], False),
                    (["2", "Xây dựng cơ sở dữ liệu", "Sở Xây dựng", "Năm 2026"], False)]


def test_the_pipe_layout_ends_at_blank_lines_followed_by_text(tmp_path):
    # 0204/KH-UBND: the signature cells, then the appendix title and its table
    sig = ("|\nNơi nhận:\n- Sở Tài chính;\n- Lưu: VT, DT.\n|\nTM. ỦY BAN NHÂN\nDÂN \nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n"
           "Lâm Văn Bi\n|\n\n \n\nMẫu biểu số 01\n\n|\nSTT\n|\nNội dung\n|\nĐơn vị tính\n|\n|\n1\n|\n"
           "Tổng sản phẩm\n|\nTỷ đồng\n|\n")
    got = blocks_of(tmp_path, LETTERHEAD_2820 + "QUYẾT ĐỊNH\n\nBan hành kế hoạch\n\n" + sig)
    assert got[-7:] == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Lâm Văn Bi", "Mẫu biểu số 01",
                        "STT\tNội dung\tĐơn vị tính", "1\tTổng sản phẩm\tTỷ đồng"]


def test_a_row_under_merged_cells_takes_the_number_and_merged_columns_of_the_row_above():
    # 2820/QĐ-UBND, Phụ lục II.1: two tasks share the number, the partner, the time and the result
    cells = ["TT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian", "", "1",
             "Xây dựng hạ tầng công nghệ thông tin", "Trung tâm Chuyển đổi số Thành phố", "Sở Khoa học và Công nghệ",
             "Quý IV/2026", "", "Xây dựng hạ tầng kỹ thuật dự phòng", "Trung tâm Chuyển đổi số Thành phố", "", "2",
             "Đầu tư trang thiết bị", "Sở Tài chính", "Các sở, ngành", "Quý IV/2026", ""]
    rows = bounded_rows(cells)
    assert rows[2] == ["1", "Xây dựng hạ tầng kỹ thuật dự phòng", "Trung tâm Chuyển đổi số Thành phố",
                       "Sở Khoa học và Công nghệ", "Quý IV/2026"]
    assert rows[3][0] == "2"


def test_the_real_pipe_tables_come_out_as_rows_of_their_header_width():
    # 2820/QĐ-UBND: the task appendix (7 columns, group rows I..VI); 0204/KH-UBND: five "Mẫu biểu" forms
    doc = read(next(p for p in files("real/web", "2820-*.txt")))
    rows = [b.cells for b in doc.blocks if b.kind == "row"]
    assert rows[0][:7] == ["TT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian dự kiến hoàn thành",
                           "Kết quả dự kiến", "Nguồn kinh phí"]
    assert [r[0] for r in rows if re.fullmatch(r"[IVX]+", r[0])] == ["I", "II", "III", "IV", "V", "VI"]
    assert rows[2][2:5] == ["Sở Tài chính", "Các sở, ngành, UBND xã, phường, đặc khu", "Quý IV/2025"]
    doc = read(next(p for p in files("real/web", "0204-*.txt")))
    assert len(doc.tables) == 5
    first = [doc.blocks[i].cells for i in doc.tables[0].rows]
    assert ["2", "Tốc độ tăng trưởng GRDP", "%", "8,00", "8,00", "10,00", "10,00", "10,00"] in first


def test_a_cong_van_without_a_kind_line_keeps_its_letterhead_cells(tmp_path):
    text = ("ỦY BAN NHÂN DÂN\nTỈNH ĐẮK LẮK\n-------\n|\nCỘNG HÒA XÃ HỘI\nCHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
            "---------------\n|\n|\nSố: 123/UBND-VX\nV/v triển khai thực hiện\nkế hoạch phòng chống thiên tai\n|\n"
            "Đắk Lắk, ngày 18\ntháng 11 năm 2025\n|\n\n\nKính gửi: Các sở, ban, ngành.\n\n" + "\n\n".join(
                f"{k}. Sở thứ {k} chủ trì\ntriển khai các nhiệm vụ được giao trong kế hoạch của tỉnh theo đúng quy định"
                "\ncủa pháp luật." for k in range(1, 8)) + "\n")
    got = blocks_of(tmp_path, text)
    assert got[:9] == ["ỦY BAN NHÂN DÂN", "TỈNH ĐẮK LẮK", "-------", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                       "Độc lập - Tự do - Hạnh phúc", "---------------", "Số: 123/UBND-VX",
                       "V/v triển khai thực hiện kế hoạch phòng chống thiên tai", "Đắk Lắk, ngày 18 tháng 11 năm 2025"]
    assert got[9] == "Kính gửi: Các sở, ban, ngành."
    assert got[10].startswith("1. Sở thứ 1 chủ trì triển khai") and got[10].endswith("của pháp luật.")


def test_decomposed_unicode_reads_like_composed(tmp_path):
    """Text copied on a Mac or out of some PDFs comes decomposed (NFD: a base letter and its marks): it is
    composed before the portal layout is read, so a real plan gives the same text and blocks (its hard-wrap
    width counts characters: 2820/QĐ-UBND lost 29 of its 73 tasks before)."""
    import unicodedata
    from tests.shared import files
    src = next(p for p in files("real/web", "*.txt") if p.name.startswith("2820-QD-UBND"))
    nfd = tmp_path / src.name
    nfd.write_text(unicodedata.normalize("NFD", src.read_text("utf-8")), encoding="utf-8")
    a, b = read(src), read(nfd)
    assert b.text == a.text and [(x.kind, x.text) for x in b.blocks] == [(x.kind, x.text) for x in a.blocks]


_VARIANTS = {
    "en dash bullets": lambda s: re.sub(r"(?m)^(\s*)- ", r"\1– ", s),
    "round bullets": lambda s: re.sub(r"(?m)^(\s*)[-+] ", r"\1• ", s),
    "tab after markers": lambda s: re.sub(r"(?m)^(\s*)([a-zđ]\)|\d{1,2}\.|-) ", r"\1\2\t", s),
    "CRLF and no-break spaces": lambda s: s.replace("\n", "\r\n").replace(" ", "\u00a0", 50),
    "straight quotes": lambda s: s.replace("“", '"').replace("”", '"'),
}


@pytest.mark.parametrize("variant", list(_VARIANTS))
def test_a_real_plan_reads_the_same_in_common_layout_variants(tmp_path, variant):
    """0129/KH-UBND (41 tasks) written with other bullets, tabs, line ends or quotes as other exports write
    them gives the same tasks, owners and deadlines."""
    from kehoach.extract import extract
    src = next(p for p in files("real/web", "*.txt") if p.name.startswith("0129-KH-UBND"))
    text = src.read_text("utf-8")
    changed = _VARIANTS[variant](text)
    assert changed != text
    p = tmp_path / src.name
    p.write_bytes(changed.encode("utf-8"))
    def key(ex):   # quotes compared as one kind (the "straight quotes" variant changes them in the texts)
        return [(t.text.replace("“", '"').replace("”", '"'), t.lead, t.support, t.deadline and t.deadline.date)
                for t in ex.tasks]
    want = key(extract(read(src)))
    assert len(want) >= 40
    assert key(extract(read(p))) == want


def test_a_letterhead_without_its_cell_separators_keeps_its_fields(tmp_path):
    """0129/KH-UBND with the lone "|" lines of its letterhead taken out (a portal that does not mark the
    cells): "Số: 0129/KH-UBND" and "Đắk Lắk, ngày 21 tháng 11 năm 2025" stay two fields, so the number,
    place and date are read as from the portal's layout."""
    from kehoach.extract import extract
    src = next(p for p in files("real/web", "*.txt") if p.name.startswith("0129-KH-UBND"))
    text = src.read_text("utf-8")
    flat = tmp_path / src.name
    flat.write_text(re.sub(r"(?m)^\|\s*\n", "", text[:text.index("KẾ HOẠCH")]) + text[text.index("KẾ HOẠCH"):],
                    encoding="utf-8")
    want, got = extract(read(src)).document, extract(read(flat)).document
    assert want.date == "2025-11-21" and (got.number, got.place, got.date) == (want.number, want.place, want.date)


def test_a_body_name_wrapped_at_its_dash_and_a_line_ending_in_a_function_word_go_on():
    # a portal that wraps at ~60 characters, no blank lines (``normalize.join_wrapped``): "Sở Lao động" /
    # "- Thương binh và Xã hội ..."
    from kehoach.ingest.normalize import join_wrapped

    def paragraphs(text: str, width: int) -> list[str]:
        lines = text.split("\n")
        return [" ".join(x.strip() for x in lines[a:b + 1]) for a, b in join_wrapped(lines, width) if lines[a].strip()]
    assert paragraphs("Theo đề nghị của Sở Lao động\n- Thương binh và Xã hội tại Tờ trình số 92/TTr-SLĐTBXH.\n",
                      width=60) == ["Theo đề nghị của Sở Lao động - Thương binh và Xã hội tại Tờ trình số 92/TTr-SLĐTBXH."]
    assert paragraphs("Giao Sở Nội vụ chủ trì, phối hợp với các\nSở, ngành liên quan triển khai thực hiện.\n",
                      width=60) == ["Giao Sở Nội vụ chủ trì, phối hợp với các Sở, ngành liên quan triển khai thực hiện."]
    # a dash list stays a list, and a phrase that may end a line ends it
    assert paragraphs("Các đơn vị phối hợp:\n- Sở Lao động\n- Thương binh và Xã hội\n", width=60) == [
        "Các đơn vị phối hợp:", "- Sở Lao động", "- Thương binh và Xã hội"]
    # a sentence cut short of the width goes on; a title line does not run into the preamble
    assert paragraphs("Điều 1.\nBan hành kèm theo Quyết định này Kế hoạch thực hiện\nChương trình phát triển công tác "
                      "xã hội.\n", width=80) == ["Điều 1.", "Ban hành kèm theo Quyết định này Kế hoạch thực hiện "
                                                 "Chương trình phát triển công tác xã hội."]
    assert paragraphs("Cải cách thủ tục hành chính trọng tâm năm 2024\nThực hiện Quyết định số 104/QĐ-TTg ngày "
                      "25/01/2024;\n", width=80) == ["Cải cách thủ tục hành chính trọng tâm năm 2024",
                                                     "Thực hiện Quyết định số 104/QĐ-TTg ngày 25/01/2024;"]
    # an upper-case line after a sentence ended starts its own paragraph, even after a wrapped line
    assert paragraphs("Theo đề nghị của Sở Tư pháp tại Tờ trình số 92/TTr-STP ngày 06/4/2021.\nQUYẾT ĐỊNH:\n",
                      width=60) == ["Theo đề nghị của Sở Tư pháp tại Tờ trình số 92/TTr-STP ngày 06/4/2021.", "QUYẾT ĐỊNH:"]
    assert paragraphs("Thực hiện trong năm 2021 và các năm tiếp theo\nCăn cứ Quyết định số 641/QĐ-BNV;\n",
                      width=80) == ["Thực hiện trong năm 2021 và các năm tiếp theo", "Căn cứ Quyết định số 641/QĐ-BNV;"]
