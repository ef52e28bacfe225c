"""Outline of a document: list markers (I., 1., 1.1., a), -, +, *, Điều) turned
into a tree of items, each with its section path ("II.1.1.a") and zone.

Marker types nest dynamically (like Markdown lists): a marker type already open
closes back to its level; numbered levels nest by their depth ("2.2." closes
"a)" and "-" opened under "2."); a roman heading closes everything.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from kehoach.extract.data import rows
from kehoach.ingest.normalize import ends_sentence
from kehoach.models import Block

MARKER = re.compile(
    r"^(?:"
    r"(?P<dieu>(?:Điều|ĐIỀU)\s+(?P<dieu_n>\d+))\s*[.:]?\s*"
    r"|(?P<part>(?:Phần|PHẦN|Chương|CHƯƠNG)\s+(?P<part_n>[IVXLC\d]+))\s*[.:]?\s*"
    r"|(?P<roman>(?P<roman_n>[IVXLC]{1,6}))\s*[.)/-]\s*"
    r"|(?P<num>(?P<num_n>\d{1,2}(?:\.\d{1,2}){0,4}))(?:[.)]\s*|\s+(?=[A-ZĐÀ-Ỹa-zà-ỹ“\"(]))"
    r"|(?P<letter>(?P<letter_n>[a-zđ]))(?:[)]|\.(?=\s+[A-ZĐÀ-Ỹ]))\s*"     # "a)", and "a. Sở ..." as some plans write it
    r"|(?P<dash>[-–—])\s*"
    r"|(?P<plus>\+)\s*"
    r"|(?P<star>[*•·●○■□▪◦])\s*"
    r")")


_GLOSS_END = re.compile(r"\s*\([^()]*\)$")


@dataclass
class Node:
    block: int
    kind: str                      # "item" (has a marker) | "para" (plain paragraph)
    mtype: Optional[tuple]         # ("roman",), ("num", depth), ("letter",), ("dash",), ...
    label: Optional[str]
    text: str                      # the block text without its marker
    offset: int                    # absolute offset of ``text`` in the document
    parent: Optional[int] = None   # index into Outline.nodes
    children: list[int] = field(default_factory=list)
    section: str = ""
    zone: str = "preamble"         # preamble | task | objective | provision (a titled article: see _titled_article)

    @property
    def is_heading(self) -> bool:
        """Has children and reads like a heading (no full stop, or ends with ':'). A closing parenthesis
        is a gloss whose own "…" or "." does not end the heading ("5. Các chủ rừng là tổ chức (các Ban
        quản lý rừng đặc dụng, ..., các Công ty nông, lâm nghiệp…)")."""
        if not self.children:
            return False
        got = self.__dict__.get("_reads_as_heading")   # read once per text (asked for every node below it)
        if got is None or got[0] is not self.text:
            got = self.__dict__["_reads_as_heading"] = (self.text, _reads_as_heading(self.text))
        return got[1]


def _reads_as_heading(text: str) -> bool:
    t = text.rstrip(" *")
    if t.endswith(":"):
        return True
    if t.endswith((")", ")\n")):   # the gloss pattern can only match then
        t = _GLOSS_END.sub("", t) or t
    return not ends_sentence(t)


@dataclass
class Outline:
    nodes: list[Node]

    def ancestors(self, i: int) -> list[int]:
        """The nodes above node i, outermost first (a copy: read once a node, the tree is built)."""
        known = self.__dict__.setdefault("_ancestors", {})
        got = known.get(i)
        if got is None:
            p = self.nodes[i].parent
            got = known[i] = () if p is None else (*self.ancestors(p), p)
        return list(got)


# a heading number whose "." a scan's OCR read as ",": "9, Sở Thông tin và Truyền thông" (a capital after it)
_OCR_COMMA_NUM = re.compile(r"^(\d{1,2}),\s+(?=\w)")


def parse_marker(text: str) -> tuple[Optional[tuple], Optional[str], int]:
    m = MARKER.match(text)
    if not m:
        c = _OCR_COMMA_NUM.match(text)
        if c and text[c.end()].isupper():
            return ("num", 1), c.group(1), c.end()
        return None, None, 0
    if m.group("dieu"):
        return ("dieu",), m.group("dieu_n"), m.end()
    if m.group("part"):
        return ("part",), m.group("part_n"), m.end()
    if m.group("roman"):
        # "I." but not a word like "IV" in running text: require a following capital/heading
        return ("roman",), m.group("roman_n"), m.end()
    if m.group("num"):
        n = m.group("num_n")
        if text[m.end("num_n"):m.end("num_n") + 1] not in ".)" and text[m.end():m.end() + 1].islower():
            return None, None, 0    # a number without "." or ")" before a lower-case word: a line cut after
            #                         "Covid-" ("19 đang diễn biến ..."), not a heading number
        return ("num", n.count(".") + 1), n, m.end()
    if m.group("letter"):
        return ("letter",), m.group("letter_n"), m.end()
    if m.group("dash"):
        return ("dash",), None, m.end()
    if m.group("plus"):
        return ("plus",), None, m.end()
    if m.group("star"):
        return ("star",), None, m.end()
    return None, None, 0


@lru_cache(maxsize=1)
def _zone_words():
    return [(z, w) for z, w in rows("zones.tsv") if z != "owners"]


@lru_cache(maxsize=1)
def _owner_part_words():
    return tuple(w for z, w in rows("zones.tsv") if z == "owners")


