"""The header by the national format standard (Nghị định 30/2020/NĐ-CP, Phụ lục I): letterhead,
title, signature, on real snippets of every layout, and a golden test against gold-real."""
from __future__ import annotations

import json
import re
import unicodedata

import pytest

from kehoach.extract.header import is_central, parse_header, read_letterhead, sentence_case_title
from kehoach.ingest import read
from kehoach.models import Block, IngestedDocument
from tests.shared import files, need


def doc_of(lines: list, source: str = "snippet.txt") -> IngestedDocument:
    """One block a line, as text copied from a portal arrives without layout recovery;
    a list item is a table row (its cells)."""
    blocks, text, pos = [], "", 0
    for x in lines:
        cells = x if isinstance(x, list) else None
        t = "\t".join(cells) if cells else x
        blocks.append(Block(kind="row" if cells else "para", text=t, start=pos, end=pos + len(t), cells=cells))
        text += t + "\n"
        pos += len(t) + 1
    return IngestedDocument(source=source, sha256="", format="txt", text=text, blocks=blocks)


def fold(s: str | None) -> str:
    s = unicodedata.normalize("NFD", (s or "").replace("Đ", "D").replace("đ", "d"))
    s = "".join(c for c in s if unicodedata.category(c) != "Mn").lower()
    return re.sub(r"\s+", " ", re.sub(r"[^\w&]+", " ", s)).strip()


def bigram_match(a: str | None, b: str | None) -> bool:
    """The scorer's title rule: word bigrams after folding, Jaccard >= 0.8."""
    def bg(t):
        w = fold(t).split()
        return set(w) if len(w) < 2 else {x + " " + y for x, y in zip(w, w[1:])}
    ga, gb = bg(a), bg(b)
    return len(ga & gb) / max(len(ga | gb), 1) >= 0.8


# --------------------------------------------------------------------------- letterhead

# 2820/QĐ-UBND as copied from the portal: one cell a line between "|" lines, the issuer's name,
# the Quốc hiệu, the number and the place all cut over lines.
HCM_RAW = ["|", "ỦY BAN NHÂN", "DÂN", "THÀNH PHỐ HỒ CHÍ MINH", "--------", "|", "CỘNG HÒA XÃ",
           "HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "---------------", "|", "|", "Số:",
           "2820/QĐ-UBND", "|", "Thành phố Hồ", "Chí Minh, ngày 19 tháng 11 năm 2025", "|"]


def test_quoc_hieu_cut_over_lines_stays_out_of_the_issuer_and_number_and_place_join_their_next_line():
    lh = read_letterhead(HCM_RAW)
    assert lh.units == ["ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH"]
    assert lh.number == "2820/QĐ-UBND"
    assert (lh.place, lh.date) == ("Thành phố Hồ Chí Minh", "2025-11-19")


def test_date_cut_after_the_day_is_joined():
    # 0204/KH-UBND Cà Mau
    lh = read_letterhead(["ỦY BAN NHÂN DÂN", "TỈNH CÀ MAU", "-------", "|", "CỘNG HÒA XÃ HỘI", "CHỦ NGHĨA VIỆT NAM",
                          "Độc lập - Tự do - Hạnh phúc", "|", "Số: 0204/KH-UBND", "|", "Cà Mau, ngày 24",
                          "tháng 11 năm 2025", "|"])
    assert lh.units == ["ỦY BAN NHÂN DÂN TỈNH CÀ MAU"]
    assert (lh.number, lh.place, lh.date) == ("0204/KH-UBND", "Cà Mau", "2025-11-24")


def test_blank_number_and_day_keep_what_is_known():
    # seed 003 (Sở Xây dựng Tây Ninh): "Số: /KH-SXD", "ngày tháng 8 năm 2021"
    lh = read_letterhead(["Số: /KH-SXD", "Tây Ninh, ngày tháng 8 năm 2021"])
    assert lh.has_number_line and lh.number is None
    assert (lh.place, lh.date) == ("Tây Ninh", "2021-08")


