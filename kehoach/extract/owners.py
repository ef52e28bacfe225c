"""Owners of a task: lead (chủ trì, the body a task is addressed to) and support
(phối hợp), from headings, owner lines, "X: ..." prefixes, subjects and
"X chủ trì, phối hợp với Y" sentences. Pure functions over text.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from kehoach.extract.bodies import (_drop_head, _starts_item, bodies, head_length, is_body_phrase, owner_phrase_end, split_bodies,
                                    starts_with_body, strip_leader)
from kehoach.extract.data import fast_compile, first_letter_alternation, rows, word_alternation

_RESP = re.compile(r"^(?P<who>.+?)\s+(?:có trách nhiệm|chịu trách nhiệm)\s*:?\s*$")
# a heading that is a body and its role alone, with no object: "Sở Y tế chủ trì, phối hợp thực hiện:"
_LEADS = re.compile(r"^(?P<who>.+?)\s+chủ trì(?:\s*,?\s*(?:và\s+)?phối hợp)?(?:\s+(?:tổ chức\s+)?thực hiện)?"
                    r"(?:\s+(?:các|những)\s+(?:nội dung|nhiệm vụ)(?:\s+sau)?)?\s*:?\s*$")
# a heading that asks bodies (or their heads) to carry out the items under it, with no object: "Đề nghị Công an
# tỉnh, Viện kiểm sát nhân dân tỉnh tổ chức thực hiện:", "Giao Sở Tài chính triển khai thực hiện các nội dung sau:"
_ASKED = re.compile(r"^(?:(?:Đề nghị|đề nghị|Giao|giao)(?:\s+cho)?\s+)?(?P<who>.+?)\s+(?:tổ chức|triển khai|chỉ đạo)?\s*thực hiện"
                    r"(?:\s+(?:tốt\s+)?(?:các|những)\s+(?:nội dung|nhiệm vụ)(?:\s+sau)?)?\s*:?\s*$")
# "Trách nhiệm của X:", and the duties of a body a Quyết định sets up: "Điều 2. Nhiệm vụ của Ban Chỉ đạo:",
# "Nhiệm vụ, quyền hạn của Tổ công tác"
_RESP_OF = re.compile(r"(?:^|\b)(?:trách nhiệm|nhiệm vụ(?:,?\s+(?:và\s+)?quyền hạn)?|quyền hạn)(?:\s+(?:chung|cụ thể))?"
                      r"\s+của\s+(?P<who>.+?)\s*:?\s*$", re.I)
_GIAO = re.compile(r"^(?:Giao|giao)(?:\s+cho)?\s+(?P<who>.+)$")
_DECL = re.compile(r"^(?:Cơ quan|Đơn vị|cơ quan|đơn vị)\s+(?P<role>chủ trì|phối hợp|thực hiện)(?:\s+thực hiện)?\s*:\s*(?P<who>.+?)\.?$")
_FRONT = re.compile(r"^(?:Căn cứ|Trên cơ sở|Bên cạnh|Đồng thời|Ngoài ra|Sau khi|Trong quá trình|Trong đó|Trong thời hạn|Chậm nhất|Theo(?! dõi)|Để)\b")
# a plan's defined short name for the list of bodies before it: "các sở, ban, ngành, ..., tổ chức Hội (sau đây
# viết tắt là cơ quan, đơn vị)" (SPEC: "a plan's defined short name may be resolved")
_SHORT_NAME = re.compile(r"\s*\((?:sau đây|dưới đây)?\s*(?:gọi|viết)\s+tắt\s+là\s+(?P<short>[^()]{2,60}?)\s*\)")
# "phối hợp với X", "phối hợp cùng X", and "phối hợp X" (no preposition, the body right after: "Phối hợp
# UBND các xã, phường cập nhật ..."; starts_with_body decides)
_SUPPORT = re.compile(r"(?:phối hợp|Phối hợp)(?:\s+(?:chặt chẽ|thường xuyên|tốt))?\s+(?:(?:với|cùng)\s+)?")
_SUPPORT_OF = re.compile(r"với sự phối hợp của\s+")
def _posts_table() -> str:
    """body_posts.tsv as alternatives: the post, then the body heads it may stand before."""
    alts = []
    for post, heads in rows("body_posts.tsv"):
        nxt = "|".join(re.escape(h) + r"\b" for h in heads.split("|"))
        alts.append(re.escape(post) + r"\s+(?=" + nxt + ")")
    return "".join("|" + a for a in alts)


# a post as the subject of a sentence ("Giám đốc Sở Tài chính chủ trì ...") stands for its body; body_posts.tsv
_PERSON_ROLE = re.compile(r"^(?:(?:Người đứng đầu|người đứng đầu|Thủ trưởng|thủ trưởng|Trưởng|Chủ tịch|Giám đốc|Lãnh đạo các)\b"
                          + _posts_table() + ")")
# after a fronted clause a body may open in lower case ("Trong thời hạn 10 ngày ..., cơ quan bảo hiểm xã hội
# chi trả ...") when an action follows it
_FRONTED_LOWER_HEADS = re.compile(r"^(?:cơ quan|đơn vị|ủy ban nhân dân|chính quyền|các\s+(?:sở|cơ quan|đơn vị|bộ|ngành|cấp|địa phương))[\s,]")
# a colon after these words opens a list or an example, not the owner's action
_LIST_INTRO = re.compile(r"(?:\bnhư|\bgồm|\bsau|\blà|\bcụ thể|\bvào)\s*$", re.I)
# the word that opens a list of the members after a body's name ("các cơ sở đào tạo trọng điểm gồm: ...")
_LIST_WORD_END = re.compile(r"\s+(?:bao\s+)?gồm\s*$")
_UPPER_WORDS = re.compile(r"[A-ZĐÀ-Ỹ]{2,}")
# compiled once (a pattern string given to re.split/re.match at run time costs a cache look-up a call)
_FOR = re.compile(r"^(?:Đối với|đối với)\s+(?P<who>.+?):?$")
_SEMICOLON = re.compile(r"\s*;\s*")
_COMMA = re.compile(r",\s+")
_CLAUSE_BREAK = re.compile(r"[,;]\s+")
_JOINED_END = re.compile(r"(?:,|\svà)\s*$")
_PASSIVE_END = re.compile(r"\s(?:được|bị)$")
_GENERIC_START = re.compile(r"(?:các|tất cả)\s", re.I)
_LISTED = re.compile(r"[,;]|\svà\s")
_PHRASE_END = re.compile(r"[.;:()]")


def _sentence_case(s: str) -> str:
    if sum(1 for c in s if c.isupper()) > 0.6 * max(1, sum(1 for c in s if c.isalpha())):
        s = s.lower()
    return s


@lru_cache(maxsize=1)
def _time_rx() -> re.Pattern:
    return re.compile(r"\s+(?:" + word_alternation("owner_words.tsv", "time") + r")(?![\wÀ-ỹđ])", re.I)


def _before_time(who: str) -> str:
    """A heading's subject without the time adverbial between it and "có trách nhiệm" (owner_words.tsv time)."""
    m = _time_rx().search(who)
    return who[:m.start()] if m and starts_with_body(who[:m.start()]) else who


