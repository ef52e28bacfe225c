import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tests.shared import SHARED, files, need  # noqa: E402

GOLD = SHARED / "eval" / "gold"


@pytest.fixture(scope="session")
def scorer():
    """The project's own scores (``kehoach.eval``); ``tests/test_eval.py`` holds them to the yardstick."""
    import kehoach.eval
    return kehoach.eval


@pytest.fixture(scope="session")
def seeds():
    return files("seeds", "*.txt")


@pytest.fixture(scope="session")
def gold():
    return {p.stem: json.loads(p.read_text("utf-8")) for p in files("eval/gold", "*.json")}


__all__ = ["GOLD", "SHARED", "need"]


# --------------------------------------------------------------------------- the two stores
# A test that uses the ``store_backend`` fixture (directly or through ``pytest.mark.usefixtures``) runs
# twice: on SQLite in the corpus home and on PostgreSQL (a throwaway cluster, tests/pgcluster.py; each
# test in a schema of its own, named by ``KEHOACH_STORE`` so that every ``Corpus(home)`` and every
# ``kehoach`` subprocess of the test opens it). ``@pytest.mark.sqlite_only`` keeps a test on SQLite
# (file damage, the lock file, SQLite's backup API).

def pytest_generate_tests(metafunc):
    if "store_backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("store_backend", ["sqlite"] if only else ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def pg_cluster():
    """A running throwaway PostgreSQL cluster for the session (None, with the reason, when the server
    binaries are not installed)."""
    from tests.pgcluster import SKIP_REASON, Cluster
    try:
        cluster = Cluster.start()
    except FileNotFoundError:
        if os.environ.get("KEHOACH_REQUIRE_PG"):            # .ci/run: the PostgreSQL half must run
            pytest.fail(f"KEHOACH_REQUIRE_PG is set and {SKIP_REASON}")
        yield SKIP_REASON
        return
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster):
    """The URL of a fresh, empty schema of the throwaway cluster (dropped after the test)."""
    if isinstance(pg_cluster, str):
        pytest.skip(pg_cluster)
    url = pg_cluster.new_schema()
    yield url
    pg_cluster.drop_schema(url)


@pytest.fixture
def store_backend(request, monkeypatch):
    """"sqlite" or "postgresql"; with "postgresql", ``KEHOACH_STORE`` names a fresh schema."""
    monkeypatch.delenv("KEHOACH_STORE", raising=False)
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        monkeypatch.setenv("KEHOACH_STORE", url)
    return request.param