def test_two_pdf_columns_on_one_line_give_the_central_issuer_without_province():
    # 892/QĐ-TTg (Gazette PDF): the issuer and the Quốc hiệu run together on one line
    lines = ["THỦ TƯỚNG CHÍNH PHỦ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "____________", "Số: 892/QĐ-TTg",
             "Độc lập - Tự do - Hạnh phúc", "_______________________________________",
             "Hà Nội, ngày 20 tháng 5 năm 2026", "QUYẾT ĐỊNH",
             "Phê duyệt Đề án bồi dưỡng cán bộ, công chức, viên chức làm công tác đối ngoại, hội nhập quốc tế",
             "____________", "THỦ TƯỚNG CHÍNH PHỦ", "Căn cứ Luật Cán bộ, công chức ngày 24 tháng 6 năm 2025;"]
    info, lay = parse_header(doc_of(lines))
    assert info.issuer == "Thủ tướng Chính phủ"
    assert info.province is None            # not filed under Hà Nội because of its place line
    assert (info.place, info.number, info.type) == ("Hà Nội", "892/QĐ-TTg", "Quyết định")
    assert info.title.startswith("Phê duyệt Đề án") and info.title.endswith("hội nhập quốc tế")
    assert lay.body_start == 10


def test_a_bo_letterhead_wrapped_over_two_lines_and_the_authority_line_ends_the_title():
    # 4385/QĐ-BVHTTDL
    lines = ["BỘ VĂN HÓA, THỂ THAO", "VÀ DU LỊCH", "-------", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
             "Độc lập - Tự do - Hạnh phúc", "---------------", "Số: 4385/QĐ-BVHTTDL",
             "Hà Nội, ngày 18 tháng 11 năm 2025", "QUYẾT ĐỊNH",
             "VỀ VIỆC BAN HÀNH KẾ HOẠCH THỰC HIỆN QUY HOẠCH MẠNG LƯỚI CƠ SỞ VĂN HÓA VÀ THỂ THAO THỜI KỲ",
             "2021-2030, TẦM NHÌN ĐẾN NĂM 2045", "BỘ TRƯỞNG BỘ VĂN HÓA, THỂ THAO VÀ DU LỊCH",
             "Căn cứ Luật Quy hoạch ngày 24/11/2017;"]
    info, _ = parse_header(doc_of(lines))
    assert info.issuer == "Bộ Văn hóa, Thể thao và Du lịch"
    assert info.province is None and is_central(info.issuer)
    assert info.title == ("Về việc ban hành Kế hoạch thực hiện quy hoạch mạng lưới cơ sở văn hóa và thể thao "
                          "thời kỳ 2021-2030, tầm nhìn đến năm 2045")


