"""Bad files fail with a message naming the file (and the line where the reader knows it) and
store nothing; CSV cells that would run as spreadsheet formulas are exported defused and come
back unchanged on re-import.

A line longer than `--max-line-mb` (default 16 MiB) is refused after reading that much, so a
2 GB line costs at most the limit in memory; the test uses a 3 MiB line against a 1 MiB limit.
"""

from __future__ import annotations

import csv
import gzip
import io
import json

import pytest

from embedded_db.export_files import export_to_file
from embedded_db.exports import EventQuery
from embedded_db.imports import ledger
from embedded_db.imports.duck import ImportFileError
from embedded_db.imports.formats import Options
from tests.imports import samples
from tests.imports.conftest import Imports


def _nothing_stored(imports: Imports) -> None:
    assert imports.events() == [] and imports.sessions() == []


def test_truncated_gzip(imports: Imports) -> None:
    data = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in samples.CAMEL_ROWS))
    path = imports.tmp / "events.ndjson.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportFileError, match=r"events\.ndjson\.gz: .*truncated or corrupt"):
        imports.importer.run(path, imports.project_id)
    _nothing_stored(imports)
    assert ledger.recent(imports.meta, imports.project_id) == []  # refused before starting


def test_malformed_json_names_the_line(imports: Imports) -> None:
    path = imports.tmp / "broken.ndjson"
    good = json.dumps(samples.CAMEL_ROWS[0])
    path.write_text(f'{good}\n{good}\n{{"name": "x", \n', encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"broken\.ndjson, line \d+: .*Malformed JSON"):
        imports.importer.run(path, imports.project_id)
    _nothing_stored(imports)


def test_wrong_columns_say_what_is_missing(imports: Imports) -> None:
    path = imports.tmp / "wrong.csv"
    path.write_text("when,what\n2024-05-01,x\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"wrong\.csv: the format was not recognised.*when"):
        imports.importer.run(path, imports.project_id)
    with pytest.raises(ImportFileError, match=r"no column for event name.*--map name="):
        imports.importer.run(path, imports.project_id, Options(mapping={"created_at": "when"}))
    _nothing_stored(imports)


def test_mixed_encodings(imports: Imports) -> None:
    path = imports.tmp / "latin.csv"
    body = "created_at,name,device_id,city\n2024-05-01T10:00:00Z,screen_view,d1,Zürich\n"
    path.write_bytes(
        body.encode("utf-8") + "2024-05-01T10:01:00Z,screen_view,d1,Málaga\n".encode("latin-1")
    )
    with pytest.raises(ImportFileError, match=r"latin\.csv.*not valid UTF-8.*--encoding latin-1"):
        imports.importer.run(path, imports.project_id)
    _nothing_stored(imports)
    whole_latin = imports.tmp / "latin1.csv"
    whole_latin.write_bytes(
        (body + "2024-05-01T10:01:00Z,screen_view,d1,Málaga\n").encode("latin-1")
    )
    imports.importer.run(whole_latin, imports.project_id, Options(encoding="latin-1"))
    cities = [e["city"] for e in imports.events() if e["name"] == "screen_view"]
    assert cities == ["Zürich", "Málaga"]


def test_a_line_longer_than_the_limit(imports: Imports) -> None:
    big = dict(samples.CAMEL_ROWS[0], properties={"blob": "x" * (3 * 1024 * 1024)})
    path = samples.write_ndjson(imports.tmp / "long.ndjson", [samples.CAMEL_ROWS[1], big])
    with pytest.raises(ImportFileError, match=r"long\.ndjson.*longer than the import line limit"):
        imports.importer.run(path, imports.project_id, Options(max_line_mb=1))
    _nothing_stored(imports)
    imports.importer.run(path, imports.project_id, Options(max_line_mb=8))
    [view] = [e for e in imports.events("", "screen_view") if e["properties"].get("blob")]
    assert len(view["properties"]["blob"]) == 3 * 1024 * 1024


def test_formula_injection_is_exported_defused_and_reimported_intact(imports: Imports) -> None:
    rows = [
        dict(samples.CAMEL_ROWS[0], path="=cmd|' /C calc'!A0", properties={"q": "+1+1"}),
        dict(samples.CAMEL_ROWS[2], path="@SUM(A1)", city="-2+3"),
    ]
    imports.importer.run(samples.write_csv(imports.tmp / "evil.csv", rows), imports.project_id)
    out = imports.tmp / "export.csv"
    export_to_file(imports.store, EventQuery(project_id=imports.project_id), "csv", out)
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    views = [r for r in table if r["name"] == "screen_view"]
    assert [r["path"] for r in views] == ["'=cmd|' /C calc'!A0", "'@SUM(A1)"]
    assert views[1]["city"] == "'-2+3"
    risky = "=+-@\t\r"
    assert all(not cell.startswith(tuple(risky)) for row in table for cell in row.values())

    again = imports.new_project()
    imports.importer.run(out, again)
    paths = [e["path"] for e in imports.events(again) if e["name"] == "screen_view"]
    assert paths == ["=cmd|' /C calc'!A0", "@SUM(A1)"]
    cities = [e["city"] for e in imports.events(again) if e["name"] == "screen_view"]
    assert cities == ["London", "-2+3"]
