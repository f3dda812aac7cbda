"""The import graph keeps the layers: web -> agent -> tools -> retrieval -> core, ingest -> retrieval/core, nothing
upward and no cycles between packages. Read from the source with ``ast`` (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("web", "agent", "tools", "retrieval", "ingest", "prompts")
ENTRY = {"cli", "dialog_eval", "chat_client", "__main__"}  # the command line: may use every layer
# What each layer may import besides itself. "core" is vibeshelf's own top-level modules (settings, layout,
# text, the catalog schema, series titles).
ALLOWED = {
    "entry": {"web", "agent", "tools", "retrieval", "ingest", "prompts", "core"},
    "web": {"agent", "tools", "retrieval", "prompts", "core"},
    "agent": {"tools", "retrieval", "prompts", "core"},
    "tools": {"retrieval", "core"},
    "retrieval": {"core"},
    "ingest": {"retrieval", "core"},
    "prompts": {"core"},
    "core": set(),
}


def layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "vibeshelf":
        return None
    if len(parts) == 1:
        return "core"
    if parts[1] in PACKAGES:
        return parts[1]
    return "entry" if parts[1] in ENTRY else "core"


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] == "vibeshelf":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["vibeshelf", *parts])


def imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
    return out


def edges() -> list[tuple[str, str, str]]:
    """(file, from layer, to layer) for every import of one of our modules."""
    out = []
    for folder in (*PACKAGES, "vibeshelf"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            source = layer(module_of(path))
            for name in imports(path):
                target = layer(name)
                if source and target and target != source:
                    out.append((str(path.relative_to(ROOT)), source, target))
    return out


def test_no_layer_imports_upward() -> None:
    upward = [
        f"{path}: {source} -> {target}" for path, source, target in edges() if target not in ALLOWED[source]
    ]
    assert upward == []


def test_the_layer_rules_themselves_have_no_cycle() -> None:
    order: list[str] = []
    pending = dict(ALLOWED)
    while pending:
        ready = [name for name, needs in pending.items() if needs <= set(order)]
        assert ready, f"a cycle among {sorted(pending)}"
        order += ready
        for name in ready:
            del pending[name]
    assert order.index("core") < order.index("retrieval") < order.index("tools") < order.index("agent")
    assert order.index("agent") < order.index("web") < order.index("entry")


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from vibeshelf.web.app import create_app\nimport vibeshelf.tools.models\n")
    assert [layer(n) for n in imports(probe)] == ["web", "tools"]
    assert "web" not in ALLOWED["retrieval"] and "tools" not in ALLOWED["retrieval"]
