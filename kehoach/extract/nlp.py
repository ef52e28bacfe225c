"""spaCy annotation layer for Vietnamese administrative text.

A blank Vietnamese pipeline (no pyvi) with a tokenizer that splits syllables and
punctuation while keeping character offsets, and an EntityRuler whose patterns
come from data tables:
- BODY: the standard body names of ``body_gazetteer.tsv`` (phrase patterns, case-insensitive),
  so that an owner phrase is never cut inside a name that holds a verb
  ("Phòng Quản lý xây dựng", "Ban Quản lý dự án đầu tư xây dựng");
- DOC: document type words followed by "số" and a symbol ("Quyết định số 641/QĐ-BNV").
Spans carry character offsets into the text they were made from.
"""
from __future__ import annotations

import re
from functools import lru_cache

from kehoach.extract.data import rows

_TOKEN = re.compile(r"\d+(?:[/.,-]\d+)*(?:/[\wĐđ&-]+(?:\.[\wĐđ&-]+)*)?|[\wĐđ&]+(?:[-/][\wĐđ&]+)*|[^\w\s]", re.U)


class SyllableTokenizer:
    """Whitespace/punctuation tokenizer that keeps symbols ("641/QĐ-BNV") and dates whole."""

    def __init__(self, vocab):
        self.vocab = vocab

    def __call__(self, text):
        from spacy.tokens import Doc
        words, spaces = [], []
        for m in _TOKEN.finditer(text):
            words.append(m.group(0))
            end = m.end()
            spaces.append(end < len(text) and text[end].isspace())
        # spaCy rebuilds the text from words + single spaces: keep offsets by normalising spaces first
        return Doc(self.vocab, words=words, spaces=spaces)


def import_spacy_without_torch() -> None:
    """Import spaCy (which the action finder's entity pass needs: ``segment.actions`` ->
    ``nlp.entities``) with torch hidden: spaCy's thinc imports torch when it can, for models kehoach
    never runs (a blank pipeline and an entity ruler), and that costs ~2.7 s of a ~3.5 s import,
    paid by every ``kehoach add`` process. Entities and actions are the same either way (checked on
    every real task text). torch stays importable afterwards (the fallback embedder imports it)."""
    import sys
    if "spacy" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None          # ``import torch`` raises ImportError: thinc goes without
    try:
        import spacy  # noqa: F401
    except Exception:                    # left to the caller's own import to report
        pass
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]


@lru_cache(maxsize=1)
def pipeline():
    import spacy
    nlp = spacy.blank("vi", config={"nlp": {"tokenizer": {"use_pyvi": False}}})
    nlp.tokenizer = SyllableTokenizer(nlp.vocab)
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    patterns = [{"label": "BODY", "pattern": r[0]} for r in rows("body_gazetteer.tsv")]
    types = sorted({r[0] for r in rows("doc_kinds.tsv")} | {"Nghị định", "Thông tư", "Luật", "Công văn"})
    for t in types:
        words = [{"LOWER": w.lower()} for w in t.split()]
        patterns.append({"label": "DOC", "pattern": words + [{"LOWER": "số", "OP": "?"},
                                                             {"TEXT": {"REGEX": r"^\d+[-/]"}}]})
    ruler.add_patterns(patterns)
    return nlp