def heading_owner(text: str) -> list[str]:
    """Owners a heading gives to the items under it ("a) Sở Nội vụ có trách nhiệm:",
    "2.2. Văn phòng UBND tỉnh", "1. Trách nhiệm của các cơ quan ...", "Giao X:")."""
    t = _owner_heading_text(text)
    m = _RESP.match(t) if "trách nhiệm" in t else None      # (the words each pattern needs)
    if m and starts_with_body(m.group("who")):
        return bodies(_before_time(m.group("who")))
    asked = _ASKED.match(t)
    if asked:
        # "2. Đề nghị Giám đốc Công an tỉnh, Viện trưởng Viện kiểm sát nhân dân tỉnh, ... tổ chức thực hiện:"
        # (Chỉ thị): the posts as written (a post heads its body's duties), or the bodies
        who = asked.group("who")
        posts = [p.strip() for p in _NEXT_POST.split(who)]
        if len(posts) > 1 and all(_ROLE.match(p) and is_body_phrase(_strip_role(p), 24) for p in posts):
            return _as_posts(posts)
        if is_body_phrase(who, 24) or (_ROLE.match(who) and is_body_phrase(_strip_role(who), 24)):
            return _as_posts([who]) if _ROLE.match(who) else bodies(who)
    lead = _LEADS.match(t) if "chủ trì" in t else None
    if lead and is_body_phrase(lead.group("who"), 24):
        # "2. Sở Công Thương chủ trì, phối hợp thực hiện:" heads the duties of its body (Chỉ thị)
        return bodies(lead.group("who"))
    if m and ", " in m.group("who"):
        # a fronted clause before the owner: "Định kỳ hằng năm và khi có yêu cầu, Bộ Công an có trách nhiệm:"
        last = m.group("who").rsplit(", ", 1)[1]
        if is_body_phrase(last):
            return bodies(last)
    m = _RESP_OF.search(t)
    if m:
        who = _sentence_case(m.group("who")).strip(" :")
        if starts_with_body(who):
            return bodies(who)
    m = _GIAO.match(t)
    if m and t.endswith(":"):
        # "Giao Sở X:" names the owner; "Giao Sở X chủ trì, phối hợp với Y thực hiện các nhiệm vụ sau:" too,
        # up to its verb (the support is read by support_in)
        who = m.group("who").rstrip(":")
        return bodies(who[:owner_phrase_end(who)])
    m = _FOR.match(t)
    if m and all(is_body_phrase(x) for x in m.group("who").split(";")):
        return bodies(m.group("who"))
    if m and t.endswith(":") and starts_with_body(m.group("who")) and len(m.group("who").split()) <= 30 \
            and not ends_sentence_like(m.group("who")):
        # "Đối với cơ quan quản lý, sử dụng cán bộ, công chức ... :" names whom the items below address,
        # even when the name holds a verb ("quản lý")
        return bodies(m.group("who"))
    body = t.rstrip(":").strip()
    parts = [p for p in _SEMICOLON.split(body) if p]
    if parts and len(body) < 220 and any(_ROLE.match(p) for p in parts) \
            and all(is_body_phrase(_strip_role(p), 24) for p in parts):
        # "1. Thủ trưởng các sở, ban, ngành tỉnh; Chủ tịch UBND các xã, phường": the posts are the owners
        # as written (a post heads its body's list of duties), abbreviations expanded
        return _as_posts(parts)
    if parts and len(body) < 220 and all(is_body_phrase(p, 24) for p in parts):
        return bodies(body)
    return []


