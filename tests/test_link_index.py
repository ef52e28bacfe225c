"""The link hook across processes (``kehoach.corpus.link_index``): a new process loads the Linker
saved beside the store and embeds/segments only the new tasks, and its links equal those of a
Linker rebuilt from every task of the corpus.

Real extractions (``tests/data/links-real/extractions``) stored in a temporary home; the embedder
is the cheap bag-of-syllables one of the registry tests (what is checked is the bookkeeping)."""
import json
from pathlib import Path

import numpy as np
import pytest

from kehoach.corpus import link, link_index
from kehoach.corpus.embed import CachedEmbedder
from kehoach.corpus.store import Corpus
from kehoach.models import Extraction
from kehoach.search.fixtures import store_records

from tests.test_registry import HashEmbedder

REAL = Path(__file__).parent / "data" / "links-real" / "extractions"


def _records(paths):
    out = []
    for p in paths:
        ext = Extraction.from_dict(json.loads(p.read_text("utf-8")))
        out.append((ext, "\n".join(t.text for t in ext.tasks)))
    return out


def _links(linker):
    return [(l.a, l.b, round(l.prob, 6), json.dumps(l.evidence, sort_keys=True, ensure_ascii=False))
            for l in linker.links(threshold=0.0)]


def _new_process():
    link._KEPT_LINKERS.clear()


@pytest.fixture()
def home(tmp_path):
    return tmp_path / "home"


def test_new_process_adds_only_new_tasks_and_links_equal_a_full_rebuild(home):
    paths = sorted(REAL.glob("*.json"))[:6]
    assert len(paths) == 6
    with Corpus(home) as c:
        store_records(c, _records(paths[:4]))
        _new_process()
        emb = CachedEmbedder(HashEmbedder(), c)
        first = link.linker_for_corpus(c, embedder=emb)
        assert link_index.snapshot_path(c).exists()
        n_first = len(first.tasks)
        store_records(c, _records(paths[4:]))

    _new_process()                                    # a new `kehoach add`: the snapshot is loaded
    with Corpus(home) as c:
        emb = CachedEmbedder(HashEmbedder(), c)
        seen = []
        orig = link.Linker.add

        def spy(self, tasks, *a, **k):
            seen.append(len(tasks))
            return orig(self, tasks, *a, **k)
        link.Linker.add = spy
        try:
            inc = link.linker_for_corpus(c, embedder=emb)
        finally:
            link.Linker.add = orig
        n_all = sum(1 for _ in c.tasks())
        assert len(inc.tasks) == n_all > n_first
        assert seen == [n_all - n_first]              # only the new plans' tasks were added
        inc_links = _links(inc)

    _new_process()
    link_index.snapshot_path(c).unlink()              # a full rebuild from every task of the corpus
    with Corpus(home) as c:
        emb = CachedEmbedder(HashEmbedder(), c)
        full = link.linker_for_corpus(c, embedder=emb)
        full_links = _links(full)
    assert inc.candidates == full.candidates and len(full.candidates) > 50
    assert inc_links == full_links and sum(1 for x in full_links if x[2] >= full.model.link_threshold) > 0
    assert list(inc.tasks) == list(full.tasks) and inc.row == full.row
    assert np.array_equal(inc.index.vectors, full.index.vectors)
    assert inc.clause_vectors.keys() == full.clause_vectors.keys()
    assert all(np.array_equal(inc.clause_vectors[k], full.clause_vectors[k]) for k in full.clause_vectors)
    assert inc.lex.df == full.lex.df and inc.lex.postings == full.lex.postings
    assert inc.lex.plan_df == full.lex.plan_df and inc.lex.clauses == full.lex.clauses
    assert inc.actions == full.actions
    # neighbours searched for a task equal too
    key = next(iter(full.tasks))
    assert inc.lex.neighbours(key, 10) == full.lex.neighbours(key, 10)


