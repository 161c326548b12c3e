"""Find a PostgreSQL server for the test suite (NF-2).

In order: ``GOVDATA_TEST_POSTGRES_URL``; the local server at 127.0.0.1:5432 (user postgres); a
throwaway cluster started with the machine's ``initdb`` (run as the postgres user, since initdb
refuses root) on a free port. Under CI a missing PostgreSQL is an error, never a silent skip.

The processes of one parallel run (pytest-xdist workers) share a directory: the first to ask looks,
the others read its answer, so a run starts at most one throwaway cluster, and the process that made
the directory stops it at the end (``stop_throwaway_cluster``).
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_ctl(datadir: str, *args: str) -> list[str]:
    bindir = os.path.dirname(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1])
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return [*as_postgres, f"{bindir}/pg_ctl", "-D", f"{datadir}/data", *args]


def _throwaway_cluster() -> tuple[str, str] | None:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries or shutil.which("runuser") is None:
        return None
    datadir = tempfile.mkdtemp(prefix="govdata-pg-")
    os.chmod(datadir, 0o777)
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    try:
        subprocess.run(
            [*as_postgres, binaries[-1], "-D", f"{datadir}/data", "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
        )
    except (subprocess.CalledProcessError, OSError):
        return None
    # A free port, not a fixed one: other runs on the machine may have a cluster of their own. The
    # port is free when chosen; should something take it before the cluster binds it, choose again.
    for _ in range(5):
        port = _free_port()
        options = f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1"
        start = _pg_ctl(datadir, "-l", f"{datadir}/log", "-w", "start", "-o", options)
        try:
            subprocess.run(start, check=True, capture_output=True)
        except subprocess.CalledProcessError:
            continue
        except OSError:
            return None
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        for _ in range(30):
            if _answers(url):
                return url, datadir
            time.sleep(0.2)
        return None
    return None


def _look() -> tuple[str | None, str, str | None]:
    """(admin URL or None, how it was found / why not, data directory of a throwaway cluster)."""
    explicit = os.environ.get("GOVDATA_TEST_POSTGRES_URL")
    if explicit:
        if _answers(explicit):
            return explicit, "GOVDATA_TEST_POSTGRES_URL", None
        return None, f"{explicit} does not answer", None
    if _answers(LOCAL_URL):
        return LOCAL_URL, "local server", None
    started = _throwaway_cluster()
    if started:
        return started[0], f"throwaway cluster in {started[1]}", started[1]
    return None, "no server at 127.0.0.1:5432 and no initdb to start one", None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def find_postgres(shared: Path | None = None) -> tuple[str | None, str]:
    """(admin URL or None, how it was found / why not).

    With ``shared``, a directory all processes of one run see, only the first caller looks; the
    others take its answer (and its throwaway cluster, if it started one)."""
    if shared is None:
        url, how, _ = _look()
        return url, how
    answer = shared / "postgres.json"
    with _locked(shared / "postgres.lock"):
        if not answer.exists():
            url, how, datadir = _look()
            answer.write_text(json.dumps({"url": url, "how": how, "datadir": datadir}))
        found = json.loads(answer.read_text())
    return found["url"], found["how"]


def stop_throwaway_cluster(shared: Path) -> None:
    """Stop and remove the throwaway cluster ``find_postgres(shared)`` started, if it started one."""
    answer = shared / "postgres.json"
    if not answer.exists():
        return
    datadir = json.loads(answer.read_text()).get("datadir")
    if datadir:
        subprocess.run(_pg_ctl(datadir, "-m", "immediate", "-w", "stop"), capture_output=True)
        shutil.rmtree(datadir, ignore_errors=True)


def create_database(admin_url: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