def _as_posts(parts: list[str]) -> list[str]:
    out: list[str] = []
    for p in parts:
        m = _ROLE.match(p.strip())
        if not m:
            out.extend(b for b in bodies(p) if b not in out)
            continue
        role = p.strip()[:m.end()].strip()
        rest = bodies(p.strip()[m.end():])
        if rest:
            name = role[0].upper() + role[1:] + " " + rest[0][0].lower() + rest[0][1:] \
                if rest[0].startswith(("Các ", "Tất cả")) else role[0].upper() + role[1:] + " " + rest[0]
            if name not in out:
                out.append(name)
            out.extend(b for b in rest[1:] if b not in out)
    return out


_REQUEST = re.compile(r"^(?:Đề nghị|đề nghị|Kính đề nghị)\s+(?=\S)")
# "Yêu cầu X ..." asks body X as "Đề nghị X" does, but only before a body ("Yêu cầu 100% hồ sơ ..." is a target)
_REQUIRE = re.compile(r"^(?:Yêu cầu|yêu cầu)\s+(?=\S)")


def _unrequest(text: str, require: bool = False) -> str:
    """Drop "Đề nghị" before the bodies asked; with ``require``, "Yêu cầu" too (a heading or a label
    "Yêu cầu Công an tỉnh:"; in a sentence "Yêu cầu các Bộ ... cung cấp" may be a power of the subject)."""
    m = _REQUEST.match(text)        # anchored: at the start only
    t = text[m.end():] if m else text
    m = _REQUIRE.match(t) if require else None
    if m and starts_with_body(t[m.end():]):
        t = t[m.end():]
    return t
# a closing parenthesis after a body's name lists its members or examples, not more owners
_GLOSS = re.compile(r"\s*\([^()]*\)\s*:?\s*$")
_ROLE_NOTE = re.compile(r"\s*\((?:cơ quan|đơn vị)\s+(?:chủ trì|thường trực|đầu mối|phối hợp)[^()]*\)\s*(?=:?\s*$)", re.I)


