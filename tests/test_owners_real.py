"""Owners, deadlines and cited issuers as real plans write them (portal text of other provinces)."""
from kehoach.extract.bodies import bodies, owner_phrase_end
from kehoach.extract.citations import parse_org
from kehoach.extract.deadlines import parse_deadline
from kehoach.extract.owners import leading_owner, support_in


def _owner(t):
    return bodies(t[:owner_phrase_end(t)])


def test_later_clause_subject_leads():
    t = ("Triển khai đồng bộ các biện pháp quản lý thuế; đồng thời, ngành Thuế phối hợp chặt chẽ với các "
         "ngành, các cấp thực hiện chống thất thu thuế.")
    lead, person = leading_owner(t)
    assert lead == ["Ngành Thuế"] and person   # a heading's owner would still win
    assert support_in(t) == ["Các ngành, các cấp"]


def test_later_clause_generic_subject_is_not_a_lead():
    assert leading_owner("Tổ chức tập huấn cho cán bộ; các đơn vị phối hợp với Sở Nội vụ thực hiện.")[0] == []


def test_post_list_subject_without_comma():
    t = ("Căn cứ vào tình hình thực tiễn, kết quả thực hiện nhiệm vụ trong công tác bầu cử Thủ trưởng các cơ "
         "quan, đơn vị; Chủ tịch UBND xã, phường hướng dẫn, xem xét khen thưởng theo thẩm quyền.")
    assert leading_owner(t)[0] == ["Thủ trưởng các cơ quan, đơn vị", "Chủ tịch Ủy ban nhân dân xã, phường"]


def test_post_as_object_is_not_a_subject():
    t = ("Trong thời hạn 10 ngày làm việc, cơ quan thi đua cấp tỉnh trình Thủ trưởng bộ, ngành hoặc Chủ tịch "
         "Ủy ban nhân dân cấp tỉnh quyết định đình chỉ việc tôn vinh.")
    assert "Ủy ban nhân dân cấp tỉnh" not in leading_owner(t)[0]


def test_list_splits():
    assert _owner("chính quyền địa phương, Mặt trận cơ sở và các đoàn thể giám sát") == \
        ["Chính quyền địa phương", "Mặt trận cơ sở", "Các đoàn thể"]
    assert _owner("các ngành, các cấp thực hiện") == ["Các ngành, các cấp"]
    assert _owner("Doanh nghiệp, cộng đồng, tổ chức, cá nhân") == ["Doanh nghiệp, cộng đồng, tổ chức, cá nhân"]
    assert _owner("cơ quan báo chí và hệ thống truyền thông thông tin kịp thời về tiến độ") == \
        ["Cơ quan báo chí", "Hệ thống truyền thông"]


def test_deadlines():
    d = parse_deadline("Số hóa hồ sơ, bản đồ hạ tầng giao thông; cập nhật dữ liệu thường xuyên.", 2025)
    assert d and d.recurrence == "continuous"
    assert parse_deadline("Bảo đảm kinh phí chi thường xuyên.", 2025) is None
    d = parse_deadline("Kết nối dữ liệu quy hoạch với Trung tâm dữ liệu quốc gia (2026 trở đi).", 2025)
    assert d and d.text == "2026 trở đi" and d.date is None
    d = parse_deadline("Triển khai từ năm 2026 trở đi.", 2025)
    assert d and d.text == "từ năm 2026 trở đi"


def test_steering_board_named_by_subject():
    name, _ = parse_org("Ban Chỉ đạo về phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số\n"
                        "tỉnh ban hành Chương trình", 0)
    assert name.replace("\n", " ") == \
        "Ban Chỉ đạo về phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số tỉnh"
    assert parse_org("Ban Chỉ đạo về việc triển khai Kế hoạch số 5 của tỉnh", 0)[0] == "Ban Chỉ đạo"
    assert parse_org("Ban Chỉ đạo cải cách hành chính tỉnh Quảng Trị về việc ban hành", 0)[0] == \
        "Ban Chỉ đạo cải cách hành chính tỉnh Quảng Trị"
    # the national board closes on its level word as the provincial one does (citation_vocab nation)
    assert parse_org("Ban Chỉ đạo về phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia"
                     " ban hành", 0)[0].endswith("chuyển đổi số quốc gia")
    assert parse_org("Ban Chỉ đạo về phát triển khoa học và chuyển đổi số thị trấn Phú Mỹ ban hành", 0)[0] == \
        "Ban Chỉ đạo về phát triển khoa học và chuyển đổi số thị trấn Phú Mỹ"


def test_later_clause_generic_subject_with_action():
    t = "Khai thác có hiệu quả nguồn lực từ tài sản công; các địa phương nghiên cứu, triển khai cơ chế thu."
    assert leading_owner(t)[0] == ["Các địa phương"]
    t = ("Bồi dưỡng chuyên gia theo yêu cầu của từng bộ, ngành, địa phương. Khuyến khích các bộ, ngành, địa "
         "phương căn cứ Khung năng lực chung chủ động xây dựng các kế hoạch đào tạo.")
    assert leading_owner(t)[0] == ["Các bộ, ngành, địa phương"]
    t = "Thi đua thực hiện thành công cuộc bầu cử. Các cơ quan chuyên môn từ tỉnh đến địa phương thi đua làm tốt."
    assert leading_owner(t)[0] == ["Các cơ quan chuyên môn từ tỉnh đến địa phương"]


