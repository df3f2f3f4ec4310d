"""Hostile files lose nothing: each bad record is a reject with its line and reason, the good rows load.

Every file goes through both front doors, the in-process ``gcrm import`` and the Data page
under Streamlit's AppTest, against the real PostGIS; neither may show a traceback or a path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from support.users import ADMIN
from typer.testing import CliRunner

from gcrm import app
from geo.config import PROJECT_DIR, Settings
from geo.store.bootstrap import Connections

DATA_PAGE = "pages/data.py"
HEADER = "Customer ID,Customer Name,City,State,ZIP"
GOOD = ("H1,Good One,Chicago,IL,60601", "H3,Good Three,Boston,MA,02134")
LONG = 140_000
SERVER_PATH = re.compile(r"/(?:tmp|work|home|root|usr)/")


@dataclass
class Outcome:
    """What one import showed its user."""

    counts: dict[str, int]
    rejects: dict[int, str]
    notes: list[str]
    text: str


Importer = Callable[[str, bytes], Outcome]


def _counts(line: str) -> dict[str, int]:
    counts = {key: int(value) for key, value in (pair.split("=") for pair in line.split())}
    assert counts["read"] == sum(counts[k] for k in ("inserted", "updated", "unchanged", "rejected"))
    return counts


def _cli(folder: Path) -> Importer:
    def run(name: str, data: bytes) -> Outcome:
        path = folder / name
        path.write_bytes(data)
        result = CliRunner().invoke(app, ["import", "accounts", str(path)])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        text = result.output
        assert "Traceback" not in text and not SERVER_PATH.search(text), text
        if result.exit_code != 0:
            return Outcome({}, {}, [], text)
        rejects = dict(re.findall(r"^line (\d+): (.*)$", result.stderr, flags=re.MULTILINE))
        notes = re.findall(r"^note: (.*)$", result.stderr, flags=re.MULTILINE)
        counts = _counts(result.stdout.strip().splitlines()[-1])
        return Outcome(counts, {int(line): reason for line, reason in rejects.items()}, notes, text)

    return run


def _page(name: str, data: bytes) -> Outcome:
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=180)
    at.session_state["gcrm_user"] = ADMIN
    at.run()
    at.switch_page(DATA_PAGE)
    at.run()
    at.file_uploader[0].upload(name, data, "application/octet-stream").run()
    assert not at.exception, [e.message for e in at.exception]
    buttons = [b for b in at.button if b.label.startswith("Import ")]
    if buttons:
        buttons[0].click().run()
        assert not at.exception, [e.message for e in at.exception]
    shown = [_as_read(e.value) for e in (*at.error, *at.warning, *at.markdown, *at.code, *at.caption)]
    text = "\n".join(shown)
    assert "Traceback" not in text and not SERVER_PATH.search(text), text
    summary = [c.value for c in at.code if c.value.startswith("read=")]
    if not summary:
        return Outcome({}, {}, [], "\n".join(_as_read(e.value) for e in at.error))
    tables = [d.value for d in at.dataframe if "Reason" in d.value.columns]
    rejects = dict(zip(tables[0]["Line"], tables[0]["Reason"], strict=True)) if tables else {}
    return Outcome(_counts(summary[0]), rejects, [_as_read(w.value) for w in at.warning], text)


def _as_read(markdown: object) -> str:
    """Markdown as a reader sees it: backslash escapes (of book text and messages) removed."""
    return re.sub(r"\\(.)", r"\1", str(markdown))


@pytest.fixture(params=["cli", "page"])
def import_file(request, settings: Settings, environment, tmp_path: Path) -> Importer:
    """Import a file through the CLI or the Data page, as the test's parameter says."""
    environment(settings)
    return _cli(tmp_path) if request.param == "cli" else _page


def _names(connections: Connections) -> dict[str, tuple[str, str]]:
    with connections.owner.transaction(user="t") as cur:
        cur.execute("SELECT external_id, name, geocode_precision FROM accounts")
        return {key: (name, precision) for key, name, precision in cur.fetchall()}


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_a_nul_byte_rejects_its_row_only(import_file: Importer, connections: Connections) -> None:
    outcome = import_file("nul.csv", _csv(GOOD[0], "H2,Bad\x00Name,Chicago,IL,60601", GOOD[1]))
    assert outcome.counts == dict(read=3, inserted=2, updated=0, unchanged=0, rejected=1)
    assert outcome.rejects == {
        3: "column 'Customer Name' holds a NUL byte (character 0), which cannot be stored"
    }
    assert _names(connections) == {"H1": ("Good One", "postal"), "H3": ("Good Three", "postal")}


