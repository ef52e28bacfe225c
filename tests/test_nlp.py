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