def strip_request(text: str) -> str:
    """'Đề nghị Ủy ban MTTQ tỉnh ...' -> 'Ủy ban MTTQ tỉnh ...' (the bodies asked)."""
    return _unrequest(text.strip())


def _owner_heading_text(text: str) -> str:
    """'Đề nghị Ủy ban MTTQ tỉnh và ...:' -> the bodies asked; 'Sở Tài chính (cơ quan chủ trì)' -> 'Sở Tài chính'."""
    t = text.strip().rstrip("*").strip()
    t = _unrequest(t, require=True)
    t = (_ROLE_NOTE.sub("", t) if "(" in t else t).strip()
    m = _GLOSS.search(t) if ")" in t else None
    if m and is_body_phrase(t[:m.start()], 24):
        t = t[:m.start()]   # "Các chủ rừng là tổ chức (các Ban quản lý rừng ..., các Công ty ...)": examples
    return t


def part_heading_owner(text: str) -> list[str]:
    """A sub-heading of a part that assigns the work (TỔ CHỨC THỰC HIỆN, PHÂN CÔNG ...) that is a noun
    phrase naming bodies ("5. Các doanh nghiệp hoạt động trong lĩnh vực ... trên địa bàn Tỉnh",
    "IV.4 Các tổ chức, cá nhân liên quan"): the owners of the items under it."""
    t = _owner_heading_text(text).rstrip(":").strip()
    if not t or ends_sentence_like(t) or len(t.split()) > 30 or not starts_with_body(t):
        return []
    return bodies(t)


def ends_sentence_like(t: str) -> bool:
    return t.endswith((".", ";", "!", "?"))


def owner_declaration(text: str) -> Optional[tuple[str, list[str]]]:
    """'Cơ quan chủ trì: Phòng Nội vụ.' -> ('lead', [...]); 'Cơ quan phối hợp: ...' -> ('support', [...])."""
    m = _DECL.match(text.strip())
    if not m:
        return None
    role = "support" if m.group("role") == "phối hợp" else "lead"
    return role, bodies(m.group("who"))


_BRACKETED = re.compile(r"\s*\([^()]{0,120}\)")


# the text before a list entry opens the list of partners of the clause it is in: "phối hợp (với|cùng) ..."
# with no clause break (";", ":", ".") after it
_PARTNER_LIST = re.compile(r"(?<![\wÀ-ỹđ])phối hợp(?:\s+(?:với|cùng))?\s[^;:.]*$", re.I)


_DASH = re.compile(r"\s[-–]\s")
_AFTER_DASH = re.compile(r"\s*[-–]\s+(?=\S)")


@lru_cache(maxsize=256)
def _standard_name_end(seg: str) -> int:
    """Where the standard body name ``seg`` opens with (after a post, if any) ends; 0 when it opens with none."""
    from kehoach.extract.nlp import body_at_start
    bare = _strip_role(seg)
    named = body_at_start(bare)
    return len(seg) - len(bare) + named if named else 0


def _is_apposition(seg: str, at: int) -> bool:
    """A dash at ``at`` and what it says the body is: a lower-case phrase, or "Cơ quan ..." / "Đơn vị ..."."""
    m = _AFTER_DASH.match(seg, at)
    return m is not None and (seg[m.end()].islower() or seg[m.end():].lower().startswith(("cơ quan", "đơn vị")))


