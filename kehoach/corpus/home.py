"""The corpus home directory: ``--home DIR``, else ``$KEHOACH_HOME``, else the platform's
user data directory (``platformdirs.user_data_dir("kehoach")``). Created if missing.

With a PostgreSQL store (``--store URL`` / ``$KEHOACH_STORE``) the plans live in the database and the
home keeps only what is derived locally from it (search index, report cache, embedding and
segmentation caches), in ``HOME/stores/<store key>/`` (``backend.store_key``: host, database and a hash
of the URL without its password), so two stores never share an index and the SQLite corpus of the same
home is left as it is."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from kehoach.errors import KehoachError

ENV_VAR = "KEHOACH_HOME"
DB_NAME = "kehoach.sqlite3"
LOCK_NAME = "kehoach.lock"


class HomeError(KehoachError):
    """The corpus home cannot be used."""


def default_home() -> Path:
    from platformdirs import user_data_dir
    return Path(user_data_dir("kehoach", appauthor=False))


def resolve_home(cli_home: Optional[str] = None, *, create: bool = True) -> Path:
    """The corpus home: ``cli_home``, else ``$KEHOACH_HOME``, else the user data directory."""
    raw = cli_home or os.environ.get(ENV_VAR) or None
    home = Path(raw).expanduser() if raw else default_home()
    home = home.resolve()
    from kehoach.corpus.backend import store_key, store_url
    url = store_url()
    if url:
        home = home / "stores" / store_key(url)
    if home.exists() and not home.is_dir():
        raise HomeError(f"{home}: corpus home is not a directory")
    if create:
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise HomeError(f"{home}: cannot create corpus home ({e.strerror or e})") from None
    return home
