"""Header of a document: số hiệu, loại văn bản, issuer (province resolved),
place and date, trích yếu (title), signer and the signer's own post.

Works on the blocks of an IngestedDocument: a letterhead when there is one
(DOCX/PDF, web text), else the preamble sentence ("<issuer> ban hành Kế hoạch"),
the closing sentence, the signature and the symbol's suffix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from kehoach.extract.bodies import canonical, expand_abbreviations, starts_with_body
from kehoach.extract.data import rows
from kehoach.models import Block, DocumentInfo, IngestedDocument, Signer

_UP = "A-ZĐÀ-Ỹ"
NUMBER = re.compile(r"^\s*Số\s*(?:hiệu)?\s*[:.]?\s*(?P<num>[^\s/]*)\s*/\s*(?P<sym>[\w.\-Đđ&/]+)", re.I)
DATE_LINE = re.compile(
    r"^(?P<place>[^,\d]{2,40}?),?\s*ngày\s*(?P<d>\d{1,2})?\s*(?:/|tháng)\s*(?P<m>\d{1,2})?\s*(?:/|năm)\s*(?P<y>\d{4})",
    re.I)
MOTTO = re.compile(r"CỘNG HÒA XÃ HỘI|CỘNG HOÀ XÃ HỘI|Độc lập\s*-\s*Tự do|ĐẢNG CỘNG SẢN VIỆT NAM|^[-_=*.\s]{3,}$", re.I)
_STOP_TITLE = re.compile(r"^(Căn cứ|Thực hiện|Theo|Xét|Để|Nhằm|Triển khai|Trên cơ sở|Năm \d{4}|Ngày \d|"
                         r"[IVX]+\.\s|Điều\s+\d|\d+\.\s|Kính gửi|Phần|PHẦN|I\s*-)")
_POST_PREFIX = re.compile(r"^(TM|KT|TL|TUQ|Q|Q\.)\.?\s+(.*)$")
_NAME = re.compile(rf"^[{_UP}][a-zà-ỹđ]*(?:\s+[{_UP}][a-zà-ỹđ]*){{1,5}}$")
_NAME_UPPER = re.compile(rf"^[{_UP}]+(?:\s+[{_UP}]+){{1,5}}$")
_PLACE_WORDS = r"(?:tỉnh|thành phố|huyện|quận|thị xã|xã|phường|thị trấn|đặc khu|TP\.|tp\.)"
_PROPER = rf"[{_UP}][\wà-ỹđ]*(?:\s+[{_UP}][\wà-ỹđ]*){{0,3}}"
PROVINCE_IN = re.compile(rf"\btỉnh\s+(?P<p>{_PROPER})")
CITY_IN = re.compile(rf"\bthành phố\s+(?P<p>{_PROPER})")


@dataclass
class Layout:
    """Where the parts of the document are, as block indices."""
    title: Optional[int] = None
    body_start: int = 0
    closing: Optional[int] = None          # "Nơi nhận" (or the signature) that ends the body
    signature: list[int] = field(default_factory=list)
    appendix: Optional[int] = None         # first block of the appendix (Phụ lục) after the signature
    embedded_plan: Optional[int] = None    # a Quyết định issuing a plan: the plan's title block


def _kinds() -> list[tuple[str, str]]:
    return sorted(rows("doc_kinds.tsv"), key=lambda r: -len(r[0]))


def doc_kind(text: str) -> Optional[str]:
    t = text.strip().rstrip(".:")
    for up, name in _kinds():
        if t == up:
            return name
    return None


def sentence_case_name(s: str) -> str:
    """'ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ' -> 'Ủy ban nhân dân tỉnh Quảng Trị'."""
    words = expand_abbreviations(s).split()
    out = []
    cap_next = True
    place = False
    in_dept = False
    for k, w in enumerate(words):
        lw = w.lower()
        nxt = words[k + 1].lower() if k + 1 < len(words) else ""
        if place or cap_next:
            out.append(lw[:1].upper() + lw[1:])
        else:
            out.append(lw)
        cap_next = False
        if lw in ("tỉnh", "phố", "huyện", "quận", "xã", "phường", "trấn", "khu") and nxt not in ("hội", "viên"):
            place = True
        elif lw in ("sở", "cục", "bộ") or (in_dept and (lw in ("và", "-") or w.endswith(","))):
            cap_next = True
            in_dept = True
    s2 = " ".join(out)
    s2 = re.sub(r"(?i)\bủy ban nhân dân\b", "Ủy ban nhân dân", s2)
    s2 = re.sub(r"(?i)\bhội đồng nhân dân\b", "Hội đồng nhân dân", s2)
    s2 = re.sub(r"^Ủy Ban", "Ủy ban", s2)
    s2 = re.sub(r"^Văn phòng ủy ban", "Văn phòng Ủy ban", s2)
    s2 = s2.replace("ủy ban nhân dân", "Ủy ban nhân dân") if s2.startswith("Văn phòng") else s2
    return canonical(s2)


def _is_upper(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def parse_date(d: Optional[str], m: Optional[str], y: Optional[str]) -> Optional[str]:
    if not y:
        return None
    if m and d:
        return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"
    if m:
        return f"{int(y):04d}-{int(m):02d}"
    return f"{int(y):04d}"


def _province_of(name: str) -> Optional[str]:
    m = PROVINCE_IN.search(name)
    if m:
        return m.group("p")
    m = CITY_IN.search(name)
    if m and m.group("p") in _central():
        return m.group("p")
    return None


@lru_cache(maxsize=1)
def _central() -> frozenset:
    return frozenset(r[0] for r in rows("central_cities.tsv"))


def issuer_kind(issuer: Optional[str]) -> Optional[str]:
    if not issuer:
        return None
    central = _central()
    m = re.match(r"^Ủy ban nhân dân\s+(tỉnh|thành phố|huyện|quận|thị xã|xã|phường|thị trấn|đặc khu)\s*(.*)$", issuer)
    if m:
        lvl, place = m.group(1), m.group(2)
        if lvl == "tỉnh" or (lvl == "thành phố" and place in central):
            return "ubnd_tinh"
        if lvl in ("thành phố", "huyện", "quận", "thị xã"):
            return "ubnd_huyen"
        return "ubnd_xa"
    for pre, kind in (("Văn phòng", "van_phong"), ("Sở", "so"), ("Phòng", "phong"), ("Ban", "ban"),
                      ("Tỉnh ủy", "party"), ("Thành ủy", "party"), ("Hội đồng nhân dân", "hdnd"), ("Bộ", "bo")):
        if issuer.startswith(pre):
            return kind
    return "other"


@lru_cache(maxsize=1)
def _posts() -> dict[str, str]:
    return {a: b for a, b in rows("signer_posts.tsv")}


def _signature(blocks: list[Block], start: int, end: int) -> tuple[Signer, list[int]]:
    """Find the signature block in blocks[start:end]: posts in upper case, then a name."""
    posts: list[tuple[int, str]] = []
    table = _posts()
    i = start
    while i < end:
        t = blocks[i].text.strip().strip("*").strip()
        if blocks[i].kind == "para" and _is_upper(t) and (
                _POST_PREFIX.match(t) or t in table or re.match(r"^(PHÓ|CHỦ TỊCH|GIÁM ĐỐC|TRƯỞNG|CHÁNH|BỘ TRƯỞNG)", t)):
            run = [(i, t)]
            j = i + 1
            while j < end and blocks[j].kind == "para" and _is_upper(blocks[j].text) and len(blocks[j].text) < 60 \
                    and not re.match(r"^(PHỤ LỤC|DANH MỤC|BIỂU)", blocks[j].text.strip()):
                run.append((j, blocks[j].text.strip().strip("*").strip()))
                j += 1
            posts = run
            break
        i += 1
    if not posts:
        return Signer(), []
    idx = [p[0] for p in posts]
    post_lines = [p[1] for p in posts]
    own = post_lines[-1]
    kt = next((m.group(2) for m in (_POST_PREFIX.match(x) for x in post_lines) if m and m.group(1) == "KT"), None)
    own_m = _POST_PREFIX.match(own)
    if own_m:
        own = own_m.group(2)
    if own.startswith("PHÓ") and kt:
        title = "Phó " + table.get(kt, sentence_case_name(kt))
    else:
        title = table.get(own) or sentence_case_name(own)
    # the name: the next short block that reads like a personal name
    name = None
    j = idx[-1] + 1
    while j < min(end, idx[-1] + 4):
        t = blocks[j].text.strip().strip("*").strip()
        if re.match(r"^\(?(Đã ký|đã ký|Ký|ký)", t) or not t:
            j += 1
            continue
        if _NAME.match(t):
            name = t
        elif _NAME_UPPER.match(t) and not doc_kind(t) and not re.match(r"^(PHỤ LỤC|DANH MỤC)", t):
            name = " ".join(w[:1] + w[1:].lower() for w in t.split())
        if name:
            idx.append(j)
        break
    return Signer(name=name, title=title), idx


def parse_header(doc: IngestedDocument) -> tuple[DocumentInfo, Layout]:
    blocks = doc.blocks
    info = DocumentInfo()
    lay = Layout()
    n = len(blocks)
    head_limit = min(n, 60)
    letterhead: list[str] = []
    number_idx = None
    for i in range(head_limit):
        b = blocks[i]
        if b.kind != "para":
            continue
        t = b.text.strip()
        if info.type is None:
            k = doc_kind(t)
            if k:
                info.type, lay.title = k, i
                continue
        if number_idx is None and info.type is None:
            m = NUMBER.match(t)
            if m:
                number_idx = i
                num = m.group("num").strip()
                info.number = (num + "/" + m.group("sym")).replace(" ", "") if re.search(r"\d", num) else None
                continue
        if info.date is None and info.type is None:
            m = DATE_LINE.match(t)
            if m:
                info.place = m.group("place").strip().strip(",")
                info.date = parse_date(m.group("d"), m.group("m"), m.group("y"))
                continue
        if info.type is None and number_idx is None and not MOTTO.search(t) and _is_upper(t) and len(t) < 80:
            letterhead.append(t)
    # title
    if lay.title is not None:
        parts: list[str] = []
        j = lay.title + 1
        while j < n and len(parts) < 4:
            b = blocks[j]
            t = b.text.strip()
            first_ok = not parts and not re.match(r"^(Căn cứ|Kính gửi|[IVX]+\.\s|Điều\s+\d)", t)
            if b.kind != "para" or (not first_ok and _STOP_TITLE.match(t)) or MOTTO.search(t) or (parts and _is_upper(t)) \
                    or (parts and (len(" ".join(parts)) > 350 or parts[-1].endswith("."))):
                break
            if parts and (t.startswith("(") or t.endswith(":") or len(t) > 160
                          or re.search(r"[.;]\s+\S", t)):
                break  # a title goes on in short lines; a sentence or a "...:" line is the preamble
            parts.append(t)
            j += 1
        info.title = re.sub(r"\s+", " ", " ".join(parts)).strip() or None
        lay.body_start = j
    # closing and signature
    closing = next((i for i in range(lay.body_start, n) if blocks[i].kind == "para"
                    and re.match(r"^Nơi nhận\b", blocks[i].text.strip())), None)
    lay.closing = closing
    sig_from = closing if closing is not None else max(lay.body_start, n - 40)
    info.signer, lay.signature = _signature(blocks, sig_from, n)
    if closing is None and lay.signature:
        lay.closing = lay.signature[0]
    after = (lay.signature[-1] + 1) if lay.signature else (closing + 1 if closing is not None else n)
    for i in range(after, n):
        t = blocks[i].text.strip()
        if blocks[i].kind == "row" or re.match(r"^(PHỤ LỤC|Phụ lục|DANH MỤC|Danh mục|BIỂU|Biểu)\b", t):
            lay.appendix = i
            break
        if doc_kind(t):  # a Quyết định followed by the plan it issues
            lay.embedded_plan = i
            lay.appendix = i
            break
    # issuer
    issuer = _issuer_from_letterhead(letterhead)
    if not issuer:
        issuer = _issuer_from_preamble(blocks, lay.body_start, min(n, lay.body_start + 12))
    if not issuer:
        issuer = _issuer_from_closing(blocks, lay)
    if not issuer and lay.signature:
        t = blocks[lay.signature[0]].text.strip()
        m = _POST_PREFIX.match(t)
        if m and m.group(1) == "TM":
            issuer = sentence_case_name(m.group(2))
    province = None
    parent = letterhead[:-1] if len(letterhead) > 1 else []
    for cand in ([issuer] if issuer else []) + [sentence_case_name(x) for x in parent]:
        province = province or _province_of(cand or "")
    if not province and info.place and not re.match(r"^(TP|tp|Thành phố|thành phố|Quận|Huyện|Thị xã)\b", info.place):
        province = info.place.strip()
    if not province:
        counts: dict[str, int] = {}
        for m in PROVINCE_IN.finditer(doc.text[:50000]):
            counts[m.group("p")] = counts.get(m.group("p"), 0) + 1
        if counts:
            province = max(counts, key=counts.get)
    if issuer:
        issuer = _complete_issuer(issuer, province, info.place)
    info.issuer = issuer
    info.province = province
    if info.type == "Quyết định" and info.title and re.search(r"(ban hành|phê duyệt)\s+(Kế hoạch|Chương trình|Đề án)",
                                                             info.title, re.I):
        m = re.search(r"(Kế hoạch|Chương trình|Đề án)", info.title, re.I)
        info.issued_plan = {"type": m.group(1).capitalize(), "title": info.title}
    return info, lay


def _issuer_from_letterhead(lines: list[str]) -> Optional[str]:
    lines = [x.strip().strip("*").strip() for x in lines if x.strip() and not re.match(r"^[-_=.\s]+$", x)]
    if not lines:
        return None
    last = lines[-1]
    if len(lines) >= 2 and re.fullmatch(r"VĂN PHÒNG|THANH TRA", last):
        # "UBND TỈNH X / VĂN PHÒNG" is the Văn phòng of that UBND
        parent = sentence_case_name(" ".join(lines[:-1]))
        return sentence_case_name(last) + " " + parent if last == "VĂN PHÒNG" else sentence_case_name(last) + _parent_place(lines[:-1])
    if len(lines) >= 2 and re.match(r"^(SỞ|VĂN PHÒNG|BAN|PHÒNG|TRUNG TÂM|CHI CỤC|CỤC|THANH TRA|BỘ)\b", last):
        return sentence_case_name(last) + _parent_place(lines[:-1])
    return sentence_case_name(" ".join(lines))


def _parent_place(parent: list[str]) -> str:
    p = sentence_case_name(" ".join(parent))
    m = re.search(rf"\b(tỉnh|thành phố|huyện|quận|thị xã)\s+{_PROPER}", p)
    return (" " + m.group(0)) if m else ""


@lru_cache(maxsize=1)
def _preamble_rx() -> re.Pattern:
    verbs = "|".join(re.escape(r[0]) for r in rows("issuer_verbs.tsv"))
    return re.compile(rf"(?:^|[,;:.]\s+|\)\s*,?\s*)(?P<who>[^,;:.()]{{3,120}}?)\s+(?:{verbs})\b")


def _issuer_from_preamble(blocks: list[Block], start: int, end: int) -> Optional[str]:
    rx = _preamble_rx()
    for i in range(start, end):
        if blocks[i].kind != "para":
            continue
        for m in rx.finditer(blocks[i].text):
            who = m.group("who").strip()
            who = re.sub(r"^(?:thì|nay)\s+", "", who)
            if starts_with_body(who) and not who.lower().startswith(("các ", "tất cả")):
                return canonical(who)
    return None


def _issuer_from_closing(blocks: list[Block], lay: Layout) -> Optional[str]:
    end = lay.closing if lay.closing is not None else len(blocks)
    for i in range(max(lay.body_start, end - 6), end):
        m = re.match(r"^Trên đây là (?:Kế hoạch|kế hoạch|Chương trình)[^.]*?\bcủa\s+(?P<who>(?:Sở|Văn phòng|Ủy ban|UBND|Ban|Phòng|Trung tâm)[^.,;]*?)(?:\s+(?:về|để|nhằm|thực hiện|trong)\b|[.,;]|$)",
                     blocks[i].text.strip())
        if m:
            return canonical(m.group("who"))
    return None


def _complete_issuer(issuer: str, province: Optional[str], place: Optional[str]) -> str:
    s = canonical(issuer)
    if re.search(rf"\b{_PLACE_WORDS}\s+[{_UP}]", s):
        return s
    if re.search(r"\btỉnh$", s) and province:
        return f"{s} {province}"
    if province and re.match(r"^(Ủy ban nhân dân|Hội đồng nhân dân)$", s):
        return f"{s} tỉnh {province}"
    if province and re.match(r"^(Sở|Văn phòng|Ban|Thanh tra|Trung tâm|Chi cục|Cục|Bảo hiểm|Công an|Kho bạc)\b", s) \
            and not s.endswith(("Chính phủ", "Quốc hội", "Trung ương")):
        return f"{s} tỉnh {province}"
    return s