def leading_owner(text: str) -> tuple[list[str], bool]:
    """Owners named at the start of a task's own text.

    Returns (bodies, is_person_role): "Giao X ...", "X: ...", "X chủ trì ...",
    "Sở Tư pháp tăng cường ...", "Căn cứ ..., các cơ quan, đơn vị chủ động ...".
    ``is_person_role`` is True for "Người đứng đầu các đơn vị ...", "Thủ trưởng ..."
    (a heading owner, when there is one, is preferred to those)."""
    t = _unrequest(text.strip())
    m = _GIAO.match(t)
    if m:
        rest = m.group("who")
        end = owner_phrase_end(rest)
        cand = _LIST_WORD_END.sub("", rest[:end].strip(" ,"))   # "Giao các cơ sở đào tạo trọng điểm gồm: A, B ..."
        if starts_with_body(cand) or starts_with_body(strip_leader(cand)):
            # "Giao Giám đốc Sở Tài chính chủ trì ...": the post stands for its body (bodies() drops it)
            return bodies(cand), False
    # "X: action" with X a list of bodies, or "..., X: action" with X the last body before the colon
    colon = t.find(":")
    if 0 < colon < 260:
        # a note in brackets is no part of the list ("Sở Nông nghiệp và Phát triển nông thôn (Cơ quan Thường
        # trực về Phòng, chống thiên tai): Phối hợp ...")
        pre = _BRACKETED.sub("", _unrequest(t[:colon].strip(), require=True))
        parts = [p for p in _SEMICOLON.split(pre) if p]
        if parts and all(is_body_phrase(p, 24) or is_body_phrase(_strip_role(p), 24)
                         or (starts_with_body(p) and len(p.split()) <= 6) for p in parts):
            # posts as written ("Chủ tịch UBND các xã, phường: Tổ chức ..."), like the posts of a heading
            return (_as_posts(parts) if any(_ROLE.match(p) for p in parts) else bodies(pre)), False
        last = _COMMA.split(pre)[-1]
        if last != pre and is_body_phrase(last) and not last.lower().startswith(("các", "tất cả")):
            return bodies(last), False
    # subject at the start, possibly after a fronted clause
    starts = [0]
    if _FRONT.match(t):
        # the clause ends at a comma, or at a ';' that does not part two bodies of one subject list
        # ("Căn cứ ... bầu cử Thủ trưởng các cơ quan, đơn vị; Chủ tịch UBND xã, phường hướng dẫn ...")
        starts = [m.end() for m in _CLAUSE_BREAK.finditer(t[:300])
                  if m.group(0)[0] == "," or not is_body_phrase(_strip_role(_CLAUSE_BREAK.split(t[:m.start()])[-1]))]
        # a post opening the subject with no comma before it ("Căn cứ vào ... trong công tác bầu cử Thủ trưởng
        # các cơ quan, đơn vị; Chủ tịch UBND xã, phường hướng dẫn ...")
        starts += [p.end() for p in _POST_START.finditer(t, 0, 300) if p.end() not in starts]
        starts.sort()
    elif 0 < colon < 260 and not _LIST_INTRO.search(t[:colon]):
        # "Tiêu chí thành phần ...: Căn cứ ..., các cơ quan chủ động ..." (not "... như: Tập đoàn X, ...")
        inner, _ = leading_owner(t[colon + 1:])
        if inner:
            return inner, False
    for s in starts:
        if s and _PARTNER_LIST.search(t, 0, s):
            continue   # "..., đồng thời phối hợp với Sở X, Công an tỉnh và ... đảm bảo ...": a partner, not the subject
        lower = bool(s) and not _starts_item(_strip_role(t[s:]))
        if lower and not _FRONTED_LOWER_HEADS.match(t[s:]):
            continue
        seg = _short_named(t[s:])
        if not starts_with_body(_strip_role(seg)):
            continue
        end = owner_phrase_end(seg)
        if end >= len(seg) or len(seg[:end].split()) > 12:
            # no known verb ends the phrase: ask the POS tagger, past the body's head word
            from kehoach.extract.nlp import verb_offset
            head = head_length(_strip_role(seg))
            v = verb_offset(seg, head + (len(seg) - len(_strip_role(seg))))
            # a verb inside the standard name the phrase opens with ("Sở Kế hoạch và Đầu tư - cơ quan thường trực
            # ... giúp ...": "đầu tư" is a verb) is part of the name: the subject's verb comes after it
            if v is not None and v < end and v < _standard_name_end(seg):
                v = verb_offset(seg, _standard_name_end(seg))
            # "trực thuộc" / "ngang bộ" say where or what a body is ("thành phố trực thuộc Trung ương",
            # "cơ quan ngang bộ"), and a word opening the next body of the list ("Ủy ban nhân dân", which the
            # tagger may read as a verb): not the subject's verb; the next verb after them may be
            while v is not None and v < end:
                w = _name_word().match(seg, v)
                if w:
                    v = verb_offset(seg, w.end())
                elif starts_with_body(seg[v:]) and _JOINED_END.search(seg[:v]):
                    v = verb_offset(seg, v + head_length(seg[v:]))
                else:
                    end = v
                    break
        if _DASH.search(seg, 0, end):
            # what a dash adds after the standard name the phrase opens with says what the body is, not who
            # else leads ("Sở Y tế - Cơ quan Thường trực Ban Chỉ đạo tỉnh giúp ...")
            named = _standard_name_end(seg)
            if named and named < end and _is_apposition(seg, named):
                end = named
        cand = seg[:end].strip(" ,")
        if not cand or not _subject_size_ok(cand) or end >= len(seg):
            continue
        rel = _relative_clause().match(seg, end)
        if rel and len(seg[:rel.end()].split()) <= 20:
            cand = seg[:rel.end()].strip(" ,")   # "Tất cả lực lượng, phương tiện tham gia thực hiện Kế hoạch này phải ..."
        if lower and not seg[end:].lstrip().lower().startswith(_action_verbs()):
            continue   # "..., cơ quan trung ương để thực hiện ...": not the subject of an action
        if _PASSIVE_END.search(cand):
            # "Doanh nghiệp dịch vụ được hỗ trợ ...": a passive statement, the subject is not an actor
            continue
        person = bool(_PERSON_ROLE.match(cand))
        posts = [p.strip() for p in _NEXT_POST.split(cand) if p.strip()]
        if person and len(posts) > 1 and all(_ROLE.match(p) and is_body_phrase(_strip_role(p), 24) for p in posts):
            # a list of posts as the subject: the posts as written, as in a heading
            return _as_posts(posts), person
        if person:
            # a post as the subject of a sentence stands for its body ("Thủ trưởng các đơn vị ... tập trung
            # quán triệt" -> "Các đơn vị", as the seeds' gold has it); a heading's owner is preferred to it
            cand = _strip_role(cand)
        if starts_with_body(cand):
            return bodies(cand), person
    inner = _clause_lead(t)
    if inner:
        return inner, True   # a later clause's subject: a heading's owner, when there is one, is preferred
    return [], False


