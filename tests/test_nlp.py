"""The spaCy annotation layer: tokenizer offsets, BODY and DOC spans, and its use by owners."""
from kehoach.extract.bodies import is_body_phrase
from kehoach.extract.nlp import body_at_start, entities, pipeline
from kehoach.extract.owners import leading_owner, support_in


def test_tokenizer_keeps_symbols_and_offsets():
    doc = pipeline()("Thực hiện Quyết định số 641/QĐ-BNV ngày 25/5/2021, Sở Nội vụ chủ trì.")
    words = [t.text for t in doc]
    assert "641/QĐ-BNV" in words and "25/5/2021" in words and "," in words
    assert doc.text == "Thực hiện Quyết định số 641/QĐ-BNV ngày 25/5/2021, Sở Nội vụ chủ trì."


def test_entity_ruler_marks_bodies_and_citations_with_offsets():
    t = "Phòng Quản lý xây dựng chủ trì, phối hợp với Sở Tài chính thực hiện Quyết định số 12/QĐ-UBND."
    found = {(t[s:e], label) for s, e, label in entities(t)}
    assert ("Phòng Quản lý xây dựng", "BODY") in found
    assert ("Sở Tài chính", "BODY") in found
    assert ("Quyết định số 12/QĐ-UBND", "DOC") in found
    assert body_at_start("Ban Quản lý dự án đầu tư xây dựng tỉnh tổ chức nghiệm thu") == len("Ban Quản lý dự án đầu tư xây dựng")


def test_standard_names_with_verbs_are_not_cut():
    assert is_body_phrase("Phòng Quản lý xây dựng")
    assert not is_body_phrase("Phòng Tư pháp xây dựng kế hoạch")
    text = "Phòng Quản lý xây dựng chủ trì, phối hợp với Ban Quản lý dự án đầu tư xây dựng tỉnh kiểm tra công trình."
    assert leading_owner(text)[0] == ["Phòng Quản lý xây dựng"]
    assert support_in(text) == ["Ban Quản lý dự án đầu tư xây dựng tỉnh"]


def test_pos_tagger_ends_an_owner_phrase_that_no_known_verb_ends():
    # "nâng cấp" is not in the owner stop list: underthesea's POS tags find the verb
    assert leading_owner("Sở Y tế nâng cấp hệ thống thông tin bệnh viện tuyến tỉnh.")[0] == ["Sở Y tế"]
    assert leading_owner("Công an tỉnh rà soát dữ liệu dân cư.")[0] == ["Công an tỉnh"]


def test_pos_tag_gives_underthesea_s_tags_in_linear_time():
    """``nlp.pos_tag`` builds the CRF features once per sentence; the tags are underthesea's own ``pos_tag`` on
    every task text of the real portal plans (cut as ``segment.actions`` and ``verb_offset`` cut them)."""
    from kehoach.extract import extract
    from kehoach.extract.nlp import import_underthesea, pos_tag
    from kehoach.ingest import read
    from tests.shared import files
    u = import_underthesea()
    texts = [t.text for p in files("real/web", "*.txt") for t in extract(read(p)).tasks]
    assert len(texts) > 300
    for cut in (600, 240):
        assert [pos_tag(t[:cut]) for t in texts] == [u.pos_tag(t[:cut]) for t in texts]
    assert pos_tag("") == []