def test_snapshot_of_another_embedder_or_changed_task_is_not_used(home):
    paths = sorted(REAL.glob("*.json"))[:2]
    with Corpus(home) as c:
        store_records(c, _records(paths))
        _new_process()
        link.linker_for_corpus(c, embedder=CachedEmbedder(HashEmbedder(), c))

    class Other(HashEmbedder):
        name = "hash-other"
    _new_process()
    with Corpus(home) as c:
        fresh = link.Linker(CachedEmbedder(Other(), c))
        assert not link_index.load(c, fresh, fresh.embedder)
        same = link.Linker(CachedEmbedder(HashEmbedder(), c))
        assert link_index.load(c, same, same.embedder) and len(same.tasks) > 0
    # a damaged snapshot is ignored (rebuilt), never an error
    link_index.snapshot_path(c).write_bytes(b"not a pickle")
    _new_process()
    with Corpus(home) as c:
        lk = link.linker_for_corpus(c, embedder=CachedEmbedder(HashEmbedder(), c))
        assert len(lk.tasks) == sum(1 for _ in c.tasks())


def test_snapshot_of_code_with_other_attributes_is_rebuilt_not_restored(home):
    """A snapshot written by code whose Lexicon lacked an attribute this code has (``_phrase_plans``,
    a cache added since: restoring it failed with AttributeError in the first add) is not used:
    the Linker is rebuilt, and links as a fresh build does."""
    import pickle
    paths = sorted(REAL.glob("*.json"))[:3]
    with Corpus(home) as c:
        store_records(c, _records(paths))
        _new_process()
        want = _links(link.linker_for_corpus(c, embedder=CachedEmbedder(HashEmbedder(), c)))
    path = link_index.snapshot_path(c)
    data = pickle.loads(path.read_bytes())
    assert "_phrase_plans" in data["lex"] and "_phrase_plans" in data["sig"]["layout"][1]
    for old_sig in ({k: v for k, v in data["sig"].items() if k != "layout"},       # before layouts were signed
                    {**data["sig"], "layout": (data["sig"]["layout"][0],
                                               tuple(n for n in data["sig"]["layout"][1] if n != "_phrase_plans"))}):
        old = {**data, "sig": old_sig, "lex": {k: v for k, v in data["lex"].items() if k != "_phrase_plans"}}
        path.write_bytes(pickle.dumps(old))
        _new_process()
        with Corpus(home) as c:
            fresh = link.Linker(CachedEmbedder(HashEmbedder(), c))
            assert not link_index.load(c, fresh, fresh.embedder)
            lk = link.linker_for_corpus(c, embedder=CachedEmbedder(HashEmbedder(), c))
            assert _links(lk) == want and len(want) > 0
            assert hasattr(lk.lex, "_phrase_plans")


def test_a_changed_task_rebuilds_instead_of_using_the_snapshot(home):
    paths = sorted(REAL.glob("*.json"))[:3]
    recs = _records(paths)
    with Corpus(home) as c:
        store_records(c, recs)
        _new_process()
        link.linker_for_corpus(c, embedder=CachedEmbedder(HashEmbedder(), c))
        ext, _ = recs[0]
        ext.tasks[0].text = ext.tasks[0].text + " và báo cáo kết quả thực hiện"
        ext.sha256 = None
        store_records(c, [(ext, "\n".join(t.text for t in ext.tasks))])   # the plan replaced, same id
    _new_process()
    with Corpus(home) as c:
        lk = link.linker_for_corpus(c, embedder=CachedEmbedder(HashEmbedder(), c))
        texts = {k: t.text for k, t in lk.tasks.items()}
        want = {link.task_from_record(r).key: r.text for r in c.tasks()}
    assert texts == want and any(x.endswith("kết quả thực hiện") for x in texts.values())


class CountingEmbedder(HashEmbedder):
    """HashEmbedder counting the texts it is asked for (after the cache)."""

    def __init__(self):
        self.texts = []

    def embed_passages(self, texts):
        self.texts.extend(texts)
        return super().embed_passages(texts)


