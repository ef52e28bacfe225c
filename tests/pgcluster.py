"""A throwaway PostgreSQL cluster for the tests: ``initdb`` in a temporary folder, ``pg_ctl start`` on a
unix socket in that folder (no TCP port: nothing else on the machine can reach it or clash with it),
``pg_ctl stop`` and the folder removed at the end. As root (initdb refuses root) the cluster runs as
the ``postgres`` user that Debian's package creates (else ``nobody``), through ``setpriv``.

``KEHOACH_TEST_PG_URL=postgresql://...`` uses an existing server instead (each test still gets its own
schema). Without either, the PostgreSQL half of the store tests is skipped, with the reason.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Optional
from urllib.parse import quote

SKIP_REASON = ("PostgreSQL server binaries (initdb, pg_ctl) not found: bash install.sh --with-postgres "
               "(Debian's postgresql), or set KEHOACH_TEST_PG_URL")


def bindir() -> Optional[Path]:
    """The folder of ``initdb`` and ``pg_ctl``: ``pg_config --bindir``, Debian's
    ``/usr/lib/postgresql/N/bin`` (newest), or the PATH."""
    cands = []
    pc = shutil.which("pg_config")
    if pc:
        try:
            cands.append(Path(subprocess.run([pc, "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    cands += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                                      key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
                                      reverse=True)]
    on_path = shutil.which("initdb")
    if on_path:
        cands.append(Path(on_path).resolve().parent)
    for d in cands:
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    return None


def with_schema(url: str, schema: str) -> str:
    """``url`` whose sessions use ``schema`` (``options=-csearch_path=...``)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote('-csearch_path=' + schema)}"


class Cluster:
    """A running throwaway cluster (``url`` names its database ``kehoach``)."""

    def __init__(self, url: str, folder: Optional[Path] = None, run_as: Optional[list[str]] = None,
                 pg_ctl: Optional[Path] = None):
        self.url = url
        self.folder = folder
        self._run_as = run_as or []
        self._pg_ctl = pg_ctl

    @classmethod
    def start(cls) -> "Cluster":
        given = os.environ.get("KEHOACH_TEST_PG_URL")
        if given:
            return cls(given)
        bins = bindir()
        if bins is None:
            raise FileNotFoundError(SKIP_REASON)
        folder = Path(tempfile.mkdtemp(prefix="kehoach-pg-", dir="/tmp"))   # short: a socket path is <108 bytes
        run_as: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                user = pwd.getpwnam("nobody")
            os.chown(folder, user.pw_uid, user.pw_gid)
            run_as = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        data = folder / "data"
        subprocess.run([*run_as, str(bins / "initdb"), "-D", str(data), "-U", "kehoach", "--auth=trust",
                        "-E", "UTF8", "--locale=C", "-N"], check=True, capture_output=True, timeout=300,
                       cwd=folder)
        opts = (f"-k {folder} -c listen_addresses='' -p 5432 -c fsync=off -c synchronous_commit=off "
                f"-c full_page_writes=off -c max_connections=60 -c shared_buffers=32MB")
        subprocess.run([*run_as, str(bins / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "120",
                        "-o", opts, "start"], check=True, capture_output=True, timeout=180, cwd=folder)
        c = cls(f"postgresql://kehoach@/kehoach?host={folder}&port=5432", folder, run_as, bins / "pg_ctl")
        import psycopg
        with psycopg.connect(f"postgresql://kehoach@/postgres?host={folder}&port=5432", autocommit=True) as conn:
            conn.execute("CREATE DATABASE kehoach")
        return c

    def new_schema(self) -> str:
        """A fresh, empty schema; returns the URL whose sessions use it."""
        import psycopg
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return with_schema(self.url, name)

    def drop_schema(self, url: str) -> None:
        import psycopg
        name = url.rsplit("search_path%3D", 1)[-1]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")

    def stop(self) -> None:
        if self.folder is None:
            return
        try:
            subprocess.run([*self._run_as, str(self._pg_ctl), "-D", str(self.folder / "data"), "-m", "fast", "-w",
                            "stop"], capture_output=True, timeout=120, cwd=self.folder)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
