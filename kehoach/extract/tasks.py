"""Tasks: body items and paragraphs in the parts about tasks (SPEC "What is a
task"), each with owners, deadline, targets, legal references and span.
Table rows are in ``extract/tables.py``.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Optional

from kehoach.extract import owners as own
from kehoach.extract.bodies import kind_of
from kehoach.extract.data import AnyOf, rows
from kehoach.extract.outline import Outline, assigns_owners
from kehoach.models import Deadline, IngestedDocument, Span, Target, Task

@dataclass
class Context:
    doc: IngestedDocument
    plan_year: Optional[int]
    deadline: Callable[..., Optional[Deadline]]      # extract.deadlines.parse_deadline
    target: Optional[Callable[..., Optional[Target]]] = None   # extract.targets.parse_target
    excluded_spans: list[tuple[int, int]] = field(default_factory=list)   # citation spans (absolute)
    plan_date: Optional[str] = None                   # ISO date of the plan, for "100 ngày kể từ ngày ban hành"


@lru_cache(maxsize=1)
def _non_task_patterns() -> AnyOf:
    return AnyOf([r[0] for r in rows("non_tasks.tsv")], re.I)


def is_non_task(text: str) -> bool:
    return _non_task_patterns().search(text.strip())


@lru_cache(maxsize=1)
def _member_list_patterns() -> AnyOf:
    return AnyOf([r[0] for r in rows("member_lists.tsv")], re.I)


def is_member_list_head(text: str) -> bool:
    """A heading or opening line over the members of a board ("Các ủy viên:", "..., gồm các thành viên sau đây:")."""
    if not text.rstrip().endswith(":"):
        return False
    return _member_list_patterns().search(" ".join(text.split()))


@lru_cache(maxsize=1)
def _closing_patterns() -> dict[str, list[re.Pattern]]:
    """``closing_tasks.tsv``: kind ("opener" of a closing paragraph, "report" sentence in it) -> patterns."""
    out: dict[str, list[re.Pattern]] = {"opener": [], "report": []}
    for kind, pat in rows("closing_tasks.tsv"):
        out[kind].append(re.compile(pat, re.I))
    return out


def is_closing(text: str) -> bool:
    """Does the paragraph open a plan's closing ("Trên đây là Kế hoạch ...")?"""
    return any(p.match(text) for p in _closing_patterns()["opener"])


_SENTENCE = re.compile(r"[^.]+(?:\.(?!\d)|$)")


def closing_task(text: str) -> Optional[tuple[str, int, list[str]]]:
    """The recurring report a closing paragraph assigns ("Trên đây là Kế hoạch ... Đề nghị các cơ quan,
    đơn vị nghiêm túc triển khai thực hiện. Định kỳ hằng năm (trước ngày 30 tháng 11) báo cáo kết quả
    ..."): (its sentence, its offset in the text, the bodies the closing addresses), else None."""
    owners: list[str] = []
    for m in _SENTENCE.finditer(text):
        sent = m.group(0).strip()
        if not sent:
            continue
        if m.start() > 0 and "báo cáo" in sent.lower() and any(p.match(sent) for p in _closing_patterns()["report"]):
            return sent, m.start() + (len(m.group(0)) - len(m.group(0).lstrip())), owners
        if m.start() > 0 and not owners:
            owners = own.leading_owner(sent)[0] or []
    return None


@lru_cache(maxsize=1)
def _field_patterns() -> list[tuple[str, re.Pattern]]:
    return [(f, re.compile(r"^\W{0,3}(?:" + lab + r")\W{0,3}\s*:\s*(?P<value>.*)$", re.I | re.S))
            for f, lab in rows("task_fields.tsv") if f != "field"]


def task_field(text: str) -> Optional[tuple[str, str]]:
    """'Thời gian thực hiện: Quý IV/2025' -> ('deadline', 'Quý IV/2025'); 'Đơn vị chủ trì: Sở Nội vụ' ->
    ('lead', 'Sở Nội vụ'); 'Sản phẩm: ...' -> ('product', ...). None for any other line."""
    t = text.strip().replace("*", "")
    if ":" not in t:
        return None                 # every field line has its label's colon
    for f, rx in _field_patterns():
        m = rx.match(t)
        if m:
            return f, m.group("value").strip().rstrip(".;").strip()
    return None