@pytest.mark.parametrize("defer", [False, True])
def test_the_add_hook_reads_only_the_new_plans_and_embeds_their_clauses_so_reads_never_embed(home, monkeypatch, defer):
    """``defer``: the snapshot is not due after the add (``link_index.due``): it is not rewritten,
    and the next process adds the plans it lacks from the caches; else it is rewritten."""
    monkeypatch.setattr(link_index, "SAVE_EVERY", 10 ** 9 if defer else 1)
    monkeypatch.setattr(link_index, "SAVE_SHARE", 10.0 if defer else 0.0)
    paths = sorted(REAL.glob("*.json"))[:6]
    with Corpus(home) as c:
        store_records(c, _records(paths[:4]))
        _new_process()
        link.update(c, embedder=CachedEmbedder(HashEmbedder(), c))
        old_plans = {p.id for p in c.plans()}
        store_records(c, _records(paths[4:]))
        new_plans = sorted({p.id for p in c.plans()} - old_plans)
        n_old = sum(1 for r in c.tasks() if r.plan_id in old_plans)
        snap = link_index.snapshot_path(c)
        before = snap.read_bytes()

    read = []
    orig_tasks = Corpus.tasks

    def spy(self, plan_ids=None):
        read.append(None if plan_ids is None else sorted(plan_ids))
        return orig_tasks(self, plan_ids)
    _new_process()                                    # the next `kehoach add`: its hook
    with Corpus(home) as c:
        monkeypatch.setattr(Corpus, "tasks", spy)
        inner = CountingEmbedder()
        hooked = link.update(c, added=new_plans, embedder=CachedEmbedder(inner, c))
        monkeypatch.setattr(Corpus, "tasks", orig_tasks)
        assert read == [new_plans]                    # only the new plans' tasks were read
        assert len(hooked.tasks) == sum(1 for _ in c.tasks()) > n_old
        assert not hooked._clauses_pending            # the batch's clause vectors are embedded by the add
        new_keys = [k for k in hooked.tasks if int(k.split(":")[0]) in new_plans]
        multi = {x for k in new_keys for cs in [link.split_clauses(hooked.tasks[k].text)] if len(cs) > 1 for x in cs}
        assert multi and multi <= set(inner.texts)
        searched = {k for (k,) in c.conn.execute("SELECT key FROM link_searched")}
        assert searched == set(hooked.tasks)          # every task searched once, the old ones before
        assert (snap.read_bytes() == before) == defer

    _new_process()                                    # a read (the registry) in a new process: no embedding
    with Corpus(home) as c:
        inner = CountingEmbedder()
        read_linker = link.linker_for_corpus(c, embedder=CachedEmbedder(inner, c))
        read_links = _links(read_linker)
        assert inner.texts == []                      # the plans the snapshot lacked: from the caches
        assert len(read_linker.tasks) == len(hooked.tasks)
    _new_process()
    link_index.snapshot_path(c).unlink()              # the same corpus linked from scratch
    with Corpus(home) as c:
        full = link.linker_for_corpus(c, embedder=CachedEmbedder(HashEmbedder(), c))
        full_links = _links(full)
    assert read_linker.candidates == full.candidates and len(full.candidates) > 50
    assert read_links == full_links


