"""A closing paragraph ("Trên đây là Kế hoạch ...") is not a task, but a recurring report it assigns is."""
from kehoach.extract.tasks import closing_task


def test_closing_keeps_recurring_report_with_addressed_bodies():
    t = ("Trên đây là Kế hoạch chuyển đổi số. Đề nghị các cơ quan, đơn vị nghiêm túc triển khai thực hiện. "
         "Định kỳ hằng năm (trước ngày 30 tháng 11) báo cáo kết quả thực hiện về Sở Xây dựng, để tổng hợp. "
         "Trong quá trình tổ chức thực hiện, nếu có vướng mắc, các sở chủ động đề xuất.")
    got = closing_task(t)
    assert got is not None
    text, start, lead = got
    assert text.startswith("Định kỳ hằng năm (trước ngày 30 tháng 11) báo cáo kết quả")
    assert text.endswith("để tổng hợp.")
    assert t[start:].startswith("Định kỳ hằng năm")
    assert lead == ["Các cơ quan, đơn vị"]


def test_closing_without_report_is_nothing():
    assert closing_task("Trên đây là Kế hoạch chuyển đổi số. Đề nghị các cơ quan, đơn vị nghiêm túc triển khai thực hiện./.") is None
    # a periodic phrase that assigns no report
    assert closing_task("Trên đây là Kế hoạch. Hằng năm, kế hoạch được rà soát, cập nhật.") is None