def _canon_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@lru_cache(maxsize=4096)
def entities(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, label) of the BODY and DOC spans in ``text`` (offsets into ``text``;
    runs of white space count as one, as in normalized text)."""
    t = _canon_spaces(text)
    doc = pipeline()(t)
    return tuple((e.start_char, e.end_char, e.label_) for e in doc.ents)


def body_at_start(text: str) -> int:
    """Length of a standard body name at the very start of ``text`` (0 when none)."""
    head = text[:160]
    for s, e, label in entities(head):
        if label == "BODY" and s == 0:
            return e
    return 0


@lru_cache(maxsize=1)
def _verbful_prefixes() -> tuple[str, ...]:
    """First two words of the gazetteer names that hold a lower-case verb-like word: only
    phrases starting so need the spaCy pass (keeps extraction fast)."""
    from kehoach.extract.bodies import _stops
    out = set()
    for (name,) in (r[:1] for r in rows("body_gazetteer.tsv")):
        w = name.lower().split()
        if len(w) > 2 and _stops().search(name[0].lower() + name[1:]):
            out.add(" ".join(w[:2]))
    return tuple(sorted(out))


def may_hold_body(text: str) -> bool:
    low = text[:40].lower()
    return low.startswith(_verbful_prefixes())


def import_underthesea():
    """underthesea, imported without its translate pipeline: ``underthesea.pipeline.translate``
    pulls transformers/torch (~3 s CPU) and kehoach never translates, so it is blocked in
    ``sys.modules`` first (import ~0.4-0.8 s instead of ~3 s). Every underthesea import goes
    through here."""
    import sys
    sys.modules.setdefault("underthesea.pipeline.translate", None)
    import underthesea
    return underthesea


_TEMPLATE = re.compile(r"T\[(?P<index1>\-?\d+)(\,(?P<index2>\-?\d+))?\](\[(?P<column>.*)\])?(\.(?P<function>.*))?")


@lru_cache(maxsize=1)
def _crf_tagger():
    """underthesea's default POS tagger (the CRF model ``underthesea.pos_tag`` loads) and its feature
    templates parsed once: (model, [(template, index1, index2, column, function)])."""
    from underthesea.pipeline.pos_tag.model_crf import CRFPOSTagPredictor
    from underthesea.pipeline.pos_tag.tagged_feature import text_istitle
    crf = CRFPOSTagPredictor.Instance()
    funcs = {None: None, "lower": str.lower, "istitle": text_istitle}
    parsed = []
    for t in crf.transformer.template:
        m = _TEMPLATE.match(t)
        i2 = m.group("index2")
        parsed.append((t, int(m.group("index1")), int(i2) if i2 else None, int(m.group("column") or 0),
                       funcs[m.group("function")]))
    return crf.model, parsed


def _features(tokens: list[str], parsed) -> list[list[str]]:
    """The features underthesea's ``word2features`` gives each token of a sentence tagged "X", built once per
    sentence (underthesea rebuilds every column of the sentence for each template of each word)."""
    n = len(tokens)
    columns = (tokens, ["X"] * n)
    out = []
    for i in range(n):
        f = []
        for t, i1, i2, col, func in parsed:
            if i + i1 < 0:
                f.append(f"{t}=BOS")
                continue
            if i + i1 >= n or (i2 is not None and i + i2 >= n):
                f.append(f"{t}=EOS")
                continue
            word = " ".join(columns[col][i + i1:i + i2 + 1]) if i2 is not None else columns[col][i + i1]
            f.append(f"{t}={func(word) if func else word}")
        out.append(f)
    return out


def pos_tag(text: str) -> list[tuple[str, str]]:
    """``underthesea.pos_tag(text)`` (its default CRF model), its features built in linear time: the same
    tags (checked on every real and seed task text). Falls back to underthesea's own call if its internals
    are not what this version of the code expects."""
    u = import_underthesea()
    try:
        model, parsed = _crf_tagger()
    except Exception:                    # another underthesea layout: its own, slower path
        return u.pos_tag(text)
    tokens = u.word_tokenize(text)
    return list(zip(tokens, model.tag(_features(tokens, parsed)))) if tokens else []


@lru_cache(maxsize=2048)
def verb_offset(text: str, after: int = 0) -> int | None:
    """Offset of the first verb (underthesea POS tag V) that starts at or after ``after``:
    the fallback that ends an owner phrase when no word of the owner stop list does
    ("Sở Y tế | nâng cấp ..."). underthesea is imported on first use (it is slow to import)."""
    head = text[:240]
    pos = 0
    for word, tag in pos_tag(head):
        i = head.find(word, pos)
        if i < 0:
            continue
        pos = i + len(word)
        if tag == "V" and i >= after:
            return i
    return None
