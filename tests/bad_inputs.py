"""Makers of bad inputs for ``tests/test_bad_input.py``: each takes a folder and returns the path to
give ``kehoach add`` (made here with the libraries that make such files in the wild)."""
from __future__ import annotations

import io
import os
import random
import zipfile
from pathlib import Path

from tests.shared import need

DOCX = "corpus/docx/000_32de8ed23e57a435.docx"
SEED = "seeds/000_32de8ed23e57a435.txt"
LOREM = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. " * 40


def _pdf_bytes(pages: int = 2, encrypt=None, text="Kế hoạch triển khai nhiệm vụ năm 2025") -> bytes:
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=encrypt)
    for k in range(pages):
        c.drawString(72, 720, f"Trang {k + 1}: {text}")
        c.showPage()
    c.save()
    return buf.getvalue()


def _docx_with(parts: dict[str, bytes], drop: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    src = zipfile.ZipFile(need(DOCX))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename in drop or info.filename in parts:
                continue
            z.writestr(info, src.read(info))
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def _w(d: Path, name: str, data: bytes | str) -> Path:
    p = d / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def pdf_truncated(d):
    data = _pdf_bytes(3)
    return _w(d, "cut.pdf", data[:len(data) // 2])


def pdf_garbage_after_header(d):
    return _w(d, "garbage.pdf", b"%PDF-1.7\n" + random.Random(1).randbytes(20000))


def pdf_encrypted(d):
    return _w(d, "secret.pdf", _pdf_bytes(2, encrypt="mat-khau"))


def pdf_zero_pages(d):
    body = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n")
    xref = len(body)
    body += (b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
             b"trailer<</Size 3/Root 1 0 R>>\nstartxref\n" + str(xref).encode() + b"\n%%EOF\n")
    return _w(d, "zero-pages.pdf", body)


def pdf_2000_pages(d):
    return _w(d, "huge.pdf", _pdf_bytes(2000))


def pdf_image_only_huge(d):
    """One page holding a 6000x6000 image (36 megapixels, no text layer): OCR meets no text."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    img = Image.new("L", (6000, 6000), 255)
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawImage(ImageReader(img), 0, 0, 595, 842)
    c.showPage()
    c.save()
    return _w(d, "scan-noise.pdf", buf.getvalue())


def pdf_renamed_docx(d):
    return _w(d, "really-a-pdf.docx", _pdf_bytes(2))


def png_renamed_pdf(d):
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buf, "PNG")
    return _w(d, "picture.pdf", buf.getvalue())


def png_image(d):
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buf, "PNG")
    return _w(d, "picture.png", buf.getvalue())


def docx_truncated(d):
    data = need(DOCX).read_bytes()
    return _w(d, "cut.docx", data[:len(data) // 2])


def docx_garbage(d):
    return _w(d, "garbage.docx", b"PK\x03\x04" + random.Random(3).randbytes(20000))


def docx_encrypted(d):
    from msoffcrypto.format.ooxml import OOXMLFile
    out = io.BytesIO()
    with open(need(DOCX), "rb") as f:
        OOXMLFile(f).encrypt("mat-khau", out)
    return _w(d, "secret.docx", out.getvalue())


def docx_zip_bomb(d):
    p = d / "bomb.docx"
    src = zipfile.ZipFile(need(DOCX))
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, src.read(info))
        with z.open("word/media/image1.png", "w", force_zip64=True) as f:
            for _ in range(64):
                f.write(b"\0" * 2 ** 20)
    return p


def docx_million_paragraphs(d):
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
            b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
    body = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 1_000_000
    return _w(d, "million.docx", _docx_with({"word/document.xml": head + body + b"</w:body></w:document>"}))


def docx_no_document_xml(d):
    return _w(d, "no-body.docx", _docx_with({}, drop=("word/document.xml",)))


def docx_malformed_xml(d):
    return _w(d, "bad-xml.docx", _docx_with({"word/document.xml": b"<w:document><w:body><w:p>"}))


def docx_billion_laughs(d):
    ent = '<!DOCTYPE x [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' + "".join(
        f'<!ENTITY {chr(99 + i)} "{("&" + chr(98 + i) + ";") * 10}">' for i in range(7)) + "]>"
    xml = ('<?xml version="1.0"?>' + ent + '<w:document xmlns:w="http://schemas.openxmlformats.org/'
           'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>')
    return _w(d, "laughs.docx", _docx_with({"word/document.xml": xml.encode()}))


def docx_external_entity(d):
    xml = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           '<w:p><w:r><w:t>&e;</w:t></w:r></w:p></w:body></w:document>')
    return _w(d, "xxe.docx", _docx_with({"word/document.xml": xml.encode()}))


def docx_renamed_pdf(d):
    return _w(d, "really-a-docx.pdf", need(DOCX).read_bytes())


def docx_many_entries(d):
    buf = io.BytesIO()
    src = zipfile.ZipFile(need(DOCX))
    with zipfile.ZipFile(buf, "w") as z:
        for info in src.infolist():
            z.writestr(info, src.read(info))
        for k in range(10_001):
            z.writestr(f"word/extra/part{k}.xml", b"")
    return _w(d, "many.docx", buf.getvalue())


def odt_renamed_docx(d):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<office:document-content/>")
    return _w(d, "odt-inside.docx", buf.getvalue())


def xlsx_file(d):
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Kế hoạch"
    p = d / "sheet.xlsx"
    wb.save(p)
    return p


def pptx_file(d):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'content-types"><Override PartName="/ppt/presentation.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/></Types>')
        z.writestr("ppt/presentation.xml", "<p:presentation/>")
    return _w(d, "slides.pptx", buf.getvalue())


def doc_unopenable(d):
    return _w(d, "broken.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + random.Random(4).randbytes(30000))


def doc_plain_garbage(d):
    return _w(d, "noise.doc", random.Random(5).randbytes(30000))


def html_no_document(d):
    return _w(d, "menu.html", "<html><body><nav><a href='/'>Trang chủ</a></nav><p>Không có văn bản.</p></body></html>")


def html_deep_nesting(d):
    return _w(d, "deep.html", "<html><body>" + "<div>" * 200_000 + "x" + "</div>" * 200_000 + "</body></html>")


def txt_utf16_bom(d):
    return _w(d, "utf16-bom.txt", need(SEED).read_text("utf-8").encode("utf-16"))


def txt_utf16_no_bom(d):
    return _w(d, "utf16-le.txt", need(SEED).read_text("utf-8").encode("utf-16-le"))


def txt_cp1258(d):
    import unicodedata
    t = unicodedata.normalize("NFD", need(SEED).read_text("utf-8"))
    return _w(d, "cp1258.txt", t.encode("cp1258", errors="replace"))


def txt_tcvn3(d):
    """The seed as bytes of the TCVN3 (.VnTime) font encoding, as old Word files left it."""
    from kehoach.ingest.legacy import encode_bytes
    return _w(d, "tcvn3.txt", encode_bytes(need(SEED).read_text("utf-8"), "TCVN3"))


def txt_lorem(d):
    return _w(d, "lorem.txt", LOREM)


def txt_binary(d):
    return _w(d, "random.txt", random.Random(6).randbytes(50000))


def txt_empty(d):
    return _w(d, "empty.txt", b"")


def txt_whitespace(d):
    return _w(d, "blank.txt", " \n\t\n  \r\n" * 1000)


def txt_long_line(d):
    """2.6 MB in one line (a plan is some tens of kB)."""
    return _w(d, "one-line.txt", ("nhiệm vụ " * 200_000))


def txt_nul_bytes(d):
    return _w(d, "nul.txt", need(SEED).read_bytes().replace(b"\n", b"\x00\n"))


def txt_gzip(d):
    import gzip
    return _w(d, "packed.txt", gzip.compress(need(SEED).read_bytes()))


def fifo(d):
    p = d / "pipe.txt"
    os.mkfifo(p)
    return p


def char_device(d):
    return Path("/dev/null")


def dir_named_pdf(d):
    p = d / "folder.pdf"
    p.mkdir()
    return p


def broken_symlink(d):
    p = d / "dangling.txt"
    p.symlink_to(d / "nowhere.txt")
    return p


def symlink_loop(d):
    (d / "loop-a.txt").symlink_to(d / "loop-b.txt")
    (d / "loop-b.txt").symlink_to(d / "loop-a.txt")
    return d / "loop-a.txt"


def name_with_newline(d):
    return _w(d, "line\nbreak.txt", LOREM)


def name_with_bidi_override(d):
    """A stored plan whose name holds U+202E (right-to-left override) and combining marks."""
    return _w(d, "ke\u0302\u0301 hoa\u0323ch \u202etxt.exe\u202c.txt", need(SEED).read_bytes() + b"\n")


def missing_file(d):
    return d / "not-here.pdf"


def glob_no_match(d):
    return Path(str(d / "*.nomatch"))


def too_large(d):
    p = d / "big.txt"
    with open(p, "wb") as f:
        f.truncate(300 * 2 ** 20)
    return p


# ------------------------------------------------------------------ images, web archives, office

SCAN = "real/scanned/16CT.signed_20250510_124909.pdf"
HTML = "real/html/doc_000081.html"
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258_bytes(text: str) -> bytes:
    """``text`` in Windows-1258 as Vietnamese Windows writes it: the base letters precomposed
    (â, ê, ô, ơ, ư, ă, đ are code points of the code page), the five tone marks combining after
    them; what the code page lacks as an HTML character reference."""
    import unicodedata
    out = []
    for ch in unicodedata.normalize("NFC", text):
        d = unicodedata.normalize("NFD", ch)
        tones = [c for c in d if c in _TONES]
        if tones:
            base = unicodedata.normalize("NFC", "".join(c for c in d if c not in _TONES))
            out.append(base + "".join(tones))
        else:
            out.append(ch)
    return "".join(out).encode("cp1258", errors="xmlcharrefreplace")


def mhtml_bytes(html: bytes, charset: str = "utf-8", cte: str = "quoted-printable", extra: bool = True,
                with_html: bool = True) -> bytes:
    """A page saved as one file (.mht/.mhtml), as browsers write it: multipart/related, the page
    in ``cte`` (quoted-printable or base64) in ``charset``, a stylesheet and an image beside it."""
    from email import encoders
    from email.mime.base import MIMEBase
    from email.mime.multipart import MIMEMultipart
    from email.mime.nonmultipart import MIMENonMultipart
    msg = MIMEMultipart("related", type="text/html")
    msg["Subject"] = "=?utf-8?q?K=E1=BA=BF_ho=E1=BA=A1ch?="
    msg["Snapshot-Content-Location"] = "https://vbpl.example.gov.vn/van-ban/1"
    if with_html:
        part = MIMENonMultipart("text", "html", charset=charset)
        part.set_payload(html)
        if cte == "base64":
            encoders.encode_base64(part)
        else:
            import quopri
            part.set_payload(quopri.encodestring(html).decode("ascii"))
            part["Content-Transfer-Encoding"] = "quoted-printable"
        part["Content-Location"] = "https://vbpl.example.gov.vn/van-ban/1"
        msg.attach(part)
    if extra:
        css = MIMENonMultipart("text", "css", charset="utf-8")
        css.set_payload("body { font-family: 'Times New Roman'; }")
        css["Content-Location"] = "https://vbpl.example.gov.vn/site.css"
        msg.attach(css)
        img = MIMEBase("image", "png")
        from PIL import Image
        buf = io.BytesIO()
        Image.new("RGB", (16, 16), "red").save(buf, "PNG")
        img.set_payload(buf.getvalue())
        encoders.encode_base64(img)
        img["Content-Location"] = "https://vbpl.example.gov.vn/logo.png"
        msg.attach(img)
    return msg.as_bytes()


def scan_page_image(page: int = 0, dpi: int = 300, src: str = SCAN):
    """A page of a real signed scan rendered as the scanner's image (colour, ``dpi``)."""
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(str(need(src)))
    try:
        return pdf[page].render(scale=dpi / 72).to_pil()
    finally:
        pdf.close()


def jpeg_truncated(d):
    buf = io.BytesIO()
    scan_page_image(0, 150).save(buf, "JPEG", quality=80)
    data = buf.getvalue()
    return _w(d, "cut-photo.jpg", data[:len(data) // 2])


def png_bomb(d):
    """A 20000x20000 PNG (400 megapixels: 50 kB on disk, 400 MB decoded), made chunk by chunk."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    w = h = 20000
    z = zlib.compressobj(9)
    row = b"\0" + b"\xff" * w            # 8-bit gray, white
    idat = b"".join(z.compress(row) for _ in range(h)) + z.flush()
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return _w(d, "bomb.png", png)


def png_of_a_scan_page(d):
    """The first page of a real signed scan, as a 300 dpi PNG: OCR'd and stored."""
    p = d / "scan-page1.png"
    scan_page_image(0).save(p, dpi=(300, 300))
    return p


def mhtml_without_html(d):
    return _w(d, "styles-only.mht", mhtml_bytes(b"", with_html=False))


def mhtml_cp1258(d):
    """A real portal page saved as one file in Windows-1258, quoted-printable: stored."""
    html = need(HTML).read_text("utf-8").replace('charset="utf-8"', 'charset="windows-1258"')
    return _w(d, "portal-page.mht", mhtml_bytes(cp1258_bytes(html), "windows-1258"))


def htm_cp1258_meta(d):
    """A real portal page saved as .htm in Windows-1258, declared only by its <meta>: stored."""
    html = need(HTML).read_text("utf-8").replace('charset="utf-8"', 'charset="windows-1258"')
    return _w(d, "portal-page.htm", cp1258_bytes(html))


def txt_holding_html(d):
    """A saved portal page named .txt: read as the HTML it is (content before suffix)."""
    return _w(d, "page-saved-as.txt", need(HTML).read_bytes())


def txt_huge(d):
    """27 MB of text (a plan is some tens of kB): over the text limit, refused before decoding."""
    return _w(d, "huge.txt", ("Nhiệm vụ triển khai kế hoạch.\n" * 800_000))


def _office_copy(d, fmt: str):
    from tests.test_ingest_office import _convert
    return _convert(need(DOCX), fmt, d)


def rtf_file(d):
    return _office_copy(d, "rtf")


def odt_file(d):
    return _office_copy(d, "odt")


def docx_only_table(d):
    """A DOCX whose body is one table (an appendix sent alone): its rows are tasks, stored."""
    import docx
    doc = docx.Document()
    t = doc.add_table(rows=1, cols=4)
    for c, h in zip(t.rows[0].cells, ("STT", "Nhiệm vụ", "Cơ quan chủ trì", "Thời gian hoàn thành")):
        c.text = h
    rows = [("1", "Rà soát, cập nhật danh mục thủ tục hành chính thuộc thẩm quyền giải quyết", "Sở Nội vụ", "Tháng 6/2025"),
            ("2", "Tổ chức tập huấn nghiệp vụ cải cách hành chính cho cán bộ, công chức", "Sở Tư pháp", "Quý III/2025"),
            ("3", "Kiểm tra việc thực hiện quy chế một cửa tại các huyện", "Văn phòng Ủy ban nhân dân tỉnh", "Trước ngày 30/11/2025")]
    for r in rows:
        cells = t.add_row().cells
        for c, v in zip(cells, r):
            c.text = v
    p = d / "table-only.docx"
    doc.save(p)
    return p


def pdf_with_javascript(d):
    """A seed plan as a PDF whose catalog runs JavaScript on opening: read as text, never run."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFName, PDFString
    from reportlab.platypus import Paragraph, SimpleDocTemplate
    from xml.sax.saxutils import escape
    from tests.conftest_formats import register_fonts
    register_fonts()
    style = ParagraphStyle("b", fontName="DejaVu", fontSize=11, leading=14)
    story = [Paragraph(escape(ln), style) for ln in need(SEED).read_text("utf-8").splitlines() if ln.strip()]

    def js(canvas, _doc):
        canvas._doc.Catalog.OpenAction = PDFDictionary({"S": PDFName("JavaScript"),
                                                        "JS": PDFString("app.alert('mo tep');")})
    p = d / "with-js.pdf"
    SimpleDocTemplate(str(p)).build(story, onFirstPage=js)
    assert b"/JavaScript" in p.read_bytes()
    return p