# a later clause that names who leads or who works with whom: "...; đồng thời, ngành Thuế phối hợp chặt chẽ
# với các ngành, các cấp thực hiện ..."
_CLAUSE_START = re.compile(r"(?:;|\.)\s+(?:(?:đồng thời|Đồng thời|trong đó|Trong đó|riêng|Riêng)\s*,?\s+"
                           r"|(?:Khuyến khích|Đề nghị|Yêu cầu)\s+)?"
                           r"|,\s+(?:đồng thời|trong đó|riêng)\s*,?\s+")
_LEAD_VERB = re.compile(r"\s*(?:chủ trì|phối hợp(?:\s+(?:chặt chẽ|thường xuyên|tốt))?\s+(?:với|cùng))\b")


SUBJECT_MAX_WORDS = 20        # one body named as a subject
SUBJECT_LIST_MAX_WORDS = 48   # a list of bodies as the subject, each entry a clean body name


def _subject_size_ok(cand: str) -> bool:
    """A subject is at most 20 words, or a longer list of bodies each a clean name ("Các Bộ trưởng, Thủ
    trưởng cơ quan ngang bộ, Thủ trưởng cơ quan thuộc Chính phủ, Chủ tịch Ủy ban nhân dân các tỉnh, ...")."""
    n = len(cand.split())
    if n <= SUBJECT_MAX_WORDS:
        return True
    if n > SUBJECT_LIST_MAX_WORDS:
        return False
    parts = split_bodies(cand)
    return len(parts) > 1 and all(is_body_phrase(_strip_role(p)) or is_body_phrase(p) for p in parts)


@lru_cache(maxsize=1)
def _name_word() -> re.Pattern:
    return re.compile(r"(?i:" + word_alternation("owner_words.tsv", "name_word") + r")(?![\wÀ-ỹđ])")


@lru_cache(maxsize=1)
def _relative_clause() -> re.Pattern:
    """From a subject's end: a relative clause (owner_words.tsv relative) running to a modal (modal), up to
    12 words with no punctuation; the match ends before the modal."""
    return re.compile(r"\s*(?:" + word_alternation("owner_words.tsv", "relative") + r")(?![\wÀ-ỹđ])"
                      r"(?:\s+[^\s,;.:()]+){0,10}?(?=\s+(?:" + word_alternation("owner_words.tsv", "modal")
                      + r")(?![\wÀ-ỹđ]))", re.I)