def test_snapshot_past_the_graph_size_keeps_vectors_once_and_a_loaded_graph_grows_by_its_tail(home):
    """Past ``HNSW_MIN`` the vectors are the graph's own (no .npy beside it), read as a read-only view;
    a plan added to the loaded Linker goes to the exact tail (the graph read from the file is not
    touched), and the next snapshot's graph holds every row."""
    paths = sorted(REAL.glob("*.json"))[:5]
    with Corpus(home) as c:
        store_records(c, _records(paths))
        emb = CachedEmbedder(HashEmbedder(), c)
        tasks = [link.task_from_record(r, {x.get("id"): x for x in c.refs(r.plan_id)}) for r in c.tasks()]
        last = tasks[-1].plan
        old, new = [t for t in tasks if t.plan != last], [t for t in tasks if t.plan == last]
        saved = link.Linker(emb, hnsw_min=20)
        saved.add(old)
        link_index.save(c, saved, emb)
        folder = link_index.snapshot_path(c).parent
        assert list(folder.glob("*.hnsw.faiss")) and not list(folder.glob("*.npy"))
        loaded = link.Linker(emb, hnsw_min=20)
        assert link_index.load(c, loaded, emb)
        assert not loaded.index.vectors.flags.writeable
        assert np.array_equal(loaded.index.vectors, saved.index.vectors)
        graph = loaded.index._index
        loaded.add(new)
        assert loaded.index._index is graph and graph.ntotal == len(old)
        assert loaded.index.tail.ntotal == len(new) and len(loaded.index.vectors) == len(tasks)
        own = [loaded.index.search(loaded.index.vectors[[loaded.row[t.key]]], 1)[1][0, 0] for t in new]
        assert own == [loaded.row[t.key] for t in new]
        link_index.save(c, loaded, emb)
        again = link.Linker(emb, hnsw_min=20)
        assert link_index.load(c, again, emb)
    assert again.index._index.ntotal == len(tasks) and again.index.tail is None
    assert np.array_equal(again.index.vectors, loaded.index.vectors)


def test_snapshot_files_hold_the_hnsw_graph_and_values_read_only_when_touched(home):
    """The columnar snapshot (format 3): the HNSW graph and the vectors come back as they were, the
    per-task and per-term dicts are ``LazyValues`` that decode a value only when it is read (a
    neighbour search reads a few), and read in any way they equal the saved dicts; a side file
    gone means no snapshot (rebuilt), never an error."""
    paths = sorted(REAL.glob("*.json"))[:4]
    with Corpus(home) as c:
        store_records(c, _records(paths))
        emb = CachedEmbedder(HashEmbedder(), c)
        tasks = [link.task_from_record(r, {x.get("id"): x for x in c.refs(r.plan_id)}) for r in c.tasks()]
        saved = link.Linker(emb, hnsw_min=20)
        saved.add(tasks)
        assert saved.index.approximate and len(saved.tasks) > 50
        link_index.save(c, saved, emb)
        loaded = link.Linker(emb, hnsw_min=20)
        assert link_index.load(c, loaded, emb)
    lazy = loaded.lex.words
    assert isinstance(lazy, link_index.LazyValues) and isinstance(loaded.tasks, link_index.LazyValues)
    undecoded = lambda d: sum(1 for v in dict.values(d) if type(v) is int)   # noqa: E731
    assert undecoded(lazy) == len(lazy) == len(saved.lex.words)
    assert loaded.index.approximate and np.array_equal(loaded.index.vectors, saved.index.vectors)
    q = saved.index.vectors[:5]
    assert np.array_equal(loaded.index.search(q, 10)[1], saved.index.search(q, 10)[1])
    key = next(iter(saved.tasks))
    link_index.fresh_caches(loaded)
    link_index.fresh_caches(saved)
    assert loaded.lex.neighbours(key, 10) == saved.lex.neighbours(key, 10)
    assert 0 < len(lazy) - undecoded(lazy) < len(lazy)          # only the values the search read
    assert dict(lazy) == saved.lex.words and {**loaded.lex.postings} == saved.lex.postings
    assert loaded.lex.plan_terms == saved.lex.plan_terms and saved.tasks == loaded.tasks
    assert list(loaded.tasks) == list(saved.tasks) and loaded.actions == saved.actions
    assert all(np.array_equal(loaded.clause_vectors[k], v) for k, v in saved.clause_vectors.items())
    assert loaded.lex.words.pop(key) == saved.lex.words[key] and key not in loaded.lex.words
    with Corpus(home) as c:
        for side in link_index.snapshot_path(c).parent.glob("linker.*.values"):
            side.unlink()
        assert not link_index.load(c, link.Linker(emb, hnsw_min=20), emb)
