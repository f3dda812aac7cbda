"""A throwaway PostgreSQL cluster in a temp folder, from Debian's binaries (``apt-get install postgresql``).

``initdb`` + ``pg_ctl start`` on a free loopback port with the socket in the same folder; fsync off (a
test cluster need not survive a power cut). PostgreSQL refuses to run as root, so as root (CI) the
cluster runs as the ``postgres`` user the Debian package creates. Each test gets a database of its own.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError("PostgreSQL binaries not found: apt-get install -y postgresql (.ci/run does)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a cluster in a new temp folder; yields the URL of its ``postgres`` database (superuser
    ``vibeshelf``), and stops and deletes it afterwards."""
    bindir = _bindir()
    # Not under pytest's basetemp: that is private to root (0700), and the server may run as `postgres`.
    folder = Path(tempfile.mkdtemp(prefix="vibeshelf-pg-"))
    data = folder / "data"
    run_as: dict[str, int] = {}
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = {"user": user.pw_uid, "group": user.pw_gid}
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-U", "vibeshelf", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        env=env,
        **run_as,  # type: ignore[arg-type]
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    options += " -c full_page_writes=off -c max_connections=200"
    log = folder / "server.log"
    subprocess.run(
        [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
        check=True,
        capture_output=True,
        env=env,
        **run_as,  # type: ignore[arg-type]
    )
    try:
        yield f"postgresql://vibeshelf@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            env=env,
            **run_as,  # type: ignore[arg-type]
        )
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """Create an empty database on the cluster; returns its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def raw_rows(target: Path | str, sql: str, params: list | tuple = ()) -> list[tuple]:
    """Run one statement straight on a state database (a DuckDB path or a PostgreSQL URL), bypassing the
    stores, and return its rows (empty for statements without any). ``?`` placeholders on both."""
    if isinstance(target, str) and "://" in target:
        import psycopg
        from psycopg.types.json import set_json_loads

        with psycopg.connect(target, autocommit=True) as conn:
            set_json_loads(lambda data: bytes(data).decode("utf-8"), conn)  # JSON as text, as DuckDB gives it
            cur = conn.execute(sql.replace("?", "%s"), list(params))
            return cur.fetchall() if cur.description else []
    import duckdb

    con = duckdb.connect(str(target))
    try:
        cur = con.execute(sql, list(params))
        return cur.fetchall() if cur.description else []
    finally:
        con.close()
