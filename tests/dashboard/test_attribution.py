"""The GeoIP credit: the first line of ATTRIBUTION.txt beside the database, shown in the
sidebar (the Docker image writes one for DB-IP's CC BY database)."""

from __future__ import annotations

from pathlib import Path

from appliance.settings import load_settings
from web.dashboard.state import geo_attribution


def test_the_line_beside_the_database_is_the_credit(tmp_path: Path) -> None:
    database = tmp_path / "geoip" / "dbip-city-lite.mmdb"
    database.parent.mkdir()
    database.write_bytes(b"")
    settings = load_settings({"data_dir": tmp_path}, environ={})
    assert geo_attribution(settings) == ""  # no note: nothing to show
    (database.parent / "ATTRIBUTION.txt").write_text(
        "IP geolocation by DB-IP (https://db-ip.com), licensed under CC BY 4.0.\nmore\n"
    )
    assert geo_attribution(settings).startswith("IP geolocation by DB-IP")
    assert geo_attribution(load_settings({"data_dir": tmp_path / "none"}, environ={})) == ""
