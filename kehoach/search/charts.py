"""Charts of the web page as server-side SVG: pure functions, rows in, an SVG string out.

Three charts, each from the same records the tasks view lists (``SearchDoc``s, already
filtered by ``kehoach.search.tasks.select``):

* ``owner_bars``: tasks per lead body, bodies resolved to one canonical organisation in
  the scope of their plan (``kehoach.corpus.bodies``), the top N; a bar links to the tasks
  view filtered by a spelling of the body, its province and the lead role, which lists
  every task of the bar;
* ``month_bars``: tasks per month of their deadline's last day, the overdue part (as of a
  date) highlighted: every month of the span when it is at most ``MAX_MONTHS`` long, else
  only the months with a deadline, else (more than ``MAX_MONTHS`` of them) by year;
* ``province_bars``: plans per province (plan dicts, as ``/api/plans`` gives them).

Each bar carries the tasks-view filters that list its tasks (``Bar.query``), so the page
links a bar to its rows. The SVG needs no script and no stylesheet (presentation
attributes only, so the page's CSP allows it inline), has a <title>/<desc>, a text label
and the number on every bar, and escapes every text it is given.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import Iterable, Sequence

from kehoach.search.tasks import deadline_end, status_of

MAX_MONTHS = 36
NO_PROVINCE = "Trung ương / không rõ tỉnh"
COLORS = {"bar": "#3b6fb6", "overdue": "#b71c1c", "ink": "#1d1d1f", "muted": "#5f6368", "grid": "#e3e3e3"}


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its parts ((name, count), stacked in order) and the filters listing it."""
    label: str
    parts: tuple[tuple[str, int], ...]
    query: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def value(self) -> int:
        return sum(n for _, n in self.parts)

    def to_dict(self) -> dict:
        return {"label": self.label, "value": self.value, "parts": dict(self.parts), "query": dict(self.query)}


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    bars: tuple[Bar, ...]
    note: str = ""                      # what the chart leaves out, shown under it
    legend: tuple[tuple[str, str], ...] = ()   # (part name, colour)

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "note": self.note,
                "bars": [b.to_dict() for b in self.bars]}


# ---------------------------------------------------------------- data

def _scope(plan: dict):
    from kehoach.corpus.bodies import plan_scope
    return plan_scope(plan.get("issuer"), province=plan.get("province"), plan_id=plan.get("id"))


def owner_bars(docs: Iterable, top: int = 15) -> Chart:
    """Tasks per canonical lead body (generic owners such as "Các sở, ngành" left out), the ``top`` first.

    A bar's filters (``Bar.query``: a spelling, the plans' province, the lead role) list every task of
    the bar in the tasks view: the spellings of one body are grouped under the shortest one the others
    contain ("UBND tỉnh" takes "Ủy ban nhân dân tỉnh Quảng Trị"); a spelling no other one contains
    ("Ủy ban nhân dân các xã, phường" beside "Ủy ban nhân dân xã, phường") is a bar of its own."""
    from kehoach.corpus.bodies import resolve
    from kehoach.search.tasks import owner_key
    from kehoach.search.who import is_owner
    spell: dict[tuple, dict[str, set]] = {}      # (body key, province) -> spelling -> task keys
    labels: dict[tuple, str] = {}
    scopes: dict = {}
    generic = 0
    for d in docs:
        plan = d.plan or {}
        pid = plan.get("id")
        if pid not in scopes:
            scopes[pid] = _scope(plan)
        for name in d.lead:
            if not is_owner(name):
                continue
            ref = resolve(name, scopes[pid])
            if ref.kind == "generic":
                generic += 1
                continue
            g = (ref.key, (plan.get("province") or ref.province) if ref.province else None)
            spell.setdefault(g, {}).setdefault(ref.surface, set()).add(d.key)
            labels.setdefault(g, ref.label)
    groups = []                                   # (label, representative spelling, province, task keys)
    for g, by_name in spell.items():
        subs: list[tuple[str, str, set]] = []     # (owner key, spelling, task keys), shortest first
        for name in sorted(by_name, key=lambda n: (len(owner_key(n)), n)):
            k = owner_key(name)
            home = next((s for s in subs if s[0] in k), None)
            if home is None:
                subs.append((k, name, set(by_name[name])))
            else:
                home[2].update(by_name[name])
        for _, name, keys in subs:
            groups.append((labels[g] if len(subs) == 1 else f"{name} ({g[1]})" if g[1] else name, name, g[1], keys))
    groups.sort(key=lambda x: (-len(x[3]), x[0]))
    bars = []
    for label, name, province, keys in groups[:max(0, top)]:
        q = {"owner": name, "role": "lead"}
        if province:
            q["province"] = province
        bars.append(Bar(label, (("Chủ trì", len(keys)),), q))
    hidden = len(groups) - len(bars)
    note = f"{len(groups)} cơ quan chủ trì" + (f", {hidden} cơ quan không hiện" if hidden else "")
    if generic:
        note += f"; {generic} lần giao cho nhóm chung (“các sở, ngành…”) không tính"
    return Chart("owners", "Số nhiệm vụ theo cơ quan chủ trì", tuple(bars), note)