def heading_context(out: Outline, i: int) -> str:
    """The text of the headings above node i, outermost first ("NHIỆM VỤ > Nâng cao Chỉ số PCI")."""
    names = out.__dict__.setdefault("_heading_names", {})   # a heading's text as a context part, once an outline
    parts = []
    for a in out.ancestors(i):
        an = out.nodes[a]
        if an.is_heading:
            t = names.get(a)
            if t is None:
                t = names[a] = " ".join(an.text.replace("*", " ").split()).rstrip(":").strip()
            if t:
                parts.append(t)
    return " > ".join(parts)


def _apply_field(ctx: Context, task: Task, name: str, value: str, start: int) -> None:
    """A field line's value goes into the task above it."""
    if not value:
        return
    if name == "deadline":
        if task.deadline is None or task.deadline.date is None:
            got = _deadline(ctx, value, start, cell=True)
            task.deadline = got or Deadline(text=value, date=None, recurrence=None, day=None)
    elif name == "lead":
        task.lead = own.bodies(value) or task.lead
    elif name == "support":
        task.support = [b for b in own.bodies(value) if b not in task.lead]
    elif name == "product":
        task.product = value


# A heading that is a whole assignment ("Các bộ, ngành, Ủy ban nhân dân tỉnh ... tổ chức thực hiện các
# chủ trương, nhiệm vụ, giải pháp nêu trong Đề án, cụ thể:") is a task, and its owner passes to the items
# below; a short one ("a) Sở Nội vụ có trách nhiệm:") only names the owner.
OWNER_SENTENCE_MIN_WORDS = 8


def _owner_sentence(text: str) -> bool:
    t = text.strip()
    if not t.endswith(":"):
        return False
    mine, _person = own.leading_owner(t)
    if not mine:
        return False
    core = own.strip_role(own.strip_request(t))
    rest = core[own.owner_phrase_end(core):].split()
    # the subject is followed by its verb, not by a preposition ("Các dự án về thể thao ... vào các lĩnh vực:")
    if not rest or rest[0].lower() in _prepositions():
        return False
    return len(rest) >= OWNER_SENTENCE_MIN_WORDS


@lru_cache(maxsize=1)
def _prepositions() -> frozenset:
    return frozenset(w for k, w in rows("owner_words.tsv") if k == "prep")


def _continues_block(doc: IngestedDocument, bi: int, text: str) -> bool:
    """A block that opens in lower case after a block with no closing punctuation is the rest of that
    block, cut by a hard line break before "-" ("Trên đây là Kế hoạch tài chính" / "- ngân sách nhà
    nước 03 năm ..."): not an item of its own."""
    t = text.lstrip()
    if not t[:1].islower() or bi == 0:
        return False
    prev = doc.blocks[bi - 1]
    return prev.kind == "para" and not prev.text.rstrip().endswith((".", ";", ":", "!", "?", "./."))


def _extend(ctx: Context, task: Task, text: str, end: int) -> None:
    task.text = task.text.rstrip() + " " + text.strip()
    if task.span:
        task.span = Span(task.span.start, end, task.span.page)
        if task.deadline is None:
            task.deadline = _deadline(ctx, task.text, task.span.start)


def _introduces_list(text: str) -> bool:
    """A line that ends with ':' and does not open with an action introduces what follows ("Đề nghị Ủy
    ban MTTQ tỉnh và các tổ chức chính trị - xã hội:", "Các dự án quan trọng ... tập trung vào các lĩnh
    vực:", "Lộ trình chung cho việc chuyển đổi ...:"): the items below are the tasks, not this line."""
    t = text.strip().rstrip("*").strip()
    return t.endswith(":") and not own.opens_with_action(t)


# A short line with no action verb at all is a name, a date or a fragment, not a task ("Cảng vụ Hàng hải
# Quảng Ngãi;", "Nguyên đán Nhâm Dần năm 2022."); no gold task of the real plans or the seeds is so.
SHORT_WITHOUT_VERB_WORDS = 10


