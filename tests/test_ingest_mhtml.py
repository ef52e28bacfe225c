"""Pages saved from portals in the other forms users send: a web archive (.mht/.mhtml, "save as
single file": multipart/related, the page quoted-printable or base64, in UTF-8 or Windows-1258)
and an .htm whose legacy charset is declared only in its <meta>. Each is built here from a real
page saved from vbpl (real/html) and must read exactly as the page itself: the same text, the
same blocks, the same record."""
from __future__ import annotations

import pytest

from kehoach.extract import extract
from kehoach.ingest import read
from tests import bad_inputs as B
from tests.shared import files

PAGES = files("real/html", "*.html")


def _legacy(html: str, how: str) -> str:
    """The page's own UTF-8 declaration replaced by a Windows-1258 one, in ``how`` form."""
    decl = {"charset": '<meta charset="windows-1258"/>',
            "http-equiv": '<meta http-equiv="Content-Type" content="text/html; charset=windows-1258"/>'}[how]
    assert '<meta charset="utf-8"/>' in html
    return html.replace('<meta charset="utf-8"/>', decl, 1)


def _variants(page):
    """name -> bytes: the ways this page reaches a user."""
    html = page.read_text("utf-8")
    cp = B.cp1258_bytes(_legacy(html, "charset"))
    return {
        "chrome.mhtml": B.mhtml_bytes(html.encode("utf-8"), "utf-8", "quoted-printable"),
        "ie-cp1258-qp.mht": B.mhtml_bytes(cp, "windows-1258", "quoted-printable"),
        "cp1258-base64.mht": B.mhtml_bytes(cp, "windows-1258", "base64"),
        "legacy-meta.htm": cp,
        "legacy-http-equiv.htm": B.cp1258_bytes(_legacy(html, "http-equiv")),
    }


def _same(doc, ref) -> None:
    assert doc.text == ref.text
    assert [(b.kind, b.text, b.style) for b in doc.blocks] == [(b.kind, b.text, b.style) for b in ref.blocks]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_real_page_saved_as_mhtml_or_legacy_htm_reads_as_the_page(page, tmp_path):
    ref = read(page)
    want = extract(ref).to_dict()
    for name, data in _variants(page).items():
        p = tmp_path / name
        p.write_bytes(data)
        if name.endswith((".mht", ".mhtml")):
            assert data.startswith(b"Content-Type: multipart/related")
        doc = read(p)
        assert doc.format == ("mhtml" if name.endswith((".mht", ".mhtml")) else "html"), name
        _same(doc, ref)
        got = extract(doc).to_dict()
        assert got["document"] == want["document"], name
        assert [t["text"] for t in got["tasks"]] == [t["text"] for t in want["tasks"]], name
    assert want["document"]["number"] and want["document"]["type"] == "Quyết định" and want["tasks"]


def test_windows_1258_bytes_are_the_code_page_s_own_not_utf8(tmp_path):
    """The page really is in Windows-1258 (tone marks combining): decoding it as UTF-8 fails."""
    data = B.cp1258_bytes(_legacy(PAGES[0].read_text("utf-8"), "charset"))
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert B.cp1258_bytes("Quyết định") == b"Quy\xea\xect \xf0i\xf2nh"      # ê + acute, i + dot below


def test_a_web_archive_whose_html_part_names_no_charset_takes_the_page_s_meta(tmp_path):
    from email.mime.multipart import MIMEMultipart
    from email.mime.nonmultipart import MIMENonMultipart
    import quopri
    page = PAGES[0]
    msg = MIMEMultipart("related", type="text/html")
    part = MIMENonMultipart("text", "html")
    part.set_payload(quopri.encodestring(B.cp1258_bytes(_legacy(page.read_text("utf-8"), "charset"))).decode("ascii"))
    part["Content-Transfer-Encoding"] = "quoted-printable"
    msg.attach(part)
    p = tmp_path / "no-charset.mht"
    p.write_bytes(msg.as_bytes())
    _same(read(p), read(page))


def test_a_txt_holding_a_saved_page_is_read_as_html(tmp_path):
    doc = read(B.txt_holding_html(tmp_path))
    assert doc.format == "html"
    assert "<div" not in doc.text and "TRANG CHỦ" not in doc.text
