"""Công văn that assign work in a numbered list give their tasks (issue #8).

The samples in tests/data/cong_van/ were written by the kehoach developers after the national form
(Nghị định 30/2020/NĐ-CP, Phụ lục III mẫu 1.4; see the README there): they are not real documents.
The expected tasks were judged by hand against SPEC.md."""
from pathlib import Path

from kehoach.extract import extract
from kehoach.ingest import read

DATA = Path(__file__).parent / "data" / "cong_van"


def _ex(name):
    return extract(read(DATA / name))


def test_a_so_y_te_cong_van_gives_each_dashed_duty_under_its_unit():
    ex = _ex("syt_12_nhiem_vu.txt")
    assert ex.document.type == "Công văn" and ex.document.number == "2456/SYT-NVY"
    # 3 + 3 + 2 dashed duties under three unit headings, then four numbered assignments:
    # not the recipient, not the opening paragraph, not the closing formula
    assert [t.section for t in ex.tasks] == ["1"] * 3 + ["2"] * 3 + ["3"] * 2 + ["4", "5", "6"]
    assert len(ex.tasks) == 11
    assert {tuple(t.lead) for t in ex.tasks[:3]} == {("Trung tâm Kiểm soát bệnh tật tỉnh",)}
    assert ex.tasks[0].support == ["Trung tâm Y tế các huyện, thành phố"]
    assert ex.tasks[1].deadline.date == "2025-07-15"
    assert ex.tasks[2].deadline.recurrence == "monthly" and ex.tasks[2].deadline.day == 25
    assert ex.tasks[3].lead == ["Các bệnh viện đa khoa, chuyên khoa tuyến tỉnh"]
    assert ex.tasks[6].support == ["Ủy ban nhân dân các xã, phường, thị trấn"]
    assert ex.tasks[8].lead == ["Trung tâm Truyền thông - Giáo dục sức khỏe tỉnh"]
    assert ex.tasks[8].support == ["Báo Nam Định", "Đài Phát thanh và Truyền hình tỉnh"]
    assert ex.tasks[9].lead == ["Phòng Nghiệp vụ Y"] and ex.tasks[9].deadline.date == "2025-09-30"
    assert ex.tasks[10].lead == ["Phòng Kế hoạch - Tài chính"]
    assert not ex.warnings


def test_a_ubnd_cong_van_of_directions_gives_its_numbered_and_lettered_assignments():
    ex = _ex("ubnd_y_kien_chi_dao.txt")
    assert [t.section for t in ex.tasks] == ["1", "2.a", "2.b", "3", "4", "5", "6"]
    first = ex.tasks[0]
    assert first.lead == ["Sở Nông nghiệp và Môi trường"]
    assert first.support == ["Bộ Chỉ huy Quân sự tỉnh", "Công an tỉnh", "Các địa phương"]
    assert first.deadline.date == "2025-09-30"
    assert ex.tasks[1].lead == ex.tasks[2].lead == ["Ủy ban nhân dân các xã, phường, đặc khu"]   # the heading's owner
    assert ex.tasks[3].lead == ["Sở Xây dựng"]                                                 # "Giao Sở Xây dựng ..."
    # "công trình" is a noun: the company's name is not cut at the verb "trình"
    assert ex.tasks[5].lead == ["Công ty TNHH MTV Khai thác công trình thủy lợi Quảng Ngãi"]
    assert ex.tasks[6].lead == ["Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh"]                       # "Đề nghị X ..."