def _actionable(text: str) -> bool:
    words = len(text.split())
    if words <= SHORT_WITHOUT_VERB_WORDS and not own.has_action(text):
        return False
    if len(text) < 120:
        letters = "".join(filter(str.isalpha, text))
        if letters and sum(map(str.isupper, letters)) > 0.8 * len(letters):
            return False  # an upper-case heading or authority line
    return words >= 4


def _deadline(ctx: Context, text: str, start: int, cell: bool = False) -> Optional[Deadline]:
    excl = [(a - start, b - start) for a, b in ctx.excluded_spans if b > start and a < start + len(text)]
    if ctx.plan_date:
        return ctx.deadline(text, ctx.plan_year, exclude=excl, cell=cell, plan_date=ctx.plan_date)
    return ctx.deadline(text, ctx.plan_year, exclude=excl, cell=cell)


# ---------------------------------------------------------------- body tasks

_ASSIGNS_OWN = re.compile(r"^(?:Giao|Đề nghị|Yêu cầu)\s")

def body_tasks(ctx: Context, out: Outline) -> list[Task]:
    nodes = out.nodes
    tasks: list[Task] = []
    resolved: dict[int, tuple[list[str], list[str]]] = {}   # node -> (lead, support) of a task node
    heading_owners: dict[int, list[str]] = {}                 # node -> owners its heading names (once per node)

    def heading_owner_of(a: int) -> list[str]:
        if a not in heading_owners:
            heading_owners[a] = own.heading_owner(nodes[a].text)
        return heading_owners[a]

    heading_gives: dict[int, Optional[tuple[list[str], list[str]]]] = {}   # heading node -> (lead, support) it gives
    declarations: dict[int, Optional[tuple[str, list[str]]]] = {}          # node -> its owner line, if it is one

    def heading_gives_of(a: int) -> Optional[tuple[list[str], list[str]]]:
        if a in heading_gives:
            return heading_gives[a]
        an = nodes[a]
        got = None
        if an.is_heading:
            h = heading_owner_of(a)
            if not h and an.parent is not None and assigns_owners(nodes[an.parent].text):
                h = own.part_heading_owner(an.text)
            if not h and owner_sentence_at(a):
                h = own.leading_owner(an.text)[0]
            if h:
                # "Giao Sở X chủ trì, phối hợp với Y thực hiện các nhiệm vụ sau:" gives Y to the items too
                got = h, [b for b in own.support_in(an.text) if b not in h]
        heading_gives[a] = got
        return got

    owner_sentences: dict[int, bool] = {}   # heading node -> is it a whole assignment (_owner_sentence)

    def owner_sentence_at(a: int) -> bool:
        if a not in owner_sentences:
            owner_sentences[a] = _owner_sentence(nodes[a].text)
        return owner_sentences[a]

    def declaration_of(c: int) -> Optional[tuple[str, list[str]]]:
        if c not in declarations:
            declarations[c] = own.owner_declaration(nodes[c].text)
        return declarations[c]

    child_declarations: dict[int, list[tuple[int, tuple[str, list[str]]]]] = {}   # node -> its children's owner lines

    def declarations_under(a: int) -> list[tuple[int, tuple[str, list[str]]]]:
        if a not in child_declarations:
            child_declarations[a] = [(c, d) for c in nodes[a].children if (d := declaration_of(c))]
        return child_declarations[a]

    def context_owners(i: int) -> tuple[list[str], list[str]]:
        """Owners from headings and owner lines above node i."""
        lead: list[str] = []
        support: list[str] = []
        for a in out.ancestors(i):
            got = heading_gives_of(a)
            if got:
                lead, support = got
            # owner lines ("* Cơ quan chủ trì: X") among the children of this ancestor, before the path
            for c, decl in declarations_under(a):
                if c >= i:
                    break
                if decl:
                    if decl[0] == "lead":
                        lead = decl[1]
                    else:
                        support = decl[1]
        return lead, support

    intro_cache: dict[int, tuple[list[str], list[str]]] = {}

    def intro_owners(k: int) -> tuple[list[str], list[str]]:
        """Owners an opening paragraph gives the items below it: its own when it is a task, else the
        bodies it names as its subject ("...; các sở, ban, ngành, ... triển khai ..., các nội dung sau:")."""
        if k in resolved:
            return resolved[k]
        if k not in intro_cache:
            t = nodes[k].text
            intro_cache[k] = (own.leading_owner(t)[0], own.support_in(t))
        return intro_cache[k]

    task_at: dict[int, Task] = {}   # node -> its task
    last_task: Optional[int] = None
    member_head: dict[int, bool] = {}
    for i, n in enumerate(nodes):
        if n.zone not in ("task", "provision") and not side_assignment(out, i):
            continue
        if any(member_head[a] if a in member_head else member_head.setdefault(a, is_member_list_head(nodes[a].text))
               for a in out.ancestors(i)):
            continue   # a seat of a board ("- 01 Phó Trưởng ban Ban Tổ chức Trung ương;"), not a task
        if n.kind == "item" and n.mtype[0] in ("roman", "part", "dieu"):
            continue
        field_line = None if n.is_heading else task_field(n.text)
        if field_line is not None:
            # "Thời gian thực hiện: ...", "Đơn vị chủ trì: ..." right after a task (its sibling or its child) are that task's
            above = last_task if last_task is not None and (
                nodes[last_task].parent == n.parent or n.parent == last_task) else None
            if above is not None:
                _apply_field(ctx, task_at[above], field_line[0], field_line[1], n.offset)
                resolved[above] = (task_at[above].lead, task_at[above].support)
            continue
        if (n.is_heading and not owner_sentence_at(i)) or declaration_of(i):
            continue
        text = n.text.strip()
        assignment = n.is_heading  # past the check above, a heading here is a whole assignment (_owner_sentence)
        if not assignment and is_closing(text):
            closing = closing_task(text)
            if closing is not None:
                ctext, cstart, clead = closing
                block = ctx.doc.blocks[n.block]
                task = Task(id="", kind="task", section=n.section, text=ctext, lead=list(clead), support=[],
                            deadline=_deadline(ctx, ctext, n.offset + cstart),
                            span=Span(n.offset + cstart, block.end, block.page), context=heading_context(out, i))
                tasks.append(task)
            continue
        if not text or (is_non_task(text) and not assignment) or not _actionable(text) or own.is_body_list(text):
            continue
        if n.kind == "item" and n.mtype[0] == "num" and not n.children and text.endswith(":"):
            continue
        if not assignment and _introduces_list(text):
            continue
        if _continues_block(ctx.doc, n.block, text):
            # the rest of the block above: of the task above when that block was its own, else nothing
            if last_task is not None and nodes[last_task].block == n.block - 1:
                _extend(ctx, task_at[last_task], text, ctx.doc.blocks[n.block].end)
            continue
        lead, support = context_owners(i)
        # continuation of the owner block of the previous task item under the same parent
        if n.kind == "para":
            prev = _previous_task_sibling(out, i, resolved)
            if prev is not None:
                # the owner block goes on; its support too, unless it was the previous item's own "phối hợp với"
                lead = resolved[prev][0]
                if not own.support_in(nodes[prev].text):
                    support = resolved[prev][1]
        elif n.kind == "item" and n.parent is not None and not nodes[n.parent].is_heading and n.parent in resolved:
            lead = resolved[n.parent][0]
        mine, person = own.leading_owner(text)
        intro = _intro_of(out, i) if n.kind == "item" else None
        if intro is not None and not _ASSIGNS_OWN.match(text):
            # an opening paragraph's owners hold for its items that name none of their own (an item that
            # assigns its own work, "Giao Chánh Thanh tra tỉnh chủ trì ...", does not take them)
            il, isup = intro_owners(intro)
            if il:
                lead, support = il, [b for b in isup if b not in il]
            elif isup:
                support = isup
        generic = bool(mine) and all(kind_of(x) == "generic" for x in mine)
        if mine and not ((person or generic) and lead):
            lead = mine
        sup = own.support_in(text)
        if sup:
            support = [s for s in sup if s not in lead]
        resolved[i] = (lead, support)
        if n.zone == "provision" and not lead and not own.actor_action(text):
            continue       # a rule of a normative text that names no party acting ("Thân huân chương: Hình sao ...")
        block = ctx.doc.blocks[n.block]
        start = n.offset
        end = block.end
        task = Task(id="", kind="task", section=n.section, text=text, lead=list(lead), support=list(support),
                    deadline=_deadline(ctx, text, start), span=Span(start, end, block.page),
                    context=heading_context(out, i))
        tasks.append(task)
        task_at[i] = task
        last_task = i
    return tasks


