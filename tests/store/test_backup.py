"""A backup taken with ``pg_dump`` restores the whole book with ``pg_restore``, as docs/operations.md says."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from geo.config import Settings
from geo.ingest.whole_book import load_demo_book
from geo.store.bootstrap import Connections, prepare_database
from geo.store.db import SYSTEM_USER, create_database, drop_database

BOOK_TABLES = ("accounts", "contacts", "interactions", "orders", "reps", "territories", "app_users")
RESTORED_DB = f"gcrm_test_restored_{os.getpid()}"


def _book(connections: Connections) -> dict:
    with connections.owner.transaction(user=SYSTEM_USER) as cur:
        counts = {}
        for table in BOOK_TABLES:
            cur.execute(f"SELECT count(*) FROM {table}")  # names from the constant above
            counts[table] = cur.fetchone()[0]
        cur.execute(
            "SELECT md5(string_agg(external_id || name_postal_hash, ',' ORDER BY external_id)) FROM accounts"
        )
        counts["name_postal_hashes"] = cur.fetchone()[0]
    return counts


def test_a_dump_restores_every_row(
    settings: Settings, connections: Connections, server_url: str, tmp_path: Path
) -> None:
    load_demo_book(connections.owner, settings.data_dir, accounts=300, seed=3)
    before = _book(connections)
    dump = tmp_path / "gcrm.dump"
    subprocess.run(
        [shutil.which("pg_dump"), "--format=custom", f"--file={dump}", settings.database_url],
        check=True,
        capture_output=True,
    )
    restored_url = create_database(server_url, RESTORED_DB)
    try:
        restore = subprocess.run(
            [shutil.which("pg_restore"), "--exit-on-error", f"--dbname={restored_url}", str(dump)],
            capture_output=True,
            text=True,
        )
        assert restore.returncode == 0, restore.stderr
        restored = prepare_database(replace(settings, database_url=restored_url))
        try:
            after = _book(restored)
        finally:
            restored.close()
    finally:
        drop_database(server_url, RESTORED_DB)
    assert before["accounts"] == 300
    assert after == before