def _clause_lead(t: str) -> list[str]:
    if t.rstrip().endswith(":"):
        return []
    for m in _CLAUSE_START.finditer(t):
        seg = t[m.end():]
        if not starts_with_body(seg):
            continue
        end = owner_phrase_end(seg)
        cand = seg[:end].strip(" ,")
        if not cand or end >= len(seg) or len(cand.split()) > 12 or not is_body_phrase(cand):
            continue
        generic = bool(_GENERIC_START.match(cand))
        if _LEAD_VERB.match(seg, end) and not generic:
            return bodies(cand)
        if generic and seg[end:].lstrip().lower().startswith(_action_verbs()) \
                and not seg[end:].lstrip().lower().startswith("phối hợp"):
            # "...; các địa phương nghiên cứu, triển khai cơ chế ..." (a generic body working with others
            # is a support, not a lead)
            return bodies(cand)
    return []


def _short_named(seg: str) -> str:
    """'các sở, ban, ngành, ... (sau đây viết tắt là cơ quan, đơn vị) và mọi người dân triển khai ...' ->
    'các cơ quan, đơn vị và mọi người dân triển khai ...': the defined short name stands for the list."""
    m = _SHORT_NAME.search(seg, 0, 400) if "tắt" in seg[:400] else None
    if not m or not starts_with_body(seg) or not _LISTED.search(seg[:m.start()]):
        return seg
    short = m.group("short").strip()
    if seg[:4].lower() == "các " and not short.lower().startswith(("các ", "tất cả")):
        short = seg[:4] + short
    return short + seg[m.end():]


# (not after a word that makes the post an object: "trình ... hoặc Chủ tịch UBND cấp tỉnh quyết định")
_POST_START = re.compile(r"(?<![\wÀ-ỹđ])(?!(?:hoặc|và|của|cho|trình|với|đến|tới|lên|gửi|tại|theo|như|là|hay)\s)"
                         r"[a-zà-ỹđ]+\s+(?=(?:Thủ trưởng|Người đứng đầu|Chủ tịch|Giám đốc)\s)")

_ROLE = re.compile(r"^(?:(?:Chánh Văn phòng|Chánh văn phòng)(?=\s*[,;:]|$)" + _posts_table() + ")")
# a post of the table (or "Chánh Văn phòng" alone) opening a later entry of a list of owners (", Chánh án ...",
# "; Chủ tịch UBND ...", " và Giám đốc ...")
_NEXT_POST = re.compile(r"(?:,|;|\s+và)\s*(?=" + _ROLE.pattern[len("^(?:"):-1] + ")")


def strip_role(s: str) -> str:
    return _strip_role(s)


def _strip_role(s: str) -> str:
    """'Chủ tịch UBND các xã' -> 'UBND các xã': a post standing for its body."""
    return _drop_head(_ROLE, s.strip())   # anchored: at the start only


def support_in(text: str) -> list[str]:
    """'... chủ trì, phối hợp với Sở Nội vụ, Sở Tài chính và các cơ quan liên quan tham mưu ...' -> support."""
    out: list[str] = []
    for rx in (_SUPPORT, _SUPPORT_OF):
        for m in rx.finditer(text):
            rest = text[m.end():]
            if not starts_with_body(rest):
                continue
            end = owner_phrase_end(rest)
            seg = rest[:end]
            seg = _PHRASE_END.split(seg)[0]
            for b in bodies(seg):
                if b not in out:
                    out.append(b)
    return out


# verbs of the stop list that do not make an action: a copula, the past
_NOT_ACTION = frozenset({"là", "đã", "đang"})


@lru_cache(maxsize=1)
def _action_verbs() -> tuple[str, ...]:
    return tuple(sorted((w for k, w in rows("owner_words.tsv") if k == "verb" and w not in _NOT_ACTION),
                        key=len, reverse=True))


