"""Legacy font encodings (TCVN3/ABC, VNI): the tables, round trips of the seed text, and
legacy-encoded seeds as TXT, DOCX and PDF scoring as their Unicode copies."""
import importlib.util
import json
import unicodedata

import pytest

from kehoach.extract import extract
from kehoach.ingest import legacy, read
from tests.shared import SHARED, files, need

LETTERS = "aáàảãạăắằẳẵặâấầẩẫậeéèẻẽẹêếềểễệiíìỉĩịoóòỏõọôốồổỗộơớờởỡợuúùủũụưứừửữựyýỳỷỹỵđ"


def _scorer():
    spec = importlib.util.spec_from_file_location("kehoach_shared_score", need("eval/score.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _score(paths, tmp_path, name):
    out = tmp_path / f"{name}.jsonl"
    out.write_text("\n".join(json.dumps(extract(read(p)).to_dict(), ensure_ascii=False) for p in paths), "utf-8")
    summary, _ = _scorer().extract_report(str(need("eval/gold")), str(out))
    return summary


def _seed_texts():
    return {p.stem: unicodedata.normalize("NFC", p.read_text("utf-8")) for p in files("seeds", "*.txt")}


@pytest.mark.parametrize("enc", legacy.ENCODINGS)
def test_every_vietnamese_letter_round_trips(enc):
    lower = LETTERS
    assert legacy.to_unicode(legacy.from_unicode(lower, enc), enc) == lower
    # VNI has capitals with marks; TCVN3 writes toned capitals in a caps font (.VnTimeH)
    upper = LETTERS.upper()
    if enc == "VNI":
        assert legacy.to_unicode(legacy.from_unicode(upper, enc), enc) == upper
    else:
        assert legacy.to_unicode(legacy.from_unicode(lower, enc), enc, caps=True) == upper


def test_known_spellings_decode():
    assert legacy.to_unicode("KÕ ho¹ch cña Uû ban nh©n d©n tØnh", "TCVN3") == "Kế hoạch của Uỷ ban nhân dân tỉnh"
    assert legacy.to_unicode("Keá hoaïch cuûa UÛy ban nhaân daân tænh", "VNI") == "Kế hoạch của Ủy ban nhân dân tỉnh"
    # capitals restored next to an all-caps Vietnamese word, not next to an acronym
    assert legacy.to_unicode("KÕ HO¹CH", "TCVN3") == "KẾ HOẠCH"
    assert legacy.to_unicode("BG§ Së X©y dùng", "TCVN3") == "BGĐ Sở Xây dựng"


@pytest.mark.parametrize("name,enc", [(".VnTime", ("TCVN3", False)), (".VnTimeH", ("TCVN3", True)),
                                      ("ABCDEF+.VnArialH", ("TCVN3", True)), ("VNI-Times", ("VNI", False)),
                                      ("Times New Roman", None), ("Vni-Helve", ("VNI", False))])
def test_font_names_say_the_encoding(name, enc):
    assert legacy.font_encoding(name) == enc


def test_unicode_text_is_left_alone():
    for text in _seed_texts().values():
        assert legacy.detect(text) is None


@pytest.mark.parametrize("enc", legacy.ENCODINGS)
def test_seed_text_round_trips_through_the_legacy_bytes(enc):
    for stem, text in _seed_texts().items():
        data = legacy.encode_bytes(text, enc)
        view = legacy.bytes_view(data)
        assert legacy.detect(view) == enc
        back = legacy.to_unicode(view, enc)
        same = sum(a == b for a, b in zip(back, text))
        assert len(back) == len(text)
        # VNI is exact; TCVN3 cannot write a toned capital, a few mid-sentence ones stay lowercase
        assert same / len(text) >= (1.0 if enc == "VNI" else 0.999), stem


@pytest.mark.parametrize("enc", legacy.ENCODINGS)
def test_legacy_txt_seeds_score_as_the_unicode_ones(tmp_path, enc):
    seeds = files("seeds", "*.txt")
    paths = []
    for p in seeds:
        q = tmp_path / p.name
        q.write_bytes(legacy.encode_bytes(p.read_text("utf-8"), enc))
        paths.append(q)
    doc = read(paths[0])
    assert any(enc in w for w in doc.warnings)
    base, got = _score(seeds, tmp_path, "u"), _score(paths, tmp_path, enc)
    assert got["overall"] >= base["overall"] - 0.01


def _legacy_docx(src, dst, enc):
    """A copy of a DOCX with every run's text in the legacy encoding and its font a legacy
    font (.VnTimeH for all-caps runs in TCVN3, as typists did)."""
    import docx
    from docx.oxml.ns import qn
    d = docx.Document(str(src))
    for r in d.element.body.iter(qn("w:r")):
        ts = r.findall(qn("w:t"))
        text = "".join(t.text or "" for t in ts)
        if not text:
            continue
        caps = enc == "TCVN3" and text.upper() == text and any(c.isalpha() for c in text)
        font = {"TCVN3": ".VnTimeH" if caps else ".VnTime", "VNI": "VNI-Times"}[enc]
        for t in ts:
            t.text = legacy.from_unicode((t.text or "").lower() if caps else (t.text or ""), enc)
        rpr = r.get_or_add_rPr()
        rf = rpr.find(qn("w:rFonts"))
        if rf is None:
            rf = rpr.makeelement(qn("w:rFonts"), {})
            rpr.insert(0, rf)
        for a in ("w:ascii", "w:hAnsi", "w:cs"):
            rf.set(qn(a), font)
    d.save(str(dst))


@pytest.mark.parametrize("enc", legacy.ENCODINGS)
def test_legacy_font_docx_seeds_score_as_the_unicode_ones(tmp_path, enc):
    seeds = files("corpus/docx", "*.docx")
    paths = []
    for p in seeds:
        q = tmp_path / p.name
        _legacy_docx(p, q, enc)
        paths.append(q)
    doc = read(paths[0])
    assert any(enc in w for w in doc.warnings)
    assert "Ủy ban nhân dân" in doc.text or "ỦY BAN NHÂN DÂN" in doc.text
    base, got = _score(seeds, tmp_path, "u"), _score(paths, tmp_path, enc)
    assert got["overall"] >= base["overall"] - 0.01


def _draw_pdf(heading: str, paragraphs: list[str]) -> bytes:
    """Paragraphs drawn line by line on a reportlab canvas (platypus would treat TCVN3's
    ``ư`` code, U+00AD, as a soft hyphen and drop it): centred bold heading, justified-width
    wrapping, first-line indent."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen import canvas

    from conftest_formats import register_fonts
    register_fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    y = h - 60

    def line(text, font, size, x):
        nonlocal y
        if y < 60:
            c.showPage()
            y = h - 60
        c.setFont(font, size)
        c.drawString(x, y, text)
        y -= size + 4

    c.setFont("DejaVu-Bold", 13)
    line(heading, "DejaVu-Bold", 13, (w - c.stringWidth(heading, "DejaVu-Bold", 13)) / 2)
    for para in paragraphs:
        for k, ln in enumerate(simpleSplit(para, "DejaVu", 11, w - 140)):
            line(ln, "DejaVu", 11, 80 if k == 0 else 60)
        y -= 6
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize("enc", legacy.ENCODINGS)
def test_a_legacy_text_layer_page_is_converted_with_a_warning(tmp_path, enc):
    from conftest_formats import fonts_available
    if not fonts_available():
        pytest.skip("DejaVu fonts not installed")
    text = "Sở Nội vụ chủ trì, phối hợp với các cơ quan, đơn vị thực hiện kế hoạch của Ủy ban nhân dân tỉnh"
    p = tmp_path / "legacy.pdf"
    p.write_bytes(_draw_pdf(legacy.from_unicode("KẾ HOẠCH", enc), [legacy.from_unicode(text, enc)] * 3))
    doc = read(p)
    assert "Sở Nội vụ chủ trì, phối hợp với các cơ quan, đơn vị thực hiện kế hoạch" in doc.text
    assert "KẾ HOẠCH" in doc.text
    assert any(enc in w and "page 1" in w for w in doc.warnings)


@pytest.mark.slow
@pytest.mark.parametrize("enc", legacy.ENCODINGS)
def test_legacy_text_layer_pdf_seeds_score_as_the_unicode_ones(tmp_path, enc):
    """The seed text drawn with reportlab, once in Unicode and once legacy-encoded (the
    text layer a TCVN3/VNI font leaves: Latin-1 codes): both extract alike."""
    from conftest_formats import fonts_available
    if not fonts_available():
        pytest.skip("DejaVu fonts not installed")
    uni, leg = [], []
    for stem, text in _seed_texts().items():
        lines = [ln.strip() for ln in text.replace("\t", " ").split("\n") if ln.strip() and ln.strip() != "|"]
        for folder, conv, out in (("u", lambda s: s, uni), (enc, lambda s: legacy.from_unicode(s, enc), leg)):
            p = tmp_path / folder / f"{stem}.pdf"
            p.parent.mkdir(exist_ok=True)
            p.write_bytes(_draw_pdf(conv(lines[0]), [conv(ln) for ln in lines[1:]]))
            out.append(p)
    doc = read(leg[0])
    assert any(enc in w for w in doc.warnings)
    base, got = _score(uni, tmp_path, "u"), _score(leg, tmp_path, enc)
    assert got["overall"] >= base["overall"] - 0.01