def _intro_of(out: Outline, i: int) -> Optional[int]:
    """The opening paragraph of the list item ``i`` belongs to: the nearest sibling before it that is not
    an item, when it is a paragraph ending with ':' ("Giao Sở X chủ trì, phối hợp ... thực hiện các nhiệm
    vụ sau:", "Chủ trì, phối hợp với các cơ quan có liên quan tham mưu cho ...:"). Its owners hold for the
    items until the next paragraph or heading."""
    n = out.nodes[i]
    sibs = out.nodes[n.parent].children if n.parent is not None else _roots(out)
    for k in reversed(sibs[:bisect_left(sibs, i)]):
        x = out.nodes[k]
        if x.kind == "item":
            if x.mtype[0] != n.mtype[0]:
                return None
            continue
        if x.is_heading or not x.text.rstrip().rstrip("*").rstrip().endswith(":"):
            return None
        return k
    return None


@lru_cache(maxsize=1)
def _no_task_parts() -> tuple[str, ...]:
    return tuple(r[0] for r in rows("no_task_parts.tsv"))


def _roots(out: Outline) -> list[int]:
    """The nodes with no parent, in order (read once an outline: the siblings of a top-level node)."""
    got = out.__dict__.get("_roots")
    if got is None or got[0] != len(out.nodes):
        got = out.__dict__["_roots"] = (len(out.nodes), [k for k, x in enumerate(out.nodes) if x.parent is None])
    return got[1]