def test_two_digit_month_and_yearly_with_date_in_brackets():
    d = parse_deadline("Báo cáo kết quả trước ngày 30 tháng 11.", 2025)
    assert d and d.date == "2025-11-30"
    d = parse_deadline("Định kỳ hằng năm (trước ngày 30 tháng 11) báo cáo kết quả thực hiện về Sở Xây dựng.", 2025)
    assert d and d.recurrence == "yearly" and d.text == "Định kỳ hằng năm (trước ngày 30 tháng 11)"


def test_a_body_narrowed_by_la_and_a_kind_of_holder_is_one_name():
    from kehoach.extract.bodies import is_body_phrase, owner_phrase_end
    assert is_body_phrase("Các chủ rừng là tổ chức")
    assert is_body_phrase("Các chủ rừng là hộ gia đình, cá nhân")
    # "là tổ chức ..." going on into a predicate is the verb: the name stops before "là"
    s = "Sở Văn hóa là tổ chức thực hiện"
    assert not is_body_phrase(s) and owner_phrase_end(s) == len("Sở Văn hóa ")


def test_a_relative_clause_goes_on_the_subject_only_up_to_a_modal():
    assert leading_owner("Các đơn vị tham gia Chương trình có trách nhiệm báo cáo định kỳ.")[0] == \
        ["Các đơn vị tham gia Chương trình"]
    # no modal after it: "tham gia" is the subject's verb
    assert leading_owner("Sở Tài chính tham gia thẩm định dự án, báo cáo UBND tỉnh.")[0] == ["Sở Tài chính"]


def test_giao_a_body_gom_its_members_leads_with_the_body_not_the_list_word():
    # 893/QĐ-TTg IV.3.d (Gazette PDF, not vendored under tests/data/shared): "gồm" opens the members' list
    t = ("Giao các cơ sở đào tạo trọng điểm gồm: Đại học Bách Khoa Hà Nội, Trường Đại học Khoa học Tự nhiên - "
         "Đại học Quốc gia Hà Nội, Trường Đại học Đà Lạt, Viện Năng lượng nguyên tử Việt Nam và các cơ sở do Bộ "
         "Khoa học và Công nghệ lựa chọn đủ năng lực thực hiện đào tạo, bồi dưỡng về năng lượng nguyên tử.")
    assert leading_owner(t)[0] == ["Các cơ sở đào tạo trọng điểm"]


def test_a_capitalised_va_where_a_table_cells_line_starts_parts_two_bodies():
    # 982/QĐ-TTg Phụ lục (Gazette PDF, not vendored): the support cell prints "Bộ Ngoại giao" / "Và các cơ
    # quan, tổ chức, doanh nghiệp liên quan" on two lines of the cell
    assert bodies("Bộ Ngoại giao Và các cơ quan, tổ chức, doanh nghiệp liên quan") == \
        ["Bộ Ngoại giao", "Các cơ quan, tổ chức, doanh nghiệp liên quan"]


def test_the_taggers_verbs_inside_a_list_of_bodies_do_not_end_the_subject():
    # 105/NQ-CP II.5 (Gazette PDF, not vendored): the POS tagger reads "ngang" and "Ủy ban nhân dân" as verbs
    s = ("Các bộ, cơ quan ngang bộ, Ủy ban nhân dân các tỉnh, thành phố trực thuộc trung ương chuyển mạnh từ cơ "
         "chế tiền kiểm sang hậu kiểm trong hoạt động quản lý nhà nước.")
    assert leading_owner(s)[0] == ["Các bộ, cơ quan ngang bộ", "Ủy ban nhân dân các tỉnh, thành phố trực thuộc trung ương"]


def test_a_shared_level_qualifier_leaves_a_member_with_its_own_level():
    assert bodies("Ủy ban nhân dân tỉnh, Hội đồng nhân dân các cấp") == ["Ủy ban nhân dân tỉnh", "Hội đồng nhân dân các cấp"]
    assert bodies("các sở, ngành, chính quyền các cấp") == ["Các sở, ngành", "Chính quyền các cấp"]


def test_the_duties_or_powers_of_a_body_name_it_as_the_owner():
    # 798/QĐ-TTg (Gazette PDF, not vendored): "Điều 2. Nhiệm vụ của Ban Chỉ đạo:", "Điều 3. Quyền hạn của Ban Chỉ đạo"
    from kehoach.extract.owners import heading_owner
    assert heading_owner("Nhiệm vụ của Ban Chỉ đạo:") == ["Ban Chỉ đạo"]
    assert heading_owner("Quyền hạn của Ban Chỉ đạo") == ["Ban Chỉ đạo"]
    assert heading_owner("Nhiệm vụ, quyền hạn của Hội đồng quản lý Quỹ:") == ["Hội đồng quản lý Quỹ"]
    assert heading_owner("Nhiệm vụ của Kế hoạch:") == []


def test_a_body_that_looks_up_or_checks_records_ends_before_the_verb():
    """01/2026/QĐ-TTg (vbpl page): "Bộ Nội vụ tra cứu, xác nhận khen thưởng và thực hiện cấp đổi ..." and "Bộ,
    ban, ngành, tỉnh đối chiếu với hồ sơ lưu, xác nhận, tổng hợp ...": the owner is the body before the verb."""
    t = ("Căn cứ công văn đề nghị cấp đổi hiện vật khen thưởng của bộ, ban, ngành, tỉnh, Bộ Nội vụ tra cứu, "
         "xác nhận khen thưởng và thực hiện cấp đổi hiện vật khen thưởng.")
    assert leading_owner(t)[0] == ["Bộ Nội vụ"]
    t = "Bộ, ban, ngành, tỉnh đối chiếu với hồ sơ lưu, xác nhận, tổng hợp và gửi công văn đề nghị cấp đổi."
    assert _owner(t) == ["Bộ, ban, ngành, tỉnh"]
