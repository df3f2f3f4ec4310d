"""Read the files people export from other CRMs into text columns with their line numbers.

CSV in any common encoding (UTF-8 with or without BOM, UTF-16, Windows-1252)
and delimiter (comma, semicolon, tab, pipe); XLSX; Parquet; GeoJSON and
GeoPackage with point geometry (which becomes ``Latitude``/``Longitude``).
Rows that cannot be read (wrong number of fields, non-point geometry) are
returned as problems with their line, never dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import GcrmError

DELIMITERS = ",;\t|"
SNIFF_BYTES = 64_000
GEO_SUFFIXES = {".geojson", ".json", ".gpkg"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


class UnreadableFile(GcrmError):
    """The file cannot be read at all (unknown format, no header, corrupt)."""


@dataclass
class RawTable:
    """Text cells of a file, one row per record, with the line each record starts on.

    Attributes
    ----------
    frame
        All columns as text ('' for empty cells), headers as in the file.
    lines
        The file line (CSV), sheet row (XLSX) or record number (Parquet,
        GeoJSON, GeoPackage) of each row of ``frame``.
    problems
        (line, reason) of records that could not be read into ``frame``.
    """

    frame: pd.DataFrame
    lines: np.ndarray
    problems: list[tuple[int, str]] = field(default_factory=list)


def read_table(path: Path, *, name: str | None = None) -> RawTable:
    """Read a CSV, XLSX, Parquet, GeoJSON or GeoPackage file as text.

    Parameters
    ----------
    path
        The file.
    name
        Original file name when ``path`` is a temporary copy (an upload); its
        suffix decides the format.

    Returns
    -------
    RawTable
        The rows, their lines and the records that could not be read.
    """
    suffix = Path(name or path.name).suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES:
            return _read_excel(path)
        if suffix == ".parquet":
            return _numbered(pd.read_parquet(path), first=1)
        if suffix in GEO_SUFFIXES:
            return _read_geo(path)
        return read_csv_bytes(path.read_bytes())
    except UnreadableFile:
        raise
    except (OSError, ValueError, ImportError) as exc:
        msg = f"Cannot read {name or path.name}: {exc}"
        raise UnreadableFile(msg) from exc


def read_csv_bytes(data: bytes) -> RawTable:
    """Parse delimited text, detecting its encoding and delimiter.

    Parameters
    ----------
    data
        The file's bytes.

    Returns
    -------
    RawTable
        Rows with the file line each starts on (the header is line 1).
    """
    text = decode_text(data)
    delimiter = sniff_delimiter(text[:SNIFF_BYTES])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        msg = "The file is empty or has no header row."
        raise UnreadableFile(msg)
    header = [cell.strip() for cell in header]
    width = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[tuple[int, str]] = []
    previous_end = reader.line_num
    for record in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        if len(record) != width:
            problems.append((start, f"has {len(record)} fields where the header has {width}"))
            continue
        rows.append(record)
        lines.append(start)
    frame = pd.DataFrame(rows, columns=_unique(header), dtype=object)
    return RawTable(frame=frame, lines=np.asarray(lines, dtype=np.int64), problems=problems)


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-16 (by BOM), UTF-8, or else Windows-1252.

    Parameters
    ----------
    data
        Raw bytes.

    Returns
    -------
    str
        The text.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(sample: str) -> str:
    """Pick the delimiter that splits the sample's lines most consistently.

    Parameters
    ----------
    sample
        The start of the file.

    Returns
    -------
    str
        One of comma, semicolon, tab, pipe (comma when unsure).
    """
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in header:
        label = name or "column"
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    text = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            rendered = values.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(values):
            rendered = values.map(lambda v: f"{v:.15g}" if pd.notna(v) else "")
        else:
            rendered = values.astype(object).where(values.notna(), "").astype(str)
        text[str(column).strip()] = rendered.fillna("").to_numpy(dtype=object)
    return pd.DataFrame(text, index=range(len(frame)), dtype=object)


def _numbered(frame: pd.DataFrame, *, first: int) -> RawTable:
    frame = frame.reset_index(drop=True)
    return RawTable(frame=_as_text(frame), lines=np.arange(first, first + len(frame), dtype=np.int64))


def _read_excel(path: Path) -> RawTable:
    frame = pd.read_excel(path, dtype=object)
    return _numbered(frame, first=2)


def _read_geo(path: Path) -> RawTable:
    frame = gpd.read_file(path)
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    geometry = frame.geometry
    present = geometry.notna() & ~geometry.is_empty
    is_point = (present & (geometry.geom_type == "Point")).to_numpy()
    wrong = present.to_numpy() & ~is_point
    problems = [
        (int(i) + 1, f"geometry is a {kind}, not a point")
        for i, kind in zip(np.flatnonzero(wrong), geometry[wrong].geom_type, strict=True)
    ]
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    latitude = np.full(len(frame), np.nan)
    longitude = np.full(len(frame), np.nan)
    latitude[is_point] = geometry[is_point].y
    longitude[is_point] = geometry[is_point].x
    attributes["Latitude"] = latitude
    attributes["Longitude"] = longitude
    table = _numbered(attributes, first=1)
    keep = ~wrong
    return RawTable(
        frame=table.frame[keep].reset_index(drop=True), lines=table.lines[keep], problems=problems
    )
