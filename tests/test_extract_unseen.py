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


# ------------------------------------------------------------------ owners of an opening paragraph

def test_an_opening_paragraph_gives_its_subject_and_short_name_to_the_items_below():
    """982/KH-UBND II: "Để ..., ...; các sở, ban, ngành, ..., tổ chức Hội (sau đây viết tắt là cơ quan, đơn
    vị) và mọi người dân triển khai Đợt thi đua ..., các nội dung chủ yếu sau:" then "1. Thi đua ..."."""
    r = web("982-KH-UBND__99c7d8ff")
    for start in ("Thi đua thực hiện thắng lợi nhiệm vụ phát triển", "Thi đua hoàn thành, hoàn thành vượt mức"):
        assert task(r, start)["lead"] == ["Các cơ quan, đơn vị", "Mọi người dân"]
    # the criteria of part III (no task part) stay statements although "Mọi người dân" now names a body
    assert not any(t["text"].startswith("Mọi người dân tiếp tục nêu cao") for t in r["tasks"])


def test_an_opening_paragraph_that_is_a_task_gives_its_support_to_the_items_below():
    """4385/QĐ-BVHTTDL IV.3: "Chủ trì, phối hợp với các cơ quan có liên quan tham mưu cho Ủy ban nhân dân
    các tỉnh ...:" then a) ... đ): each item has the heading's lead and the paragraph's support."""
    r = web("4385-QD-BVHTTDL__448306af")
    for start in ("Tổ chức thực hiện quản lý nhà nước về văn hóa", "Theo dõi và chịu trách nhiệm về số liệu"):
        t = task(r, start)
        assert t["support"] == ["Các cơ quan có liên quan"] and t["lead"][0].startswith("Sở Văn hóa, Thể thao")


def test_a_giao_heading_with_its_verb_gives_the_lead_and_the_support():
    from kehoach.extract import owners as own
    h = "Giao Sở Tài nguyên và Môi trường chủ trì, phối hợp với Sở Tài chính, Sở Xây dựng thực hiện các nhiệm vụ sau:"
    assert own.heading_owner(h) == ["Sở Tài nguyên và Môi trường"]
    assert own.support_in(h) == ["Sở Tài chính", "Sở Xây dựng"]
    assert own.heading_owner("Yêu cầu Công an tỉnh:") == ["Công an tỉnh"]
    assert own.heading_owner("Yêu cầu 100% hồ sơ được xử lý đúng hạn:") == []


def test_an_intro_paragraph_in_a_plan_body_passes_lead_and_support_down():
    from kehoach.ingest.builder import DocBuilder
    b = DocBuilder()
    lines = ["KẾ HOẠCH", "Triển khai thực hiện", "I. NHIỆM VỤ",
             "Giao Sở Tài nguyên và Môi trường chủ trì, phối hợp với Sở Tài chính thực hiện các nhiệm vụ sau:",
             "- Rà soát, cập nhật cơ sở dữ liệu đất đai trên địa bàn tỉnh trước ngày 15/12/2025;",
             "- Công an tỉnh hướng dẫn việc kết nối dữ liệu dân cư với cơ sở dữ liệu đất đai."]
    for ln in lines:
        b.para(ln)
    r = extract(b.build("t.txt", "0" * 64, "txt")).to_dict()
    t1 = task(r, "Rà soát, cập nhật")
    assert t1["lead"] == ["Sở Tài nguyên và Môi trường"] and t1["support"] == ["Sở Tài chính"]
    assert t1["deadline"]["date"] == "2025-12-15"
    assert task(r, "Công an tỉnh hướng dẫn")["lead"] == ["Công an tỉnh"]


# ------------------------------------------------------------------ table cells copied from a portal

def test_a_cell_of_two_sentences_beside_two_owner_lines_is_two_rows():
    """2820/QĐ-UBND PL.IV.4: the portal text joined the lines of three cells ("Bố trí nhân lực ... . Bố trí
    nhân lực ..." / "Các sở, ngành, UBND xã, phường, đặc khu Sở Tài chính" / "Sở Tài chính Các sở, ...")."""
    r = web("2820-QD-UBND__001c610b")
    a = task(r, "Bố trí nhân lực đảm bảo đủ năng lực để thực hiện nhiệm vụ xây dựng")
    b = task(r, "Bố trí nhân lực đảm bảo đủ năng lực để quản lý, vận hành")
    assert a["lead"] == ["Các sở, ngành", "Ủy ban nhân dân xã, phường, đặc khu"] and a["support"] == ["Sở Tài chính"]
    assert b["lead"] == ["Sở Tài chính"] and b["section"] == a["section"] == "PL.IV.4"


def test_cells_past_the_header_are_a_rowspan_sub_row():
    """2820/QĐ-UBND PL.IV.2: "Thực hiện sao lưu dữ liệu ... | Sở Khoa học và Công nghệ | Sở Tài chính" came
    after the last header column of row 2 (its STT and deadline cells span both rows)."""
    t = task(web("2820-QD-UBND__001c610b"), "Thực hiện sao lưu dữ liệu")
    assert t["lead"] == ["Sở Khoa học và Công nghệ"] and t["support"] == ["Sở Tài chính"]
    assert t["deadline"]["date"] == "2026-12-31"


def test_a_lost_line_break_between_two_bodies_in_a_cell_splits_them():
    from kehoach.extract.tables import _cell_parts
    assert _cell_parts("Bộ Ngoại giao Bộ Công Thương Cơ quan, tổ chức và doanh nghiệp liên quan") == \
        ["Bộ Ngoại giao", "Bộ Công Thương", "Cơ quan, tổ chức và doanh nghiệp liên quan"]
    assert _cell_parts("Văn phòng UBND tỉnh") == ["Văn phòng UBND tỉnh"]
    assert _cell_parts("Văn phòng Hội đồng nhân dân và Ủy ban nhân dân thành phố") == \
        ["Văn phòng Hội đồng nhân dân và Ủy ban nhân dân thành phố"]


