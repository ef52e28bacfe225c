"""Loading of the data tables in ``kehoach/data`` (TSV, '#' comments), cached."""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Optional


@lru_cache(maxsize=None)
def rows(name: str) -> tuple[tuple[str, ...], ...]:
    text = resources.files("kehoach.data").joinpath(name).read_text("utf-8")
    out = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        out.append(tuple(x.strip() for x in line.split("\t")))
    return tuple(out)


def first_letter_alternation(words, fold: bool = False) -> str:
    """An alternation of ``words`` (their first letter in either case when ``fold``) with the words
    gathered under their first letter, in their order: ``(?:[Ss](?:ở|...)|[Bb](?:an|ộ|...))``. It
    matches as the flat alternation does (words with another first letter cannot match where one
    does), but the engine tests a first letter once per letter, not once per word. For patterns
    compiled without IGNORECASE."""
    words = list(words)
    groups: dict[str, list[str]] = {}
    letters: dict[str, str] = {}          # a letter (either case) -> its group
    for w in words:
        key = f"[{w[0].upper()}{w[0].lower()}]" if fold else re.escape(w[0])
        for ch in ({w[0].upper(), w[0].lower()} if fold else {w[0]}):
            if len(ch) != 1 or letters.setdefault(ch, key) != key:
                # a letter in two groups (a case pair that is not one-to-one): the flat alternation
                return "(?:" + "|".join((f"[{x[0].upper()}{x[0].lower()}]" if fold else re.escape(x[0]))
                                        + re.escape(x[1:]) for x in words) + ")"
        groups.setdefault(key, []).append(re.escape(w[1:]))
    return "(?:" + "|".join(f"{k}(?:{'|'.join(rests)})" for k, rests in groups.items()) + ")"


@lru_cache(maxsize=None)
def table_words(name: str, *kinds: str) -> tuple[str, ...]:
    """The words of table ``name`` whose first column is one of ``kinds``: each once, longest first."""
    return tuple(sorted({r[1] for r in rows(name) if r[0] in kinds}, key=len, reverse=True))


@lru_cache(maxsize=None)
def word_alternation(name: str, *kinds: str) -> str:
    """The words of table ``name`` whose first column is one of ``kinds``, as a regex alternation
    (escaped, each once, longest first so a longer phrase wins over its prefix)."""
    words = sorted({r[1] for r in rows(name) if r[0] in kinds}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in words)


# ------------------------------------------------------------------ faster searches, same matches

def _first_set(items, flags: int, folds: list):
    """The first characters a parsed regex sequence can consume: (class items, can match empty),
    or None when they cannot be told (any character, a negated class, a back-reference).
    Zero-width items (anchors, look-arounds) are skipped over. A case-insensitive group inside
    appends to ``folds``: the class is then tested case-insensitively (a wider test, still true of
    every match)."""
    from re import _constants as c
    out: list[str] = []
    for op, av in items:
        if op is c.LITERAL:
            out.append(re.escape(chr(av)))
            return out, False
        if op is c.IN:
            for iop, iav in av:
                if iop is c.LITERAL:
                    out.append(re.escape(chr(iav)))
                elif iop is c.RANGE:
                    out.append(re.escape(chr(iav[0])) + "-" + re.escape(chr(iav[1])))
                elif iop is c.CATEGORY and iav in _CATEGORIES:
                    out.append(_CATEGORIES[iav])
                else:
                    return None
            return out, False
        if op is c.BRANCH:
            empty = False
            for alt in av[1]:
                got = _first_set(alt, flags, folds)
                if got is None:
                    return None
                out.extend(got[0])
                empty = empty or got[1]
            if not empty:
                return out, False
            continue
        if op is c.SUBPATTERN:
            _group, add, _del, sub = av
            if add & re.IGNORECASE and not flags & re.IGNORECASE:
                folds.append(True)
            got = _first_set(sub, flags, folds)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            lo, _hi, sub = av
            got = _first_set(sub, flags, folds)
            if got is not None and lo == 0:
                got = got[0], True
        elif op is c.ATOMIC_GROUP:
            got = _first_set(av, flags, folds)
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        else:
            return None
        if got is None:
            return None
        out.extend(got[0])
        if not got[1]:
            return out, False
    return out, True


