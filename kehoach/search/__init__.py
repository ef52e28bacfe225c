"""Search the corpus: hybrid lexical (BM25) + dense (e5) retrieval, "who owns X",
and the HTTP API / web page.

    from kehoach.search import open_index, Filters, who
    idx = open_index(home)                       # built from the corpus, cached in HOME/search/
    idx.search("thanh toan truc tuyen", limit=10, filters=Filters(province="Quảng Trị")).to_dict()
    who(idx, "ai chủ trì thành lập Ban Chỉ đạo?").to_dict()
"""
from kehoach.search.hybrid import (Filters, Hit, SearchDoc, SearchError, SearchIndex, SearchResult,
                                   docs_from_corpus, docs_from_extractions)
from kehoach.search.service import open_index
from kehoach.search.who import Owner, WhoResult, rank_owners, who

__all__ = ["Filters", "Hit", "SearchDoc", "SearchError", "SearchIndex", "SearchResult", "docs_from_corpus",
           "docs_from_extractions", "open_index", "Owner", "WhoResult", "rank_owners", "who"]