def assigns_owners(text: str) -> bool:
    """A heading of the part that assigns the work ("TỔ CHỨC THỰC HIỆN", "PHÂN CÔNG NHIỆM VỤ"):
    its sub-headings name owners."""
    t = text.strip().upper()
    return any(t.startswith(w) for w in _owner_part_words())


def zone_of_heading(text: str, top: bool) -> Optional[str]:
    t = text.strip().upper()
    # a top-level heading's words count anywhere in it, a lower heading's at its start only
    if top:
        hits = [(i, z) for z, w in _zone_words() if (i := t.find(w)) >= 0]
    else:
        hits = [(0, z) for z, w in _zone_words() if t.startswith(w)]
    hits = [(i, "task" if z == "task_sub" else z) for i, z in hits if z != "task_sub" or (i == 0 and not top)]
    if hits and all(z == "funding" for _, z in hits):
        # KINH PHÍ: a part of its own says where the money comes from (not tasks); below a task heading it changes nothing
        return "objective" if top and min(hits)[0] == 0 else None
    hits = [(i, z) for i, z in hits if z != "funding"]
    if not hits:
        return None
    zones = {z for _, z in hits}
    if "task" in zones:  # "MỤC TIÊU VÀ NHIỆM VỤ": items are tasks
        first = min(hits)[1]
        return "task" if (top or first == "task") else first
    return "objective"


# an article's title (Nghị định 30/2020/NĐ-CP and the law on legal documents give the articles of a normative
# text a title: "Điều 38. Mẫu Huân chương Sao vàng"), not a sentence ("Điều 1. Phê duyệt Đề án ... sau:")
_TITLE = re.compile(r"^[A-ZĐÀ-Ỹ][^.:;!?]*$")
TITLE_MAX_WORDS = 25


def _titled_article(text: str) -> bool:
    t = text.strip().rstrip("*").strip()
    return bool(_TITLE.match(t)) and len(t.split()) <= TITLE_MAX_WORDS


def build_outline(blocks: list[Block], start: int, end: int) -> Outline:
    nodes: list[Node] = []
    stack: list[int] = []   # node indices of open items

    def pop_to(pred):
        while stack and pred(nodes[stack[-1]]):
            stack.pop()

    for bi in range(start, end):
        b = blocks[bi]
        if b.kind != "para":
            continue
        mtype, label, mlen = parse_marker(b.text)
        if mtype == ("roman",) and not re.match(r"[A-ZĐÀ-Ỹa-zà-ỹ“\"(]", b.text[mlen:mlen + 1] or "x"):
            mtype = None
        if mtype is None:
            node = Node(bi, "para", None, None, b.text, b.start)
            node.parent = stack[-1] if stack else None
        else:
            text = b.text[mlen:]
            node = Node(bi, "item", mtype, label, text, b.start + mlen)
            kind = mtype[0]
            if kind in ("part", "dieu"):
                stack.clear()
            elif kind == "roman":
                pop_to(lambda n: n.mtype[0] not in ("part",))
            elif kind == "num":
                d = mtype[1]
                pop_to(lambda n: not (n.mtype[0] in ("roman", "part", "dieu") or (n.mtype[0] == "num" and n.mtype[1] < d)))
            else:
                idx = next((k for k in range(len(stack) - 1, -1, -1) if nodes[stack[k]].mtype == mtype), None)
                if idx is not None:
                    del stack[idx:]
            node.parent = stack[-1] if stack else None
        nodes.append(node)
        me = len(nodes) - 1
        if node.parent is not None:
            nodes[node.parent].children.append(me)
        if node.kind == "item":
            stack.append(me)
    out = Outline(nodes)
    _sections_and_zones(out)
    return out


def _sections_and_zones(out: Outline) -> None:
    has_roman = any(n.mtype == ("roman",) for n in out.nodes)
    # with no roman parts, the text before the first list item is the preamble (căn cứ, authority line)
    first_item = next((i for i, n in enumerate(out.nodes) if n.kind == "item"), len(out.nodes))
    heading_zones: dict[int, Optional[str]] = {}
    for i, n in enumerate(out.nodes):
        path_roman, path_num, path_letter, dieu = None, None, None, None
        zone = "task" if not has_roman and i >= first_item else "preamble"
        own = n.kind == "item" and (n.children or n.mtype[0] in ("letter", "roman", "dieu")
                                    or (n.mtype[0] == "num" and n.mtype[1] == 1))
        chain = out.ancestors(i) + ([i] if own else [])
        for a in chain:
            an = out.nodes[a]
            k = an.mtype[0]
            if k == "roman":
                path_roman, path_num, path_letter = an.label, None, None
            elif k == "dieu":
                dieu, path_num, path_letter = an.label, None, None
            elif k == "num":
                path_num, path_letter = an.label, None
            elif k == "letter":
                path_letter = an.label
            if a != i or an.children:
                if a not in heading_zones:   # a heading is read once, not once per node below it
                    heading_zones[a] = zone_of_heading(
                        an.text, top=(k in ("roman", "part") or (not has_roman and k == "num" and an.mtype[1] == 1)))
                    if heading_zones[a] is None and k == "dieu" and _titled_article(an.text):
                        # a titled article that names no part of a plan ("Mẫu Huân chương", "Hồ sơ đề nghị")
                        # holds provisions: its items are tasks only where they name who acts
                        heading_zones[a] = "provision"
                z = heading_zones[a]
                if z:
                    zone = z
        parts = [p for p in (("Điều " + dieu) if dieu else None, path_roman, path_num, path_letter) if p]
        n.section = ".".join(parts)
        n.zone = zone
