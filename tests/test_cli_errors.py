"""CLI commands fail with one clear line (no traceback) when there is nothing to work on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vibeshelf.cli", *args],
        env={**os.environ, "VIBESHELF_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=home,
    )


@pytest.mark.parametrize("command", [["serve"], ["stats"]])
def test_commands_without_an_index_say_how_to_build_one(tmp_path: Path, command: list[str]) -> None:
    done = _run(command, tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "vibeshelf ingest" in done.stderr


def test_ingest_from_a_missing_folder_names_it(tmp_path: Path) -> None:
    done = _run(["ingest", "--path", str(tmp_path / "nope")], tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "nope" in done.stderr and "not a folder" in done.stderr


def test_ingest_without_any_source_explains_where_data_comes_from(tmp_path: Path) -> None:
    # cwd is tmp_path, so ../shared/data/goodbooks does not exist relative to it.
    done = _run(["ingest"], tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "VIBESHELF_SOURCE" in done.stderr
