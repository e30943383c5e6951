"""A throwaway PostgreSQL cluster for the database tests (initdb + pg_ctl in a temp folder).

The cluster starts once per session on a free port and stops at the end. Each test gets
a fresh database of its own. Without PostgreSQL binaries the tests skip with the reason,
except in CI (``CI`` set), where a missing server is a failure.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PASSWORD = "s3cret-Pa55"
USER = "speechgen"


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(cand, "pg_ctl").exists():
            return Path(cand)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root: run them as the postgres user then.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class Cluster:
    def __init__(self, port: int, admin_url: str, base: str, bindir: Path) -> None:
        self.port = port
        self.admin_url = admin_url
        self.base = base
        self.bindir = bindir
        self.counter = itertools.count()

    def url(self, dbname: str) -> str:
        return f"{self.base}/{dbname}"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("psycopg is not installed in CI — pip install '.[test]' must bring it")
        pytest.skip("psycopg is not installed (pip install -e '.[test]')")
    bindir = _bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("no PostgreSQL binaries (pg_ctl) in CI — .ci/run must install postgresql")
        pytest.skip("no PostgreSQL binaries found (apt-get install postgresql) — database tests skipped")
    tmp = Path(tempfile.mkdtemp(prefix="speechgen-pg-"))
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    data, sock = tmp / "data", tmp / "sock"
    pwfile = tmp / "pw"
    pwfile.write_text(PASSWORD + "\n")
    sock.mkdir()
    if os.geteuid() == 0:
        for p in (pwfile, sock):
            shutil.chown(p, "postgres", "postgres")
    subprocess.run(
        _as_owner([str(bindir / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(pwfile),
                   "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"]),
        check=True, capture_output=True,
    )
    port = _free_port()
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
    subprocess.run(
        _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(tmp / "log"), "-w", "start"]),
        check=True, capture_output=True,
    )
    base = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}"
    try:
        yield Cluster(port, f"{base}/postgres", base, bindir)
    finally:
        subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def empty_db(pg_cluster: Cluster) -> Iterator[str]:
    """The URL of a fresh, empty database (no schema)."""
    import psycopg

    name = f"t{os.getpid()}_{next(pg_cluster.counter)}"
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield pg_cluster.url(name)
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def db(empty_db: str) -> str:
    """The URL of a fresh database with speechgen's schema."""
    from speechgen.db import init_db

    init_db(empty_db)
    return empty_db
