"""Render a seed (one paragraph a line, tab tables) as text copied from a web
portal: the letterhead as two columns flattened with lone '|' lines, paragraphs
hard-wrapped at a fixed width, tables one cell a line between '|' lines."""
from __future__ import annotations

import re
import textwrap


def to_web_style(seed: str, width: int = 78, issuer_lines=("ỦY BAN NHÂN DÂN", "TỈNH QUẢNG TRỊ"),
                 cells_layout: str = "cell") -> str:
    lines = seed.split("\n")
    out: list[str] = []
    head_done = False
    i = 0
    # letterhead: issuer | motto, then number | place-date
    number = next((x for x in lines[:10] if x.startswith("Số:")), None)
    date = next((x for x in lines[:10] if re.search(r",\s*ngày", x)), None)
    out += list(issuer_lines) + ["-------", "|", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                                 "---------------", "|"]
    if number:
        out += [number, "|"]
    if date:
        out += [date, "|"]
    out.append("")
    while i < len(lines):
        ln = lines[i]
        if ln in (number, date):
            i += 1
            continue
        if "\t" in ln:
            rows = []
            while i < len(lines) and ("\t" in lines[i] or not lines[i].strip()):
                if lines[i].strip():
                    rows.append(lines[i].split("\t"))
                i += 1
            for r in rows:
                if cells_layout == "cell":
                    for c in r:
                        out += ["|", c.strip() or " "]
                else:
                    out += ["|"] + [c.strip() or "-" for c in r]
            out += ["|", ""]
            continue
        if not ln.strip():
            out.append("")
        else:
            out += textwrap.wrap(ln, width=width) or [ln]
        i += 1
    return "\n".join(out) + "\n"