def test_a_cell_over_the_csv_limit_rejects_its_row_only(
    import_file: Importer, connections: Connections
) -> None:
    # A quoted cell spanning two lines, too long for Python's csv: the lines after it still count.
    huge = "x" * (LONG // 2) + "\n" + "y" * (LONG // 2 - 1)
    outcome = import_file("long.csv", _csv(GOOD[0], f'H2,"{huge}",Chicago,IL,60601', GOOD[1]))
    assert outcome.counts == dict(read=3, inserted=2, updated=0, unchanged=0, rejected=1)
    assert outcome.rejects == {
        3: f"column 'Customer Name' holds {LONG:,} characters, more than the 131,072 a cell may hold"
    }
    assert set(_names(connections)) == {"H1", "H3"}
    with connections.owner.transaction(user="t") as cur:
        cur.execute("SELECT line FROM import_rejects")
        assert cur.fetchall() == [(3,)]


def _feature(name: str, geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"Customer Name": name}, "geometry": geometry}


def test_a_geojson_ring_left_open_rejects_its_feature_only(
    import_file: Importer, connections: Connections
) -> None:
    features = [
        _feature("Point One", {"type": "Point", "coordinates": [-87.63, 41.88]}),
        _feature(
            "Open Ring", {"type": "Polygon", "coordinates": [[[-88, 41], [-87, 41], [-87, 42], [-88, 42]]]}
        ),
        _feature("Point Three", {"type": "Point", "coordinates": [-71.06, 42.36]}),
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    outcome = import_file("ring.geojson", data)
    assert outcome.counts == dict(read=3, inserted=2, updated=0, unchanged=0, rejected=1)
    assert outcome.rejects == {
        2: "geometry is malformed: Points of LinearRing do not form a closed linestring"
    }
    assert sorted(_names(connections).values()) == [("Point One", "given"), ("Point Three", "given")]


def test_a_windows_1252_line_in_a_utf8_file_is_decoded_on_its_own(
    import_file: Importer, connections: Connections
) -> None:
    data = (
        _csv("E1,Café Noir,Chicago,IL,60601")
        + "E2,Müller Söhne,Boston,MA,02134\n".encode("cp1252")
        + "E3,Zoë’s Bakery,Denver,CO,80202\n".encode()
    )
    outcome = import_file("mixed.csv", data)
    assert outcome.counts == dict(read=3, inserted=3, updated=0, unchanged=0, rejected=0)
    assert outcome.notes == ["line 3 is not UTF-8 and was read as Windows-1252: check its accented letters"]
    assert {key: name for key, (name, _p) in _names(connections).items()} == {
        "E1": "Café Noir",
        "E2": "Müller Söhne",
        "E3": "Zoë’s Bakery",
    }


def test_null_island_and_denormal_coordinates_are_refused(
    import_file: Importer, connections: Connections
) -> None:
    header = "Customer ID,Customer Name,Latitude,Longitude"
    rows = ("N1,Real Place,41.88,-87.63", "N2,Zero,0,0", "N3,Denormal,-1e-320,5e-324", "N4,Tiny,1e-7,-4e-7")
    outcome = import_file("island.csv", _csv(*rows, header=header))
    assert outcome.counts == dict(read=4, inserted=1, updated=0, unchanged=0, rejected=3)
    placeholder = (
        "are null island (0°, 0°), a placeholder for a missing location; correct them or leave them empty"
    )
    assert outcome.rejects == {
        3: f"coordinates 0, 0 {placeholder}",
        4: f"coordinates -1e-320, 5e-324 {placeholder}",
        5: f"coordinates 1e-7, -4e-7 {placeholder}",
    }
    assert _names(connections) == {"N1": ("Real Place", "given")}


def test_an_upload_over_the_cap_is_refused_before_it_is_read(
    import_file: Importer, connections: Connections, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GCRM_MAX_UPLOAD_MB", "1")
    rows = [f"B{i},Company number {i},Chicago,IL,60601" for i in range(40_000)]
    data = _csv(*rows)
    assert len(data) > 1_500_000
    outcome = import_file("big.csv", data)
    assert outcome.counts == {}
    assert f"big.csv is {len(data) / 1e6:.1f} MB; files up to 1 MB can be imported" in outcome.text
    assert "GCRM_MAX_UPLOAD_MB" in outcome.text
    assert "mapping:" not in outcome.text and "rows," not in outcome.text  # refused before reading
    with connections.owner.transaction(user="t") as cur:
        cur.execute("SELECT count(*) FROM import_batches")
        assert cur.fetchone() == (0,)