def subject_action(text: str) -> bool:
    """Does the text make a named body the subject of an action? "Sở Nội vụ phối hợp với ... báo cáo
    ...", "Khen thưởng cấp Nhà nước: Sở Nội vụ phối hợp ...", "Giấy khen ...: Căn cứ ..., các Sở, ban,
    ngành ... quy định số lượng ...". Not: "Ban Chỉ đạo bầu cử của tỉnh: Không quá 05 cá nhân", "các
    đơn vị được phân công tham gia ..." (passive), "Sở X là cơ quan thường trực"."""
    t = _unrequest(text.strip())
    segs = [t]
    colon = t.find(":")
    if 0 < colon < 200:
        segs.append(t[colon + 1:].strip())
    for seg in list(segs):
        if _FRONT.match(seg):
            segs.extend(seg[m.end():] for m in _COMMA.finditer(seg[:300]))
    for seg in segs:
        core = _strip_role(seg)
        if not starts_with_body(core):
            continue
        end = owner_phrase_end(core)
        if end >= len(core) or core[end] == ":" or not _subject_size_ok(core[:end].strip(" ,")):
            continue
        subject = core[:end].rstrip().lower()
        if subject.endswith((" được", " bị")):
            continue
        if core[end:].lstrip().lower().startswith(_action_verbs()):
            return True
    return False


ACTOR_MAX_WORDS = 6


@lru_cache(maxsize=1)
def _actor_re() -> re.Pattern:
    return re.compile(r"^(?:" + word_alternation("owner_words.tsv", "actor") + r")(?![\wÀ-ỹđ])", re.I)


def actor_action(text: str) -> bool:
    """Does the text open with a party that acts, named by its kind rather than as a body (owner_words.tsv
    actor: "Người sử dụng lao động lập danh sách ...", "Cơ quan điều hành Quỹ lập dự toán ...")? The subject
    runs, with no punctuation and at most ACTOR_MAX_WORDS words, from its head to an action verb; a passive
    ("Người lao động được hỗ trợ ...") is no action."""
    t = text.strip()
    head = _actor_re().match(t)
    if not head:
        return False
    for m in _action_re().finditer(t.lower(), head.end()):
        subj = t[:m.start()].split()
        if len(subj) > ACTOR_MAX_WORDS or re.search(r"[,:;()]", " ".join(subj)):
            return False
        # the head alone is no subject ("Tổ chức kiểm tra liên ngành" opens with the verb "tổ chức"), and a
        # verb inside the subject's name goes on to the next ("Người sử dụng lao động | lập danh sách")
        if len(subj) > len(head.group(0).split()):
            return subj[-1].lower() not in ("được", "bị")
    return False


def opens_with_action(text: str) -> bool:
    """Does the text open with an action verb ("Xây dựng, triển khai ...", "Tổ chức ...", "Chủ trì, ...")?"""
    t = _unrequest(text.strip().lstrip("-+•* ")).lower()
    return t.startswith(_action_verbs()) and not _FRONT.match(text.strip().lstrip("-+•* "))


_RECIPIENT_NOTE = re.compile(r"\s*\((?:để\s+)?(?:b/c|đ/c|p/h|t/h|biết|báo cáo|thực hiện|phối hợp|chỉ đạo)[^()]{0,20}\)", re.I)


def is_body_list(text: str) -> bool:
    """Only names of bodies, as in the recipients list (Nơi nhận: "Các Sở, ban, ngành tỉnh;", "Ban Chỉ
    đạo Quốc gia về PCTT (b/c);"): no action, not a task."""
    t = text.strip()
    t = (_RECIPIENT_NOTE.sub("", t) if "(" in t else t).strip(" ;.,")
    if not t or len(t.split()) > 24:
        return False
    if t != text.strip().strip(" ;.,") and starts_with_body(t):
        return True   # "(b/c)", "(để biết)": a recipient's note
    parts = [p for p in _SEMICOLON.split(t) if p]
    return all(is_body_phrase(p, 24) for p in parts)


@lru_cache(maxsize=1)
def _action_re() -> re.Pattern:
    return fast_compile(r"(?<![\wÀ-ỹđĐ])" + first_letter_alternation(_action_verbs()) + r"(?![\wÀ-ỹđĐ])")


def has_action(text: str) -> bool:
    """Does the text hold an action verb of the owner stop list anywhere?"""
    return _action_re().search(text.lower()) is not None
