"""The project's own evaluation: extraction, search and link scores with the matching rules of
the record contract (SPEC.md), so golden tests and users need nothing outside the checkout.

``kehoach eval extract GOLD_DIR PRED.jsonl``, ``kehoach eval search QUERIES.json GOLD_DIR PRED.json``,
``kehoach eval links LINKS.json GOLD_DIR PRED.json`` print one detail line per document (query,
...) and then the summary as one JSON line, as the shared yardstick ``score.py`` does; the tests
check both give the same figures.

- ``match``: folding and matching (bigrams, bodies, symbols, reference keys, deadlines);
- ``extract``, ``search``, ``links``: one report each, ``(summary, detail)``;
- ``data``: where benchmarks find the shared data.
"""
from kehoach.eval.extract import extract_report, score_refs, score_tasks
from kehoach.eval.links import links_report
from kehoach.eval.search import search_report

__all__ = ["extract_report", "links_report", "score_refs", "score_tasks", "search_report"]
