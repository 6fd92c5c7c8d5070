"""The Docker image's install step without Docker: packaging/install.sh builds a fresh venv from
a copy of the source tree (pinned by constraints.txt), then the image's entrypoint runs from that
venv. Opt-in locally (`packaging` marker, ~1 min with a warm pip cache); CI runs it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.support import REPO
from tests.packaging.test_desktop import record
from tests.packaging.test_entrypoint import run_container_lifecycle

pytestmark = pytest.mark.packaging

# What the Dockerfile copies into its build stage (plus the npm files from its assets stage).
IMAGE_SOURCES = ("pyproject.toml", "constraints.txt", "README.md", "packaging")
IMAGE_PACKAGES = ("appliance", "web", "jobs", "embedded_db", "sample_data")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules")


def copy_build_context(target: Path) -> Path:
    """The Docker build context as the Dockerfile sees it (no .venv, no tests, no caches)."""
    target.mkdir()
    for name in IMAGE_SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=IGNORE)
        else:
            shutil.copy2(source, target / name)
    for package in IMAGE_PACKAGES:
        shutil.copytree(REPO / package, target / package, ignore=IGNORE)
    npm = REPO / "web" / "assets" / "node_modules"
    if npm.is_dir():
        shutil.copytree(npm, target / "web" / "assets" / "node_modules")
    return target


def folder_mib(path: Path) -> float:
    """Disk use of a folder, MiB (symlinks counted once, as `du` does)."""
    files = (f for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return sum(f.stat().st_size for f in files) / 2**20


def test_install_script_builds_a_venv_the_entrypoint_runs(tmp_path: Path) -> None:
    source = copy_build_context(tmp_path / "src")
    venv = tmp_path / "venv"
    out = subprocess.run(
        ["sh", str(source / "packaging" / "install.sh"), str(venv), str(source)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert "openpanel, version" in out.stdout
    # A regular install: nothing points back into the source copy.
    shutil.rmtree(source)
    python = venv / "bin" / "python"
    check = subprocess.run(
        [str(python), "-c", "import appliance, embedded_db; print(appliance.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,  # not the checkout: the venv's own copy must be imported
    )
    assert str(venv) in check.stdout
    assert list((venv / "lib").glob("python3*/site-packages/embedded_db/migrations/0001_*.sql"))
    assert list((venv / "lib").glob("python3*/site-packages/jobs/enrich/data/referrers.json"))
    if (REPO / "web" / "assets" / "node_modules" / "htmx.org").is_dir():
        assert list(
            (venv / "lib").glob("python3*/site-packages/web/assets/node_modules/htmx.org/dist/*.js")
        )
    run_container_lifecycle(venv / "bin", tmp_path / "run", python=str(python))
    record("install", {"venv_mib": round(folder_mib(venv))})