def _categories() -> dict:
    from re import _constants as c
    return {c.CATEGORY_DIGIT: r"\d", c.CATEGORY_NOT_DIGIT: r"\D", c.CATEGORY_SPACE: r"\s",
            c.CATEGORY_NOT_SPACE: r"\S", c.CATEGORY_WORD: r"\w", c.CATEGORY_NOT_WORD: r"\W"}


_CATEGORIES = _categories()


def fast_compile(pattern: str, flags: int = 0) -> re.Pattern:
    """``re.compile(pattern, flags)``, finding the same matches faster when the regex engine has
    no literal prefix or first-character set to skip ahead with (a pattern that opens with an
    optional group, a look-behind or an alternation of groups): a look-ahead for the characters
    a match can start with is put in front, so most positions fail on one character test
    instead of trying every alternative. Matches, spans and groups are unchanged."""
    rx = re.compile(pattern, flags)
    try:
        from re import _compiler, _constants, _parser
        parsed = _parser.parse(pattern, flags)
        if _compiler._get_literal_prefix(parsed, parsed.state.flags)[0] \
                or _compiler._get_charset_prefix(parsed, parsed.state.flags):
            return rx                     # the engine skips ahead on its own
        folds: list = []
        got = _first_set(parsed.data, parsed.state.flags, folds)
    except Exception:                     # another engine version: the plain pattern
        return rx
    if got is None or got[1] or not got[0] or any(x.startswith("\\") and len(x) == 2 for x in got[0]):
        return rx                         # can be empty, or starts with a class as wide as \s, \w, \d
    first = parsed.data[0] if parsed.data else None
    if first is not None and first[0] is _constants.AT and first[1] in (_constants.AT_BEGINNING,
                                                                        _constants.AT_BEGINNING_STRING):
        return rx                         # anchored at the start: tried at one position only
    first = "[" + "".join(dict.fromkeys(got[0])) + "]"
    try:
        heads = _starts(list(parsed.data), 2, parsed.state.flags, folds)
    except RecursionError:
        heads = None
    if heads and "" not in heads and len(heads) <= MAX_HEADS:
        # the first two characters, when they are few: most positions fail sooner still
        first = "|".join(re.escape(h) for h in sorted(heads))
    try:
        return re.compile("(?=" + ("(?i:" + first + ")" if folds else first) + ")(?:" + pattern + ")", flags)
    except re.error:                      # e.g. a global inline flag, which must open the pattern
        return rx


# a look-ahead of more first-two-character strings than this is slower than one character class
MAX_HEADS = 24


def _starts(seq: list, k: int, flags: int, folds: list, depth: int = 0):
    """The strings of at most ``k`` characters that every match of the parsed sequence ``seq`` starts
    with (shorter ones where the match may end or its next character is not one of a few), or None
    when even the first character is not one of a few literal ones."""
    from re import _constants as c
    if depth > 40 or k == 0 or not seq:
        return {""} if depth <= 40 else None
    op, av = seq[0]
    rest = seq[1:]
    if op is c.LITERAL or op is c.IN:
        if op is c.LITERAL:
            chars = [chr(av)]
        else:
            chars = []
            for iop, iav in av:
                if iop is c.LITERAL:
                    chars.append(chr(iav))
                elif iop is c.RANGE and iav[1] - iav[0] < 10:
                    chars.extend(chr(x) for x in range(iav[0], iav[1] + 1))
                else:
                    return None
            if len(chars) > 10:
                return None
        tail = _starts(rest, k - 1, flags, folds, depth + 1) or {""}
        return {ch + t for ch in chars for t in tail}
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
        return _starts(rest, k, flags, folds, depth + 1)
    if op is c.SUBPATTERN:
        _group, add, _del, sub = av
        if add & re.IGNORECASE and not flags & re.IGNORECASE:
            folds.append(True)
        return _starts(list(sub) + rest, k, flags, folds, depth + 1)
    if op is c.ATOMIC_GROUP:
        return _starts(list(av) + rest, k, flags, folds, depth + 1)
    if op is c.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            got = _starts(list(alt) + rest, k, flags, folds, depth + 1)
            if got is None:
                return None
            out |= got
        return out if len(out) <= 4 * MAX_HEADS else None
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        lo, hi, sub = av
        if hi == 0:
            return _starts(rest, k, flags, folds, depth + 1)
        again = [(op, (max(lo - 1, 0), hi if hi is c.MAXREPEAT else hi - 1, sub))]
        once = _starts(list(sub) + again + rest, k, flags, folds, depth + 1)
        if once is None or lo > 0:
            return once
        skip = _starts(rest, k, flags, folds, depth + 1)
        return None if skip is None else once | skip
    return None


