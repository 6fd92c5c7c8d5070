"""The settings registry, its README table and the CLI help."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.cli import cli
from appliance.errors import ConfigError
from appliance.settings import SETTINGS, load_settings, settings_table_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_settings_table_matches_the_registry() -> None:
    text = README.read_text()
    block = re.search(r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", text, re.S)
    assert block, "README.md lost its settings markers"
    assert block.group(1).strip() == settings_table_markdown().strip(), (
        "README settings table is stale: paste the output of `openpanel settings`"
    )


def test_every_setting_has_help_and_an_env_var() -> None:
    for setting in SETTINGS:
        assert setting.help.strip().endswith((".", ")")), setting.name
        assert setting.env == "OPENPANEL_" + setting.name.upper()


def test_env_vars_and_overrides_are_typed(tmp_path: Path) -> None:
    env = {
        "OPENPANEL_PORT": "4000",
        "OPENPANEL_SPOOL_FSYNC": "off",
        "OPENPANEL_DATA_DIR": str(tmp_path),
    }
    settings = load_settings({"host": "0.0.0.0"}, environ=env)
    assert (settings.port, settings.spool_fsync, settings.host) == (4000, False, "0.0.0.0")
    assert settings.data_dir == tmp_path
    assert settings.base_url == "http://127.0.0.1:4000"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OPENPANEL_PORT": "http"}, "OPENPANEL_PORT"),
        ({"OPENPANEL_STORE_IP": "maybe"}, "OPENPANEL_STORE_IP"),
        ({"OPENPANEL_BATCH_MAX_EVENTS": "0"}, "batch_max_events"),
        ({"OPENPANEL_LOG_LEVEL": "loud"}, "log_level"),
    ],
)
def test_bad_settings_fail_with_a_message_naming_them(
    env: dict[str, str], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"data_dir": str(tmp_path)}, environ=env)


def test_cli_help_reads_well() -> None:
    runner = CliRunner()
    top = runner.invoke(cli, ["--help"])
    assert top.exit_code == 0
    for word in ("serve", "project", "client", "migrate", "settings", "OPENPANEL_"):
        assert word in top.output
    serve = runner.invoke(cli, ["serve", "--help"])
    assert serve.exit_code == 0
    assert "--data-dir" in serve.output and "--get" in serve.output and "--port" in serve.output


def test_cli_errors_are_messages_not_tracebacks(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["client", "create", "--project", "nope", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "project 'nope' not found" in result.output
    assert "Traceback" not in result.output
    bad = runner.invoke(
        cli, ["project", "create", "X", "--timezone", "Mars/Base", "--data-dir", str(tmp_path)]
    )
    assert bad.exit_code != 0 and "unknown timezone" in bad.output


def test_project_and_client_commands_print_json_once(tmp_path: Path) -> None:
    import json

    runner = CliRunner()
    created = runner.invoke(
        cli,
        [
            "project",
            "create",
            "My site",
            "--cors",
            "https://example.com",
            "--json",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert created.exit_code == 0, created.output
    data = json.loads(created.output)
    assert data["project_id"] == "my-site" and data["client_secret"].startswith("sec_")
    assert re.fullmatch(r"[0-9a-f-]{36}", data["client_id"])
    reader = json.loads(
        runner.invoke(
            cli,
            [
                "client",
                "create",
                "--project",
                "my-site",
                "--type",
                "read",
                "--json",
                "--data-dir",
                str(tmp_path),
            ],
        ).output
    )
    assert reader["type"] == "read" and reader["client_secret"] != data["client_secret"]
    listed = runner.invoke(cli, ["client", "list", "--data-dir", str(tmp_path)]).output
    assert reader["client_id"] in listed and "sec_" not in listed