def side_assignment(out: Outline, i: int) -> bool:
    """An item outside the task parts that still assigns work: in a part of its own that is neither a
    purpose, a ground nor the past (no_task_parts.tsv), an item or paragraph whose text makes a named
    body the subject of an action ("Sở Nội vụ phối hợp với ... báo cáo ...", "Giấy khen ...: Căn cứ
    ..., các Sở, ban, ngành ... quy định số lượng khen thưởng theo thẩm quyền"). Criteria, standards
    and lists ending with ':' are not."""
    n = out.nodes[i]
    if n.is_heading or n.kind == "item" and n.mtype[0] in ("roman", "part", "dieu"):
        return False
    # (all tests below must hold; the cheap ones on the text first) a whole part of criteria ("ĐỐI TƯỢNG,
    # NGUYÊN TẮC, ... TIÊU CHUẨN KHEN THƯỞNG" under a task heading is fine)
    t = n.text.strip()
    if t.endswith(":") or len(t.split()) < 8:
        return False
    part = next((a for a in reversed(out.ancestors(i))
                 if out.nodes[a].kind == "item" and out.nodes[a].mtype[0] in ("roman", "part")), None)
    if part is None:
        return False
    no_task = out.__dict__.setdefault("_no_task_part", {})   # a part's heading read once an outline
    if part not in no_task:
        no_task[part] = " ".join(out.nodes[part].text.split()).upper().startswith(_no_task_parts())
    if no_task[part]:
        return False
    return own.subject_action(t)


def _previous_task_sibling(out: Outline, i: int, resolved: dict) -> Optional[int]:
    n = out.nodes[i]
    sibs = out.nodes[n.parent].children if n.parent is not None else _roots(out)
    for k in reversed(sibs[:bisect_left(sibs, i)]):
        if k in resolved:
            return k
        if out.nodes[k].kind == "item":
            return None
    if n.parent is not None and n.parent in resolved:
        return n.parent
    return None