# ------------------------------------------------------------------ header

def test_a_title_naming_legal_documents_is_not_the_gazette_banner():
    """135/QĐ-BLĐTBXH (Gazette PDF): the trích yếu "Về việc công bố Danh mục văn bản quy phạm pháp
    luật hết hiệu lực ..." names in running text the words the Gazette prints in capitals as its
    banner ("VĂN BẢN QUY PHẠM PHÁP LUẬT"); only a banner line stops the title."""
    d = rec("real/pdf/quyet-dinh-so-135-qd-bldtbxh-41357.pdf")["document"]
    assert d["title"] == ("Về việc công bố Danh mục văn bản quy phạm pháp luật hết hiệu lực toàn bộ hoặc một phần "
                          "thuộc lĩnh vực quản lý nhà nước của Bộ Lao động - Thương binh và Xã hội")


def test_a_heading_naming_a_kind_of_holder_with_its_examples_owns_the_items_below():
    """06/CT-UBND: "5. Các chủ rừng là tổ chức (các Ban quản lý rừng đặc dụng, ..., các Công ty nông, lâm
    nghiệp…)" heads five "- " duties. After the copula "là", "tổ chức" is the kind of holder, not the verb;
    the closing parenthesis lists examples (its "…" ends no sentence): a heading, not a task."""
    r = web("06-CT-UBND__4f302021")
    assert not [t for t in r["tasks"] if t["text"].startswith("Các chủ rừng")]
    under = [t for t in r["tasks"] if t["section"] == "5"]
    assert len(under) == 5
    assert all(t["lead"] == ["Các chủ rừng là tổ chức"] for t in under)
    assert under[0]["text"].startswith("Thực hiện đầy đủ quyền, nghĩa vụ và trách nhiệm chủ rừng")


def test_a_subject_with_its_relative_clause_up_to_the_modal_is_the_lead():
    """0129/KH-UBND IV.15: "Tất cả lực lượng, phương tiện tham gia thực hiện Kế hoạch này phải tuân thủ
    nghiêm ...": the clause "tham gia ..." runs to the modal "phải" and names whom the duty binds."""
    t = task(web("0129-KH-UBND__62f25a03"), "Tất cả lực lượng, phương tiện")
    assert t["lead"] == ["Tất cả lực lượng, phương tiện tham gia thực hiện Kế hoạch này"]



def test_a_subject_listing_four_bodies_is_not_cut_by_the_one_name_word_limit():
    """0125/KH-UBND IV.3: "Giấy khen của Thủ trưởng các cơ quan, đơn vị; Chủ tịch UBND xã, phường: Các Sở,
    ban, ngành, Mặt trận Tổ quốc Việt Nam tỉnh và các đoàn thể chính trị - xã hội, Ủy ban nhân dân xã,
    phường ... căn cứ ...": a subject of four clean body names is longer than one name may be."""
    t = next(t for t in web("0125-KH-UBND__2957e4f4")["tasks"] if t["section"] == "IV.3")
    assert t["lead"][:3] == ["Các Sở, ban, ngành", "Mặt trận Tổ quốc Việt Nam tỉnh", "Các đoàn thể chính trị - xã hội"]
    assert len(t["lead"]) == 4 and t["lead"][3].startswith("Ủy ban nhân dân")


def test_a_closing_level_qualifier_is_shared_by_the_bare_bodies_of_the_list():
    """0124/KH-UBND IV.2: "Phối hợp chặt chẽ với cấp ủy, chính quyền các cấp": "các cấp" qualifies both."""
    t = next(t for t in web("0124-KH-UBND__556b2fb4")["tasks"] if t["section"] == "IV.2")
    assert t["support"] == ["Cấp ủy các cấp", "Chính quyền các cấp"]


def test_a_series_of_numbers_shares_the_date_after_the_last_and_a_named_quy_che_is_cited():
    """0129/KH-UBND: "Các Công điện: ..., số 008/CĐ-UBND và số 009/CĐ-UBND ngày 19/11/2025" (one date for both);
    "Căn cứ Quy chế phối hợp số 49/QCPH-UBND-UBMT-HCTĐ ngày 24/01/2025" (a name between "Quy chế" and "số"),
    cited again later as "theo Quy chế phối hợp 49/QCPH-UBND-UBMT-HCTĐ"."""
    r = web("0129-KH-UBND__62f25a03")
    refs = [x for x in r["legal_refs"] if x["symbol"] in ("008/CĐ-UBND", "49/QCPH-UBND-UBMT-HCTĐ")]
    assert [x["date"] for x in refs if x["symbol"] == "008/CĐ-UBND"] == ["2025-11-19"]
    q = [x for x in refs if x["symbol"] == "49/QCPH-UBND-UBMT-HCTĐ"]
    assert len(q) == 2 and all(x["type"] == "Quy chế" and x["date"] == "2025-01-24" for x in q)
    assert q[0]["text"].startswith("Quy chế phối hợp số 49/QCPH")


def test_the_closing_request_to_carry_out_the_directive_itself_is_not_a_task():
    """012/CT-UBND ends "Chủ tịch UBND tỉnh yêu cầu Thủ trưởng các sở, ban, ngành; Chủ tịch UBND các xã,
    phường tổ chức quán triệt, ... thực hiện nghiêm túc Chỉ thị này." (a closing formula, SPEC)."""
    r = web("012-CT-UBND__541cde0f")
    assert not [t for t in r["tasks"] if t["text"].startswith("Chủ tịch UBND tỉnh yêu cầu")]
    assert len(r["tasks"]) == 18
