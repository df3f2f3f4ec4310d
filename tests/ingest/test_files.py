"""Reading CSV in any common encoding and delimiter, XLSX, Parquet, GeoJSON and GeoPackage."""

from __future__ import annotations

import codecs
import tracemalloc
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.errors import UnreadableFile
from geo.ingest.files import read_csv_bytes, read_table

ROWS = "Customer ID,Customer Name,City\r\nC1,Café Noir,Chicago\r\nC2,Beta,Boston\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_encodings(encoding: str) -> None:
    table = read_csv_bytes(ROWS.encode(encoding))
    assert list(table.frame.columns) == ["Customer ID", "Customer Name", "City"]
    assert table.frame.loc[0, "Customer Name"] == "Café Noir"
    assert list(table.lines) == [2, 3]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(delimiter: str) -> None:
    table = read_csv_bytes(ROWS.replace(",", delimiter).encode())
    assert table.frame.shape == (2, 3)
    assert table.frame.loc[1, "City"] == "Boston"


def test_line_numbers_survive_multiline_cells_blank_lines_and_bad_rows() -> None:
    text = 'id,name,notes\n1,A,"two\nlines"\n\n2,B,ok\n3,C\n4,D,fine,extra\n5,E,last\n'
    table = read_csv_bytes(text.encode())
    assert list(table.frame["id"]) == ["1", "2", "5"]
    assert list(table.lines) == [2, 5, 8]
    assert table.problems == [
        (6, "has 2 fields where the header has 3"),
        (7, "has 4 fields where the header has 3"),
    ]


def test_empty_file_is_refused() -> None:
    with pytest.raises(UnreadableFile, match="no header"):
        read_csv_bytes(b"")


def test_excel_and_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame({"Customer ID": ["C1", "C2"], "ZIP": ["02134", None], "Sales": [1.5, 20.0]})
    frame.to_excel(tmp_path / "a.xlsx", index=False)
    frame.to_parquet(tmp_path / "a.parquet")
    excel = read_table(tmp_path / "a.xlsx")
    assert list(excel.lines) == [2, 3]
    assert excel.frame.loc[0, "ZIP"] == "02134" and excel.frame.loc[1, "ZIP"] == ""
    parquet = read_table(tmp_path / "a.parquet")
    assert list(parquet.frame["Sales"]) == ["1.5", "20"]
    assert list(parquet.lines) == [1, 2]


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_points_become_latitude_longitude_and_polygons_are_problems(tmp_path: Path, suffix: str) -> None:
    frame = gpd.GeoDataFrame(
        {"Account Name": ["A", "B", "C"]},
        geometry=[Point(-87.6, 41.9), box(0, 0, 1, 1), Point(-71.1, 42.4)],
        crs="EPSG:4326",
    )
    path = tmp_path / f"points{suffix}"
    frame.to_file(path)
    table = read_table(path)
    assert list(table.frame["Account Name"]) == ["A", "C"]
    assert list(table.frame["Latitude"]) == ["41.9", "42.4"]
    assert list(table.frame["Longitude"]) == ["-87.6", "-71.1"]
    assert table.problems == [(2, "geometry is a Polygon, not a point")]


def test_unknown_binary_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip file")
    with pytest.raises(UnreadableFile, match=r"Cannot read broken\.xlsx"):
        read_table(path)


def test_each_line_is_decoded_on_its_own_and_the_fallback_lines_are_named() -> None:
    data = (
        codecs.BOM_UTF8
        + "id,name\r1,Café\r".encode()
        + "2,Müller\r".encode("cp1252")
        + "3,Zoë\r4,Ærø\r".encode()
        + "5,Señor\r\n".encode("cp1252")
    )
    table = read_csv_bytes(data)
    assert list(table.frame["name"]) == ["Café", "Müller", "Zoë", "Ærø", "Señor"]
    assert list(table.lines) == [2, 3, 4, 5, 6]
    assert table.notes == [
        "lines 3, 6 are not UTF-8 and were read as Windows-1252: check their accented letters"
    ]


def test_a_csv_is_read_as_a_stream_with_bounded_memory() -> None:
    rows = "".join(f"B{i},Company number {i},Chicago,IL,60601\n" for i in range(120_000))
    data = ("Customer ID,Customer Name,City,State,ZIP\n" + rows).encode()
    tracemalloc.start()
    try:
        table = read_csv_bytes(data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(table.frame) == 120_000 and table.frame.iloc[-1, 1] == "Company number 119999"
    # Held as Python strings, these rows take about 90 MB; read in chunks, at most one chunk is.
    assert peak < 35_000_000, f"peak {peak / 1e6:.0f} MB"


def test_rows_with_a_nul_byte_or_a_huge_cell_become_problems_in_every_format(tmp_path: Path) -> None:
    frame = pd.DataFrame({"Customer Name": ["A", "B\x00", "C" * 131_073, "D"]})
    frame.to_parquet(tmp_path / "a.parquet")
    table = read_table(tmp_path / "a.parquet")
    assert list(table.frame["Customer Name"]) == ["A", "D"] and list(table.lines) == [1, 4]
    assert table.problems == [
        (2, "column 'Customer Name' holds a NUL byte (character 0), which cannot be stored"),
        (3, "column 'Customer Name' holds 131,073 characters, more than the 131,072 a cell may hold"),
    ]


def test_files_over_the_cap_are_refused_and_messages_name_no_server_path(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.truncate(3_000_000)
    with pytest.raises(UnreadableFile, match=r"^upload\.csv is 3\.0 MB; files up to 2 MB can be imported"):
        read_table(path, name="upload.csv", max_mb=2)
    broken = tmp_path / "tmpx81.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(UnreadableFile) as caught:
        read_table(broken, name="points.geojson")
    assert str(caught.value).startswith("Cannot read points.geojson: ")
    assert str(tmp_path) not in str(caught.value) and "tmpx81" not in str(caught.value)