def _month_key(d: date, by_year: bool) -> str:
    return f"{d.year:04d}" if by_year else f"{d.year:04d}-{d.month:02d}"


def _period(key: str) -> tuple[date, date]:
    if len(key) == 4:
        y = int(key)
        return date(y, 1, 1), date(y, 12, 31)
    y, m = int(key[:4]), int(key[5:7])
    return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])


def _months_between(a: date, b: date) -> list[str]:
    out, y, m = [], a.year, a.month
    while (y, m) <= (b.year, b.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_bars(docs: Iterable, as_of: date, within: int = 30) -> Chart:
    """Tasks per month (or year) of their deadline's last day; the overdue part as of ``as_of``."""
    ends: list[tuple[date, bool]] = []
    undated = 0
    for d in docs:
        end = deadline_end(d.deadline)
        if end is None:
            undated += 1
            continue
        ends.append((end, status_of(d.deadline, as_of, within) == "overdue"))
    if not ends:
        return Chart("deadlines", "Nhiệm vụ theo tháng đến hạn", (), f"{undated} nhiệm vụ không có hạn cụ thể")
    lo, hi = min(e for e, _ in ends), max(e for e, _ in ends)
    months = _months_between(lo, hi)
    used = sorted({_month_key(e, False) for e, _ in ends})
    by_year = len(used) > MAX_MONTHS
    if by_year:
        keys = [str(y) for y in range(lo.year, hi.year + 1)]
    else:                                   # every month of the span, or only the months with a deadline
        keys = months if len(months) <= MAX_MONTHS else used
    over = dict.fromkeys(keys, 0)
    rest = dict.fromkeys(keys, 0)
    for end, is_over in ends:
        (over if is_over else rest)[_month_key(end, by_year)] += 1
    bars = []
    for k in keys:
        a, b = _period(k)
        label = k if by_year else f"{k[5:7]}/{k[:4]}"
        bars.append(Bar(label, (("Quá hạn", over[k]), ("Chưa quá hạn", rest[k])),
                        {"deadline_from": a.isoformat(), "deadline_to": b.isoformat(), "as_of": as_of.isoformat()}))
    n_over = sum(over.values())
    note = (f"tính đến {as_of:%d/%m/%Y}: {n_over} quá hạn trên {len(ends)} nhiệm vụ có hạn"
            + (f"; {undated} nhiệm vụ thường xuyên hoặc không có hạn cụ thể" if undated else ""))
    title = "Nhiệm vụ theo năm đến hạn" if by_year else "Nhiệm vụ theo tháng đến hạn"
    return Chart("deadlines", title, tuple(bars), note,
                 (("Quá hạn", COLORS["overdue"]), ("Chưa quá hạn", COLORS["bar"])))


def province_bars(plans: Iterable[dict]) -> Chart:
    """Plans per province (a central or unknown issuer counted under ``NO_PROVINCE``)."""
    from kehoach.search.hybrid import province_of
    counts: dict[str, int] = {}
    for p in plans:
        prov = p.get("province") or province_of(p.get("issuer")) or NO_PROVINCE
        counts[prov] = counts.get(prov, 0) + 1
    ranked = sorted(counts, key=lambda k: (k == NO_PROVINCE, -counts[k], k))
    bars = tuple(Bar(k, (("Văn bản", counts[k]),), {} if k == NO_PROVINCE else {"province": k}) for k in ranked)
    return Chart("provinces", "Số văn bản theo tỉnh/thành phố", bars, f"{sum(counts.values())} văn bản")


# ---------------------------------------------------------------- SVG

def _e(s) -> str:
    return escape(str(s), quote=True)


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[:n - 1] + "…"


def _href(base: str, query: dict) -> str:
    from urllib.parse import urlencode
    return base + "?" + urlencode(query) if query else base


def _open(width: int, height: int, chart: Chart, desc: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-{chart.name}-title chart-{chart.name}-desc" '
            f'class="chart" data-chart="{_e(chart.name)}" font-family="system-ui, \'Noto Sans\', Arial, sans-serif">',
            f'<title id="chart-{chart.name}-title">{_e(chart.title)}</title>',
            f'<desc id="chart-{chart.name}-desc">{_e(desc)}</desc>',
            f'<text x="8" y="20" font-size="15" font-weight="bold" fill="{COLORS["ink"]}">{_e(chart.title)}</text>']


def _legend(chart: Chart, x: int, y: int) -> list[str]:
    out = []
    for name, colour in chart.legend:
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{x + 16}" y="{y}" font-size="12" fill="{COLORS["ink"]}">{_e(name)}</text>')
        x += 30 + 8 * len(name)
    return out


def _empty(chart: Chart, width: int) -> str:
    out = _open(width, 70, chart, "Không có dữ liệu. " + chart.note)
    out.append(f'<text x="8" y="48" font-size="13" fill="{COLORS["muted"]}">Không có nhiệm vụ nào phù hợp bộ lọc'
               f'{_e(" — " + chart.note) if chart.note else ""}</text></svg>')
    return "".join(out)


def _describe(chart: Chart) -> str:
    return "; ".join(f"{b.label}: {b.value}" for b in chart.bars) + (f". {chart.note}" if chart.note else "")


def hbar_svg(chart: Chart, width: int = 760, link: str = "#/tasks", label_chars: int = 46) -> str:
    """Horizontal bars, one row a bar: label on the left, the number at the bar's end."""
    if not chart.bars:
        return _empty(chart, width)
    row, top, label_w = 24, 34, min(360, 7 * label_chars)
    height = top + row * len(chart.bars) + 30
    vmax = max(b.value for b in chart.bars) or 1
    plot_w = width - label_w - 50
    out = _open(width, height, chart, _describe(chart))
    for i, b in enumerate(chart.bars):
        y = top + i * row
        out.append(f'<a href="{_e(_href(link, b.query))}" class="bar-link"><g class="bar" data-label="{_e(b.label)}" '
                   f'data-value="{b.value}"><title>{_e(b.label)}: {b.value}</title>')
        out.append(f'<text x="{label_w - 6}" y="{y + 16}" font-size="12" text-anchor="end" fill="{COLORS["ink"]}">'
                   f'{_e(_clip(b.label, label_chars))}</text>')
        x = label_w
        for (name, n), colour in zip(b.parts, _part_colours(chart, b)):
            w = round(plot_w * n / vmax, 1)
            if n:
                out.append(f'<rect x="{x}" y="{y + 4}" width="{w}" height="{row - 8}" fill="{colour}" '
                           f'data-part="{_e(name)}" data-count="{n}"/>')
            x += w
        out.append(f'<text x="{x + 5}" y="{y + 16}" font-size="12" fill="{COLORS["ink"]}" class="count">{b.value}</text>'
                   f'</g></a>')
    if chart.note:
        out.append(f'<text x="8" y="{height - 10}" font-size="11" fill="{COLORS["muted"]}">{_e(chart.note)}</text>')
    out.append("</svg>")
    return "".join(out)


def _part_colours(chart: Chart, bar: Bar) -> list[str]:
    legend = dict(chart.legend)
    return [legend.get(name, COLORS["bar"]) for name, _ in bar.parts]


def column_svg(chart: Chart, width: int = 760, link: str = "#/tasks") -> str:
    """Vertical stacked columns (the first part at the bottom), the number above each column."""
    if not chart.bars:
        return _empty(chart, width)
    n = len(chart.bars)
    left, top, bottom = 34, 58, 76
    plot_h = 200
    col = max(14.0, min(48.0, (width - left - 10) / n))
    width = max(width, int(left + col * n + 10))
    height = top + plot_h + bottom
    vmax = max(b.value for b in chart.bars) or 1
    out = _open(width, height, chart, _describe(chart))
    out += _legend(chart, 8, 42)
    base = top + plot_h
    out.append(f'<line x1="{left}" y1="{base}" x2="{left + col * n}" y2="{base}" stroke="{COLORS["muted"]}"/>')
    for i, b in enumerate(chart.bars):
        x = left + i * col
        out.append(f'<a href="{_e(_href(link, b.query))}" class="bar-link"><g class="bar" data-label="{_e(b.label)}" '
                   f'data-value="{b.value}"><title>{_e(b.label)}: '
                   f'{_e(", ".join(f"{k} {v}" for k, v in b.parts))}</title>')
        y = base
        for (name, cnt), colour in zip(b.parts, _part_colours(chart, b)):
            h = round(plot_h * cnt / vmax, 1)
            if cnt:
                out.append(f'<rect x="{x + 2:.1f}" y="{y - h:.1f}" width="{col - 4:.1f}" height="{h}" fill="{colour}" '
                           f'data-part="{_e(name)}" data-count="{cnt}"/>')
            y -= h
        if b.value:
            out.append(f'<text x="{x + col / 2:.1f}" y="{y - 4:.1f}" font-size="11" text-anchor="middle" '
                       f'fill="{COLORS["ink"]}" class="count">{b.value}</text>')
        out.append(f'<text x="{x + col / 2:.1f}" y="{base + 8}" font-size="10" text-anchor="end" '
                   f'transform="rotate(-60 {x + col / 2:.1f} {base + 8})" fill="{COLORS["ink"]}">{_e(b.label)}</text>')
        out.append("</g></a>")
    if chart.note:
        out.append(f'<text x="8" y="{height - 6}" font-size="11" fill="{COLORS["muted"]}">{_e(chart.note)}</text>')
    out.append("</svg>")
    return "".join(out)


def render(chart: Chart, width: int = 760) -> str:
    """The chart's SVG: columns for months, horizontal bars otherwise."""
    return column_svg(chart, width) if chart.name == "deadlines" else hbar_svg(chart, width)


def tasks_by_owner_svg(docs: Sequence, top: int = 15) -> str:
    return render(owner_bars(docs, top))


def deadlines_by_month_svg(docs: Sequence, as_of: date) -> str:
    return render(month_bars(docs, as_of))


def plans_by_province_svg(plans: Sequence[dict]) -> str:
    return render(province_bars(plans))