class AnyOf:
    """A list of patterns tried as one: ``search(text)`` is true when any of them is found in
    ``text`` (as ``any(re.search(p, text, flags) for p in patterns)``), with one call into the regex
    engine per kind: the patterns anchored at the start ("^...") in one alternation tried at
    position 0 only, the others in one alternation searched."""

    def __init__(self, patterns, flags: int = 0) -> None:
        patterns = list(patterns)
        anchored, floating = [], []
        for p in patterns:
            (anchored if _anchored(p, flags) else floating).append(p)
        self.each: Optional[list[re.Pattern]] = None
        try:
            if any(_has_backref(p, flags) for p in patterns):
                raise re.error("a back-reference: group numbers would shift")
            self.anchored = re.compile("|".join(f"(?:{p})" for p in anchored), flags) if anchored else None
            self.floating = re.compile("|".join(f"(?:{p})" for p in floating), flags) if floating else None
        except re.error:                  # (a global inline flag, a group name twice): one by one
            self.anchored = self.floating = None
            self.each = [re.compile(p, flags) for p in patterns]

    def search(self, text: str) -> bool:
        if self.each is not None:
            return any(p.search(text) for p in self.each)
        return (self.anchored is not None and self.anchored.match(text) is not None) \
            or (self.floating is not None and self.floating.search(text) is not None)


def _has_backref(pattern: str, flags: int) -> bool:
    """Does the pattern refer back to a group (``\\1``, ``(?P=name)``, ``(?(1)...)``)?"""
    from re import _constants as c, _parser

    def walk(items) -> bool:
        for op, av in items:
            if op in (c.GROUPREF, c.GROUPREF_EXISTS):
                return True
            for x in (av if isinstance(av, (list, tuple)) else (av,)):
                if isinstance(x, _parser.SubPattern) and walk(x):
                    return True
                if isinstance(x, (list, tuple)) and any(isinstance(y, _parser.SubPattern) and walk(y) for y in x):
                    return True
        return False
    return walk(_parser.parse(pattern, flags))


def _anchored(pattern: str, flags: int) -> bool:
    """Can the pattern match only at the very start of the text (a leading '^' over the whole of it)?"""
    from re import _constants, _parser
    parsed = _parser.parse(pattern, flags)
    if parsed.state.flags & re.MULTILINE or not parsed.data:
        return False
    op, av = parsed.data[0]
    return op is _constants.AT and av in (_constants.AT_BEGINNING, _constants.AT_BEGINNING_STRING)


def needs_digit(pattern: str, flags: int = 0) -> bool:
    """Does every match of the pattern need a digit (``\\d``) somewhere in the text (in the match or
    in a look-around)? Then a text with no digit cannot match it, and the search can be skipped.
    False when it cannot be told."""
    try:
        from re import _parser
        return _holds_digit(_parser.parse(pattern, flags).data)
    except Exception:
        return False


def _holds_digit(items) -> bool:
    """A parsed sequence: does one of its mandatory items need a digit?"""
    return any(_item_holds_digit(op, av) for op, av in items)


def _item_holds_digit(op, av) -> bool:
    from re import _constants as c
    if op is c.LITERAL:
        return chr(av) in "0123456789"
    if op is c.IN:
        return bool(av) and all(
            (iop is c.LITERAL and chr(iav) in "0123456789")
            or (iop is c.RANGE and "0" <= chr(iav[0]) and chr(iav[1]) <= "9")
            or (iop is c.CATEGORY and iav is c.CATEGORY_DIGIT) for iop, iav in av)
    if op is c.BRANCH:
        return all(_holds_digit(alt) for alt in av[1])
    if op is c.SUBPATTERN:
        return _holds_digit(av[3])
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        return av[0] >= 1 and _holds_digit(av[2])
    if op is c.ATOMIC_GROUP:
        return _holds_digit(av)
    if op is c.ASSERT:               # a look-ahead or look-behind that must hold reads the text too
        return _holds_digit(av[1])
    return False