def test_pipe_table_letterhead_with_merged_cells_repeated_on_each_row():
    # 105/NQ-CP (ruled PDF letterhead): the left cell is merged over four rows
    left = "CHÍNH PHỦ _________ Số: 105/NQ-CP"
    lines = [[left, "", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", ""], [left, "", "Độc lập - Tự do - Hạnh phúc", ""],
             [left, "", "_____________________________________", ""],
             [left, "", "Hà Nội, ngày 08 tháng 4 năm 2026", ""], ["NGHỊ QUYẾT", "", "", ""],
             ["Ban hành Chương trình hành động của Chính phủ thực hiện Kết luận", "", "", ""],
             ["số 210-KL/TW ngày 12 tháng 11 năm 2025 của Ban Chấp hành", "", "", ""],
             ["___________", "", "", ""], ["CHÍNH PHỦ", "", "", ""]]
    info, _ = parse_header(doc_of(lines))
    assert (info.issuer, info.province, info.number, info.date, info.type) == \
        ("Chính phủ", None, "105/NQ-CP", "2026-04-08", "Nghị quyết")
    assert info.title == ("Ban hành Chương trình hành động của Chính phủ thực hiện Kết luận số 210-KL/TW "
                          "ngày 12 tháng 11 năm 2025 của Ban Chấp hành")


def test_gazette_banner_and_a_name_printed_twice_are_one_issuer():
    # 28/2021/QĐ-TTg and 135/QĐ-BLĐTBXH (Gazette PDFs)
    assert read_letterhead(["VĂN BẢN QUY PHẠM PHÁP LUẬT", "THỦ TƯỚNG CHÍNH PHỦ", "THỦ TƯỚNG CHÍNH PHỦ",
                            "Số: 28/2021/QĐ-TTg"]).units == ["THỦ TƯỚNG CHÍNH PHỦ"]
    assert read_letterhead(["BỘ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI", "BỘ LAO ĐỘNG - THƯƠNG BINH", "VÀ XÃ HỘI",
                            "Số: 135/QĐ-BLĐTBXH"]).units == ["BỘ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI"]


# --------------------------------------------------------------------------- title

def test_an_upper_case_title_wrapped_over_lines_is_read_whole_in_sentence_case():
    # 159/KH-UBND Cần Thơ
    lines = ["ỦY BAN NHÂN DÂN", "THÀNH PHỐ CẦN THƠ", "Số: 159/KH-UBND", "Cần Thơ, ngày 19 tháng 11 năm 2025",
             "KẾ HOẠCH", "TRUYỀN THÔNG VỀ GIẢM NGHÈO ĐA CHIỀU THUỘC CHƯƠNG TRÌNH",
             "MỤC TIÊU QUỐC GIA GIẢM NGHÈO BỀN VỮNG TRÊN ĐỊA BÀN THÀNH PHỐ CẦN THƠ NĂM 2025",
             "Căn cứ Thông tư số 06/2022/TT-BTTTT ngày 30 tháng 6 năm 2022 của Bộ trưởng Bộ Thông tin và Truyền"]
    info, lay = parse_header(doc_of(lines))
    assert info.title == ("Truyền thông về giảm nghèo đa chiều thuộc Chương trình mục tiêu quốc gia giảm nghèo "
                          "bền vững trên địa bàn thành phố Cần Thơ năm 2025")
    assert info.issuer == "Ủy ban nhân dân thành phố Cần Thơ" and info.province == "Cần Thơ"
    assert lay.body_start == 7


def test_sentence_case_keeps_symbols_names_places_and_roman_numerals():
    assert sentence_case_title(
        "BAN HÀNH KẾ HOẠCH TRIỂN KHAI QUYẾT ĐỊNH SỐ 06/QĐ-TTG NGÀY 02 THÁNG 01 NĂM 2025 CỦA THỦ TƯỚNG CHÍNH PHỦ "
        "VÀ QUYẾT ĐỊNH SỐ 3103/QĐ-BTC NGÀY 05 THÁNG 9 NĂM 2025 CỦA BỘ TÀI CHÍNH") == (
        "Ban hành Kế hoạch triển khai Quyết định số 06/QĐ-TTg ngày 02 tháng 01 năm 2025 của Thủ tướng Chính phủ "
        "và Quyết định số 3103/QĐ-BTC ngày 05 tháng 9 năm 2025 của Bộ Tài chính")
    assert sentence_case_title("PHÁT ĐỘNG PHONG TRÀO THI ĐUA THỰC HIỆN THÀNH CÔNG CUỘC BẦU CỬ ĐẠI BIỂU QUỐC HỘI "
                               "KHÓA XVI VÀ ĐẠI BIỂU HĐND CÁC CẤP NHIỆM KỲ 2026 - 2031") == (
        "Phát động phong trào thi đua thực hiện thành công cuộc bầu cử đại biểu Quốc hội khóa XVI và đại biểu "
        "HĐND các cấp nhiệm kỳ 2026 - 2031")


def test_a_common_noun_opening_with_a_level_word_is_no_place():
    # "XÃ HỘI" (society) is not the commune "Hội": 0124/KH-UBND's words, and a place after "tỉnh" as before
    assert sentence_case_title("THI ĐUA HOÀN THÀNH CÁC MỤC TIÊU, NHIỆM VỤ PHÁT TRIỂN KINH TẾ - XÃ HỘI HẰNG NĂM "
                               "TRÊN ĐỊA BÀN TỈNH ĐẮK LẮK") == (
        "Thi đua hoàn thành các mục tiêu, nhiệm vụ phát triển kinh tế - xã hội hằng năm trên địa bàn tỉnh Đắk Lắk")
    assert sentence_case_title("BẢO ĐẢM AN SINH XÃ HỘI TẠI XÃ HÒA PHÚ") == "Bảo đảm an sinh xã hội tại xã Hòa Phú"


def test_each_level_word_names_its_own_place_and_a_list_of_levels_names_none():
    assert sentence_case_title("CÁC HUYỆN, THỊ XÃ, THÀNH PHỐ TRÊN ĐỊA BÀN TỈNH BÌNH ĐỊNH") == (
        "Các huyện, thị xã, thành phố trên địa bàn tỉnh Bình Định")          # was "tỉnh bình định"
    assert sentence_case_title("HỖ TRỢ NHÂN DÂN XÃ HÒA PHÚ VÀ XÃ HÒA THẮNG") == (
        "Hỗ trợ nhân dân xã Hòa Phú và xã Hòa Thắng")
    assert sentence_case_title("TIÊU CHUẨN XÃ, PHƯỜNG, THỊ TRẤN PHÙ HỢP VỚI TRẺ EM") == (
        "Tiêu chuẩn xã, phường, thị trấn phù hợp với trẻ em")                # was "thị trấn Phù Hợp"


def test_a_letterhead_that_lost_its_drop_cap_gets_it_back():
    # a page that sets the first letter apart loses it when copied; 0204/KH-UBND's letterhead so copied
    lh = read_letterhead(["Y BAN NHÂN DÂN", "TỈNH CÀ MAU", "Số: 0204/KH-UBND", "Cà Mau, ngày 24 tháng 11 năm 2025"])
    assert lh.units == ["ỦY BAN NHÂN DÂN TỈNH CÀ MAU"] and lh.number == "0204/KH-UBND"
    assert read_letterhead(["BAN CHỈ ĐẠO", "Số: 12/KH-BCĐ"]).units == ["BAN CHỈ ĐẠO"]   # a head itself: kept


def test_regions_keep_their_capitals_in_a_title():
    assert sentence_case_title("PHÁT TRIỂN VÙNG KINH TẾ TRỌNG ĐIỂM MIỀN TRUNG CỦA TỈNH QUẢNG NGÃI") == (
        "Phát triển vùng kinh tế trọng điểm miền Trung của tỉnh Quảng Ngãi")
    assert sentence_case_title("LIÊN KẾT VÙNG ĐỒNG BẰNG SÔNG CỬU LONG VÀ TÂY NGUYÊN") == (
        "Liên kết vùng Đồng bằng sông Cửu Long và Tây Nguyên")


def test_v_v_stays_in_the_title():
    # 0129/KH-UBND Đắk Lắk
    assert sentence_case_title("V/V HỖ TRỢ NHU YẾU PHẨM KHẨN CẤP CHO NHÂN DÂN BỊ ẢNH HƯỞNG MƯA LŨ TRÊN ĐỊA BÀN "
                               "TỈNH ĐẮK LẮK") == ("V/v hỗ trợ nhu yếu phẩm khẩn cấp cho nhân dân bị ảnh hưởng mưa "
                                                  "lũ trên địa bàn tỉnh Đắk Lắk")


# --------------------------------------------------------------------------- signature

BODY = ["ỦY BAN NHÂN DÂN", "TỈNH CÀ MAU", "Số: 0204/KH-UBND", "Cà Mau, ngày 24 tháng 11 năm 2025", "KẾ HOẠCH",
        "TÀI CHÍNH - NGÂN SÁCH NHÀ NƯỚC 03 NĂM 2026 - 2028 TỈNH CÀ MAU",
        "Căn cứ Nghị định số 45/2017/NĐ-CP ngày 21/4/2017 của Chính phủ;", "I. MỤC TIÊU"]


@pytest.mark.parametrize("sig, name, title", [
    # 0204/KH-UBND as copied: the TM. line wrapped, "|" cell marks
    (["Nơi nhận:", "- Bộ Tài chính (b/c);", "- Lưu: VT, DT (KH03), M.A166/11.", "|", "TM. ỦY BAN NHÂN", "DÂN",
      "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Lâm Văn Bi", "|"], "Lâm Văn Bi", "Phó Chủ tịch"),
    # seed 000 (Văn phòng UBND Quảng Trị)
    (["Nơi nhận:", "- Lưu: VT, HCTC_(Tr).", "KT. CHÁNH VĂN PHÒNG", "PHÓ VĂN PHÒNG", "Lê Hữu Phước"],
     "Lê Hữu Phước", "Phó Chánh Văn phòng"),
    # 892/QĐ-TTg: no Nơi nhận in the Gazette copy, glyph junk after the post
    (["Điều 3. Các Bộ trưởng ... chịu trách nhiệm thi hành Quyết định này.", "KT. THỦ TƯỚNG", "PHÓ THỦ TƯỚNGy]",
      "Phạm Thị Thanh Trà"], "Phạm Thị Thanh Trà", "Phó Thủ tướng"),
    # 105/NQ-CP: the mandates run together on one line
    (["Điều 2. ...", "TM. CHÍNH PHỦ KT. THỦ TƯỚNG PHÓ THỦ TƯỚNG", "Phạm Thị Thanh Trà"],
     "Phạm Thị Thanh Trà", "Phó Thủ tướng"),
    # 798/QĐ-TTg: the Prime Minister signs himself, a stamp mark between
    (["Điều 7. ...", "THỦ TƯỚNG", "[", "Lê Minh Hưng"], "Lê Minh Hưng", "Thủ tướng"),
    # 28/2021/QĐ-TTg: "[daky]" mark, then the appendix
    (["Điều 3. ...", "KT. THỦ TƯỚNG", "PHÓ THỦ TƯỚNG", "[daky]", "Lê Minh Khái", "Phụ lục", "Mẫu số 01"],
     "Lê Minh Khái", "Phó Thủ tướng"),
])
def test_signature_mandate_post_and_name(sig, name, title):
    info, lay = parse_header(doc_of(BODY + sig))
    assert (info.signer.name, info.signer.title) == (name, title)
    assert lay.closing is not None and lay.closing >= len(BODY)


def test_a_signature_before_an_appendix_ends_the_body():
    info, lay = parse_header(doc_of(BODY + ["Điều 3. ...", "KT. THỦ TƯỚNG", "PHÓ THỦ TƯỚNG", "[daky]",
                                            "Lê Minh Khái", "Phụ lục", "Mẫu số 01"]))
    assert lay.closing == len(BODY) + 1
    assert lay.appendix == len(BODY) + 5


# --------------------------------------------------------------------------- golden

REAL = ["real/web/" + p.name for p in files("real/web", "*.txt")] + ["real/pdf/quyet-dinh-so-892-qd-ttg-469579.pdf"]


def _gold(rel: str) -> dict:
    stem = rel.rsplit("/", 1)[1].rsplit(".", 1)[0]
    return json.loads(need(f"eval/gold-real/{stem}.json").read_text("utf-8"))["document"]


def _check(info, g: dict) -> None:
    assert fold(info.issuer) == fold(g["issuer"])
    assert bigram_match(info.title, g["title"]), (info.title, g["title"])
    assert (info.number, info.date, info.type) == (g["number"], g["date"], g["type"])
    assert (info.signer.name, info.signer.title) == (g["signer"]["name"], g["signer"]["title"])


@pytest.mark.parametrize("rel", REAL)
def test_header_matches_gold_real(rel):
    info, _ = parse_header(read(need(rel)))
    _check(info, _gold(rel))
    assert (info.province is None) == is_central(info.issuer)


@pytest.mark.parametrize("rel", [r for r in REAL if r.endswith(".txt")])
def test_header_matches_gold_real_on_the_raw_lines_too(rel):
    """Without layout recovery (one block a line, "|" cell marks kept) the header reads the same."""
    lines = [x.strip() for x in need(rel).read_text("utf-8").splitlines() if x.strip()]
    info, _ = parse_header(doc_of(lines, rel))
    _check(info, _gold(rel))


def test_a_central_plan_is_not_filed_under_the_place_of_its_date_line():
    from kehoach.corpus.bodies import plan_scope
    info, _ = parse_header(read(need("real/pdf/quyet-dinh-so-892-qd-ttg-469579.pdf")))
    scope = plan_scope(info.issuer, province=info.province, place=info.place, text="Hà Nội, ngày 20 tháng 5")
    assert info.place == "Hà Nội" and scope.province is None


def test_noi_nhan_lists_the_recipients_without_the_archive_line():
    info, lay = parse_header(read(need("real/web/0204-KH-UBND__9b7eebad.txt")))
    assert lay.recipients[:3] == ["Bộ Tài chính (b/c)", "Kiểm toán nhà nước khu vực V (b/c)",
                                  "Thường trực Tỉnh ủy (b/c)"]
    assert not any(x.startswith("Lưu") for x in lay.recipients)


def test_the_symbol_narrows_a_government_letterhead_to_the_prime_minister():
    # an HTML copy of 30/2025/QĐ-TTg whose letterhead reads "CHÍNH PHỦ"
    info, _ = parse_header(doc_of(["CHÍNH PHỦ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                                   "Số: 30/2025/QĐ-TTg", "Hà Nội, ngày 30 tháng 8 năm 2025", "QUYẾT ĐỊNH",
                                   "Ban hành Quy chế phối hợp trong đấu tranh, ngăn chặn hoạt động",
                                   "Căn cứ Luật Tổ chức Chính phủ số 63/2025/QH15;"]))
    assert (info.issuer, info.province) == ("Thủ tướng Chính phủ", None)
    info, _ = parse_header(doc_of(["CHÍNH PHỦ", "Số: 105/NQ-CP", "Hà Nội, ngày 08 tháng 4 năm 2026", "NGHỊ QUYẾT",
                                   "Ban hành Chương trình hành động", "Căn cứ Luật Tổ chức Chính phủ;"]))
    assert info.issuer == "Chính phủ"


@pytest.mark.parametrize("rel, issuer, number, date, signer", [
    ("real/pdf/quyet-dinh-so-135-qd-bldtbxh-41357.pdf", "Bộ Lao động - Thương binh và Xã hội", "135/QĐ-BLĐTBXH",
     "2024-01-31", ("Nguyễn Bá Hoan", "Thứ trưởng")),
    ("real/pdf/quyet-dinh-so-28-2021-qd-ttg-34546.pdf", "Thủ tướng Chính phủ", "28/2021/QĐ-TTg", "2021-10-01",
     ("Lê Minh Khái", "Phó Thủ tướng")),
    ("real/html/doc_000081.html", "Thủ tướng Chính phủ", "29/2025/QĐ-TTg", "2025-08-28",
     ("Hồ Đức Phớc", "Phó Thủ tướng")),
    ("real/html/doc_000288.html", "Thủ tướng Chính phủ", "49/2025/QĐ-TTg", "2025-12-22",
     ("Bùi Thanh Sơn", "Phó Thủ tướng")),
])
def test_header_of_gazette_pdfs_and_html_copies(rel, issuer, number, date, signer):
    """As printed on these real documents (no gold file): central issuers, no province."""
    info, _ = parse_header(read(need(rel)))
    assert (info.issuer, info.number, info.date, info.province) == (issuer, number, date, None)
    assert (info.signer.name, info.signer.title) == signer


def test_header_data_tables_are_well_formed():
    from kehoach.extract.data import rows
    for name in ("letterhead_mottos.tsv", "central_bodies.tsv"):
        for r in rows(name):
            re.compile(r[0])
    assert all(r[0] == r[0].upper() for r in rows("letterhead_units.tsv"))
    # every name holds a capital: at its start, or after a common word ("của ...", "miền Trung")
    assert all(any(w[:1].isupper() for w in r[0].split()) for r in rows("title_names.tsv"))
    assert is_central("Văn phòng Chính phủ") and is_central("Bộ Nội vụ") and not is_central("Bộ Chỉ huy Quân sự tỉnh")
    assert not is_central("Ủy ban nhân dân tỉnh Đắk Lắk") and not is_central("Sở Nội vụ tỉnh Cà Mau")
