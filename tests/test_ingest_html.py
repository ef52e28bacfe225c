"""HTML reader: real pages saved from the national legal database (vbpl), and pages
written here to pin the table, layout and chrome rules."""
from __future__ import annotations

import pytest

from kehoach.errors import IngestError
from kehoach.extract import extract
from kehoach.ingest import read
from tests.shared import files, paragraphs_and_tables


def _spans_ok(doc) -> None:
    for b in doc.blocks:
        assert doc.text[b.start:b.end] == b.text


@pytest.mark.parametrize("page", files("real/html", "*.html"), ids=lambda p: p.name)
def test_real_vbpl_pages_give_the_document_without_the_site_around_it(page):
    doc = read(page)
    _spans_ok(doc)
    assert doc.format == "html"
    # the site's menu, tab bar and table of contents are not document text
    for chrome in ("TRANG CHỦ", "GIỚI THIỆU", "Mục lục", "Tải về", "Lược đồ", "Thuộc tính"):
        assert chrome not in doc.text
    rec = extract(doc).to_dict()
    d = rec["document"]
    assert d["type"] == "Quyết định"
    assert d["number"] and "QĐ-TTg" in d["number"]
    assert d["issuer"]
    assert rec["tasks"], "a decision with articles has tasks"
    if doc.text.startswith("QUYẾT ĐỊNH"):
        # a reading pane without the letterhead: the number is the one the page's chrome gives this title
        assert any(f"số {d['number']} {d['title']}" in x for x in doc.meta["designations"])
        return
    assert d["date"]
    # the letterhead table is read as paragraphs, not as a table row
    assert any(b.kind == "para" and b.text.startswith("Số:") for b in doc.blocks)
    assert doc.text.rstrip().endswith(tuple("abcdefghijklmnopqrstuvwxyzàáảãạđơưôêâăíìóòúùýỳ.)/"))
    assert not any(b.kind == "row" and "CỘNG HÒA" in b.text for b in doc.blocks)


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Cổng thông tin</title>
<script>var menu = "Kế hoạch giả";</script><style>p {{color: red}}</style></head>
<body>
<nav><ul><li><a href="/">Trang chủ</a></li><li><a href="/vb">Văn bản</a></li><li><a href="/lh">Liên hệ</a></li></ul></nav>
<div class="header">Cổng thông tin điện tử tỉnh <a href="/">Bình Định</a></div>
<div class="main"><div class="content">
<table style="border: none"><tr>
  <td><p align="center"><b>ỦY BAN NHÂN DÂN<br>TỈNH BÌNH ĐỊNH</b></p><p align="center">Số: 45/KH-UBND</p></td>
  <td><p align="center"><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM<br>Độc lập - Tự do - Hạnh phúc</b></p>
      <p align="center"><i>Bình Định, ngày 5 tháng 3 năm 2025</i></p></td></tr></table>
<p style="text-align:center"><strong>KẾ HOẠCH</strong></p>
<p style="text-align:center"><strong>Triển khai chuyển đổi số năm 2025</strong></p>
<p><b>I. MỤC ĐÍCH, YÊU CẦU</b></p>
<p>Nâng cao hiệu quả chuyển đổi số trong các cơ quan nhà nước trên địa bàn tỉnh, bảo đảm
   đồng bộ và thống nhất.</p>
<p><b>II. NHIỆM VỤ</b></p>
<ol><li>Sở Khoa học và Công nghệ chủ trì tham mưu triển khai nền tảng số, hoàn thành trước ngày 30/6/2025.</li>
<li>Sở Nội vụ rà soát thủ tục hành chính, thời gian thực hiện trong năm 2025.</li></ol>
<p style="display:none">Văn bản ẩn không thuộc nội dung</p>
<table border="1">
 <thead><tr><th>STT</th><th>Nhiệm vụ</th><th>Cơ quan chủ trì</th><th>Thời gian hoàn thành</th></tr></thead>
 <tbody>
 <tr><td colspan="4">Nhóm nhiệm vụ về hạ tầng số</td></tr>
 <tr><td>1</td><td>Nâng cấp mạng diện rộng của tỉnh</td><td rowspan="2">Sở Khoa học và Công nghệ</td><td>Quý II/2025</td></tr>
 <tr><td>2</td><td>Xây dựng trung tâm dữ liệu tỉnh</td><td>Năm 2025</td></tr>
 </tbody>
