"""The README is part of the product: its settings table and commands must match the code."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from vibeshelf.cli import main
from vibeshelf.settings_doc import END, START, render_into, settings_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_settings_table_is_current() -> None:
    text = README.read_text()
    assert START in text and END in text
    assert render_into(text) == text, "README settings table is stale: run `python -m vibeshelf.settings_doc`"


def test_settings_table_lists_every_setting_with_a_meaning() -> None:
    table = settings_table()
    for line in table.splitlines()[2:]:
        assert line.count("|") >= 4
        assert line.rstrip(" |").split("|")[-1].strip(), f"setting without a description: {line}"


def test_every_vibeshelf_command_in_the_readme_exists() -> None:
    text = README.read_text()
    # Commands as written in code spans and blocks: `vibeshelf x`, .venv/bin/vibeshelf x, or a line start.
    mentioned = set(re.findall(r"(?:^|`|bin/)vibeshelf ([a-z][a-z-]+)", text, flags=re.MULTILINE))
    known = set(main.commands)
    assert mentioned, "README mentions no commands"
    missing = mentioned - known
    assert not missing, f"README mentions unknown commands: {sorted(missing)}"
    runner = CliRunner()
    for command in mentioned:
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0, result.output
