"""Find a PostgreSQL server for the test suite (NF-2).

In order: ``GOVDATA_TEST_POSTGRES_URL``; the local server at 127.0.0.1:5432 (user postgres); a
throwaway cluster started with the machine's ``initdb`` (run as the postgres user, since initdb
refuses root). Under CI a missing PostgreSQL is an error, never a silent skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time

import psycopg

LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _throwaway_cluster() -> tuple[str, str] | None:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries or shutil.which("runuser") is None:
        return None
    bindir = os.path.dirname(binaries[-1])
    datadir = tempfile.mkdtemp(prefix="govdata-pg-")
    os.chmod(datadir, 0o777)
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    port = "55432"
    try:
        subprocess.run(
            [*as_postgres, f"{bindir}/initdb", "-D", f"{datadir}/data", "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *as_postgres,
                f"{bindir}/pg_ctl",
                "-D",
                f"{datadir}/data",
                "-l",
                f"{datadir}/log",
                "-w",
                "start",
                "-o",
                f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1",
            ],
            check=True,
            capture_output=True,
        )
    except (subprocess.CalledProcessError, OSError):
        return None
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    for _ in range(30):
        if _answers(url):
            return url, datadir
        time.sleep(0.2)
    return None


def find_postgres() -> tuple[str | None, str]:
    """(admin URL or None, how it was found / why not)."""
    explicit = os.environ.get("GOVDATA_TEST_POSTGRES_URL")
    if explicit:
        return (
            (explicit, "GOVDATA_TEST_POSTGRES_URL")
            if _answers(explicit)
            else (None, f"{explicit} does not answer")
        )
    if _answers(LOCAL_URL):
        return LOCAL_URL, "local server"
    started = _throwaway_cluster()
    if started:
        return started[0], f"throwaway cluster in {started[1]}"
    return None, "no server at 127.0.0.1:5432 and no initdb to start one"


def create_database(admin_url: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