</table>
<table border="0"><tr><td><p><b>Nơi nhận:</b></p><p>- Như trên;</p><p>- Lưu: VT.</p></td>
<td><p align="center"><b>TM. ỦY BAN NHÂN DÂN<br>CHỦ TỊCH</b></p><p align="center"><b>Nguyễn Văn A</b></p></td></tr></table>
</div></div>
<div class="related"><h3><a href="/1">Văn bản liên quan</a></h3><ul>{related}</ul></div>
<footer>Bản quyền thuộc Cổng thông tin điện tử tỉnh Bình Định. Địa chỉ: 01 Trần Phú.</footer>
</body></html>
"""
RELATED = "".join(f'<li><a href="/vb/{k}">Kế hoạch số {k}/KH-UBND về chuyển đổi số của tỉnh năm 2024</a></li>'
                  for k in range(30))


def _page(tmp_path, html: str, name: str = "page.html"):
    p = tmp_path / name
    p.write_bytes(html.encode("utf-8"))
    return p


def test_portal_page_keeps_paragraphs_and_tables_and_drops_menus_scripts_and_footer(tmp_path):
    doc = read(_page(tmp_path, PAGE.format(related=RELATED)))
    _spans_ok(doc)
    text = doc.text
    for gone in ("Trang chủ", "Liên hệ", "var menu", "color: red", "Văn bản ẩn", "Bản quyền", "Văn bản liên quan",
                 "Cổng thông tin điện tử tỉnh Bình"):
        assert gone not in text
    paras = [b.text for b in doc.blocks if b.kind == "para"]
    # layout tables (letterhead, signature) are paragraphs, <br> starts a line
    assert paras[:4] == ["ỦY BAN NHÂN DÂN", "TỈNH BÌNH ĐỊNH", "Số: 45/KH-UBND", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]
    assert "Nơi nhận:" in paras and "Nguyễn Văn A" in paras
    # source line wraps are whitespace; list items get their marker
    assert ("Nâng cao hiệu quả chuyển đổi số trong các cơ quan nhà nước trên địa bàn tỉnh, bảo đảm đồng bộ và thống nhất."
            in paras)
    assert any(p.startswith("1. Sở Khoa học và Công nghệ chủ trì") for p in paras)
    assert any(p.startswith("2. Sở Nội vụ") for p in paras)
    # the real table: header row, a colspan group title, a rowspan carried down
    assert len(doc.tables) == 1
    rows = [b for b in doc.blocks if b.kind == "row"]
    assert rows[0].header and rows[0].cells == ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Thời gian hoàn thành"]
    assert rows[1].cells == ["Nhóm nhiệm vụ về hạ tầng số", "", "", ""]
    assert rows[2].cells == ["1", "Nâng cấp mạng diện rộng của tỉnh", "Sở Khoa học và Công nghệ", "Quý II/2025"]
    assert rows[3].cells == ["2", "Xây dựng trung tâm dữ liệu tỉnh", "Sở Khoa học và Công nghệ", "Năm 2025"]
    rec = extract(doc).to_dict()
    assert rec["document"]["number"] == "45/KH-UBND"
    assert rec["document"]["date"] == "2025-03-05"
    assert rec["document"]["signer"]["name"] == "Nguyễn Văn A"
    leads = [t["lead"] for t in rec["tasks"]]
    assert ["Sở Khoa học và Công nghệ"] in leads


def test_page_without_a_document_is_one_clear_error(tmp_path):
    chrome = ("<html><body><nav>" + "".join(f'<a href="/{k}">Mục {k}</a>' for k in range(50)) +
              "</nav><div><p>Trang không tồn tại.</p></div><ul>" + RELATED + "</ul></body></html>")
    with pytest.raises(IngestError, match=r"empty\.html: no document in the HTML page"):
        read(_page(tmp_path, chrome, "empty.html"))
    viewer = '<html><body><h1>Văn bản gốc</h1><iframe src="/files/qd-45.pdf"></iframe></body></html>'
    with pytest.raises(IngestError, match="embedded PDF"):
        read(_page(tmp_path, viewer, "viewer.htm"))


def test_encoding_from_meta_charset_and_page_named_txt(tmp_path):
    body = PAGE.format(related="").replace('<meta charset="utf-8">', '<meta charset="utf-16">')
    p = tmp_path / "page16.html"
    p.write_bytes(body.encode("utf-16"))
    assert "Số: 45/KH-UBND" in read(p).text
    # a page saved with a .txt name is still read as HTML (by its content)
    q = _page(tmp_path, PAGE.format(related=""), "page.txt")
    doc = read(q)
    assert doc.format == "html" and "<td>" not in doc.text


def test_web_archive_reads_like_the_page_it_holds(tmp_path):
    """.mht/.mhtml (what browsers' "save as single file" and Word write): MIME
    multipart/related, the page a base64 UTF-8 part here."""
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText
    page = files("real/html", "doc_000288.html")[0]
    want = read(page)
    html = page.read_text("utf-8")
    archive = MIMEMultipart("related")
    archive["Subject"] = "Văn bản pháp luật"
    part = MIMEText(html, "html", "utf-8")
    part["Content-Location"] = "https://vbpl.vn/van-ban/49-2025-qd-ttg"
    archive.attach(part)
    p = tmp_path / "saved.mhtml"
    p.write_bytes(archive.as_bytes())
    got = read(p)
    assert got.format == "mhtml"
    assert got.text == want.text


def test_folder_discovery_takes_every_suffix_the_readers_serve(tmp_path):
    from kehoach.corpus.store import FOLDER_SUFFIXES, discover
    from kehoach.ingest import READERS
    assert set(FOLDER_SUFFIXES) == {s for r in READERS.values() for s in r.suffixes}
    for name in ("page.html", "saved.mht", "old.doc", "plan.odt", "notes.md", "sheet.xyz"):
        (tmp_path / name).write_text("x", "utf-8")
    found, _ = discover([str(tmp_path)])
    assert sorted(p.name for _, p in found) == ["notes.md", "old.doc", "page.html", "plan.odt", "saved.mht"]


DESIGNATED = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Văn bản pháp luật</title></head><body>
<nav class="breadcrumb"><a href="/">Trang chủ</a> &gt; <span>Quyết định số 21/2025/QĐ-TTg Quy định tiêu chí
môi trường và việc xác nhận dự án đầu tư thuộc danh mục phân loại xanh</span></nav>
<aside><ul><li>Quyết định số 7/2024/QĐ-TTg Về một việc khác hẳn</li></ul></aside>
<div class="content"><p>QUYẾT ĐỊNH</p><p>{title}</p>
<p>Căn cứ Luật Tổ chức Chính phủ ngày 18 tháng 02 năm 2025;</p>
<p>Thủ tướng Chính phủ ban hành Quyết định quy định tiêu chí môi trường.</p>
<p>Điều 1. Bộ Nông nghiệp và Môi trường chủ trì hướng dẫn việc xác nhận dự án đầu tư thuộc danh mục phân loại
xanh, bảo đảm công khai, minh bạch và đúng quy định của pháp luật.</p>
<p>Điều 2. Quyết định này có hiệu lực thi hành từ ngày 22 tháng 8 năm 2025.</p></div></body></html>"""


@pytest.mark.parametrize("title, number", [
    ("Quy định tiêu chí môi trường và việc xác nhận dự án đầu tư thuộc danh mục phân loại xanh", "21/2025/QĐ-TTg"),
    # the page names no document of this title: a related document's number is not taken
    ("Quy định một việc không có trong trang", None),
])
def test_number_from_the_page_designation_of_the_same_title_only(tmp_path, title, number):
    page = tmp_path / "p.html"
    page.write_text(DESIGNATED.format(title=title), encoding="utf-8")
    doc = read(page)
    assert "Trang chủ" not in doc.text and "khác hẳn" not in doc.text
    assert extract(doc).document.number == number


def test_real_plans_as_plain_html_pages_give_the_tasks_of_their_text(tmp_path):
    """The real portal plans saved as a plain HTML page (a <p> a paragraph, the annex a <table>): the same tasks,
    leads, supports and deadlines as their text, document fields included."""
    import html as H
    for src in files("real/web", "*.txt"):
        d = read(src)
        parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>x</title></head><body>"]
        for kind, x in paragraphs_and_tables(d):
            parts.append("<p>" + H.escape(x) + "</p>" if kind == "p" else
                         "<table>" + "".join("<tr>" + "".join(f"<td>{H.escape(c)}</td>" for c in r) + "</tr>"
                                             for r in x) + "</table>")
        page = tmp_path / (src.stem + ".html")
        page.write_text("\n".join(parts) + "</body></html>", "utf-8")
        a, b = extract(d).to_dict(), extract(read(page)).to_dict()
        key = lambda r: [(t["text"], t["lead"], t["support"], t["deadline"] and t["deadline"]["text"]) for t in r["tasks"]]
        assert key(a) == key(b), src.name
        for k in ("type", "number", "issuer", "date", "title", "signer"):
            assert a["document"][k] == b["document"][k], (src.name, k)
