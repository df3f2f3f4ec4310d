"""Read the files people export from other CRMs into text columns with their line numbers.

CSV in any common encoding (UTF-8 with or without BOM, UTF-16, Windows-1252, or
UTF-8 with some Windows-1252 lines, each line decoded on its own) and delimiter
(comma, semicolon, tab, pipe); XLSX; Parquet; GeoJSON and GeoPackage with point
geometry (which becomes ``Latitude``/``Longitude``). CSV and XLSX are read as a
stream of rows, and files over the upload cap are refused before they are read.
Rows that cannot be read (wrong number of fields, malformed or non-point
geometry, a NUL byte, a cell over :data:`MAX_CELL_CHARS`) are returned as
problems with their line, never dropped silently, and never refuse the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import ParseError

import numpy as np
import openpyxl
import pandas as pd
import pyogrio.errors
import pyogrio.raw
import shapely
from openpyxl.utils.exceptions import InvalidFileException
from pyproj import CRS, Transformer

from geo.config import DEFAULT_MAX_UPLOAD_MB
from geo.errors import UnreadableFile

DELIMITERS = ",;\t|"
SNIFF_BYTES = 64_000
GEO_SUFFIXES = {".geojson", ".json", ".gpkg"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
MAX_CELL_CHARS = 131_072
"""Longest cell read (the default limit of Python's ``csv``): a longer one rejects its row."""
CSV_FIELD_LIMIT = 2**31 - 1
"""Field limit given to ``csv`` so that it never refuses the file; cells are checked afterwards."""
LINES_NAMED = 10
"""Line numbers a note names before it says how many more."""
BLOCK_BYTES = 1 << 20
"""Bytes of CSV decoded at once."""
CHUNK_ROWS = 20_000
"""Records held as Python strings at once while reading; each chunk then becomes Arrow text."""
_READ_ERRORS = (
    OSError,
    ValueError,
    ImportError,
    KeyError,
    IndexError,
    EOFError,
    ParseError,
    csv.Error,
    zipfile.BadZipFile,
    InvalidFileException,
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    shapely.errors.ShapelyError,
)
"""What reading a hostile or corrupt file can raise: each becomes :class:`UnreadableFile`."""
_PATHS = re.compile(r"(?:/[^/\s:'\"]+){2,}")


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
    notes
        What the reader had to do that a user should know (lines read as Windows-1252).
    """

    frame: pd.DataFrame
    lines: np.ndarray
    problems: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_table(path: Path, *, name: str | None = None, max_mb: float = DEFAULT_MAX_UPLOAD_MB) -> RawTable:
    """Read a CSV, XLSX, Parquet, GeoJSON or GeoPackage file as text.

    Parameters
    ----------
    path
        The file.
    name
        Original file name when ``path`` is a temporary copy (an upload); its
        suffix decides the format, and messages name it instead of ``path``.
    max_mb
        Largest file read, in megabytes (the ``GCRM_MAX_UPLOAD_MB`` setting).

    Returns
    -------
    RawTable
        The rows, their lines and the records that could not be read.
    """
    label = name or path.name
    check_upload_size(path.stat().st_size, label, max_mb=max_mb)
    suffix = Path(label).suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES:
            return _read_excel(path)
        if suffix == ".parquet":
            return _numbered(pd.read_parquet(path), first=1)
        if suffix in GEO_SUFFIXES:
            return _read_geo(path)
        with path.open("rb") as handle:
            return read_csv_stream(handle)
    except UnreadableFile:
        raise
    except _READ_ERRORS as exc:
        detail = _PATHS.sub("…", str(exc).replace(str(path), label))
        msg = f"Cannot read {label}: {detail}"
        raise UnreadableFile(msg) from exc


def check_upload_size(size: int, name: str, *, max_mb: float) -> None:
    """Refuse a file over the upload cap, before anything reads it.

    Parameters
    ----------
    size
        The file's size in bytes.
    name
        The file's name, for the message.
    max_mb
        The cap in megabytes.
    """
    if size > max_mb * 1_000_000:
        msg = (
            f"{name} is {size / 1_000_000:,.1f} MB; files up to {max_mb:g} MB can be imported"
            " (setting GCRM_MAX_UPLOAD_MB). Split it into smaller files."
        )
        raise UnreadableFile(msg)


def read_csv_bytes(data: bytes) -> RawTable:
    """Parse delimited text held in memory; see :func:`read_csv_stream`.

    Parameters
    ----------
    data
        The file's bytes.

    Returns
    -------
    RawTable
        Rows with the file line each starts on (the header is line 1).
    """
    return read_csv_stream(io.BytesIO(data))


def read_csv_stream(handle: BinaryIO) -> RawTable:
    """Parse delimited text line by line, detecting its encoding and delimiter.

    UTF-16 is recognised by its byte-order mark. Otherwise each line is decoded as
    UTF-8, and a line that is not UTF-8 as Windows-1252; a note names those lines.

    Parameters
    ----------
    handle
        The file, opened in binary mode at its start.

    Returns
    -------
    RawTable
        Rows with the file line each starts on (the header is line 1).
    """
    head = handle.read(SNIFF_BYTES)
    handle.seek(0)
    fallback: list[int] = []
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        lines: Iterator[str] = io.TextIOWrapper(handle, encoding="utf-16", newline="")
        sample = head.decode("utf-16", errors="ignore")
    else:
        lines = _decoded_lines(handle, fallback)
        sample = head.decode("utf-8", errors="replace")
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    reader = csv.reader(lines, delimiter=sniff_delimiter(sample))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        msg = "The file is empty or has no header row."
        raise UnreadableFile(msg)
    header = [cell.strip() for cell in header]
    width = len(header)
    rows = _Rows(_unique(header))
    previous_end = reader.line_num
    for record in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        if len(record) != width:
            rows.problems.append((start, f"has {len(record)} fields where the header has {width}"))
            continue
        rows.add(start, record)
    return rows.table(notes=[_fallback_note(fallback)] if fallback else [])


class _Rows:
    """Records collected in chunks of Arrow-backed text, so a long file never sits in memory as
    Python strings (measured on 330k CSV rows of 12 columns: 178 MB instead of 601 MB)."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.problems: list[tuple[int, str]] = []
        self._records: list[list[str]] = []
        self._lines: list[int] = []
        self._chunks: list[pd.DataFrame] = []

    def add(self, line: int, record: list[str]) -> None:
        self._records.append(record)
        self._lines.append(line)
        if len(self._records) >= CHUNK_ROWS:
            self._flush()

    def table(self, *, notes: list[str] | None = None) -> RawTable:
        self._flush()
        frame = (
            pd.concat(self._chunks, ignore_index=True)
            if self._chunks
            else pd.DataFrame({c: pd.Series(dtype="str") for c in self.columns})
        )
        lines = np.asarray(self._lines, dtype=np.int64)
        return _screened(RawTable(frame, lines, self.problems, notes or []))

    def _flush(self) -> None:
        if self._records:
            self._chunks.append(pd.DataFrame(self._records, columns=self.columns, dtype="str"))
            self._records = []


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
    lines = np.arange(first, first + len(frame), dtype=np.int64)
    return _screened(RawTable(frame=_as_text(frame), lines=lines))


def _decoded_lines(handle: BinaryIO, fallback: list[int]) -> Iterator[str]:
    """Yield the lines of ``handle`` decoded as UTF-8, or as Windows-1252 where UTF-8 fails.

    Blocks of whole lines are decoded at once; only a block that is not UTF-8 is decoded
    line by line. The numbers of the lines read as Windows-1252 are appended to
    ``fallback``. Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (old Mac files).
    """
    number = 0
    rest = b""
    first = True
    while True:
        block = handle.read(BLOCK_BYTES)
        data = rest + block
        if first:
            data = data.removeprefix(codecs.BOM_UTF8)
            first = False
        cut = data.rfind(b"\n") + 1 if block else len(data)
        if block and not cut:
            rest = data
            continue
        chunk, rest = data[:cut], data[cut:]
        try:
            texts = [(chunk.decode("utf-8"), False)]
        except UnicodeDecodeError:
            texts = [_decoded_line(line) for line in chunk.splitlines(keepends=True)]
        for text, fell_back in texts:
            for line in io.StringIO(text, newline=""):
                number += 1
                if fell_back:
                    fallback.append(number)
                yield line
        if not block:
            return


def _decoded_line(line: bytes) -> tuple[str, bool]:
    try:
        return line.decode("utf-8"), False
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace"), True


def _fallback_note(lines: list[int]) -> str:
    named = ", ".join(str(n) for n in lines[:LINES_NAMED])
    if len(lines) == 1:
        return f"line {named} is not UTF-8 and was read as Windows-1252: check its accented letters"
    more = f" and {len(lines) - LINES_NAMED:,} more" if len(lines) > LINES_NAMED else ""
    return f"lines {named}{more} are not UTF-8 and were read as Windows-1252: check their accented letters"


def _screened(table: RawTable) -> RawTable:
    """Move rows holding a NUL byte or a cell over :data:`MAX_CELL_CHARS` to the problems."""
    reasons = np.full(len(table.frame), "", dtype=object)
    for column in table.frame.columns:
        cells = table.frame[column].astype(str)
        sizes = cells.str.len().to_numpy()
        for i in np.flatnonzero((sizes > MAX_CELL_CHARS) & (reasons == "")):
            reasons[i] = (
                f"column {column!r} holds {sizes[i]:,} characters,"
                f" more than the {MAX_CELL_CHARS:,} a cell may hold"
            )
        nul = cells.str.contains("\x00", regex=False).to_numpy() & (reasons == "")
        reasons[nul] = f"column {column!r} holds a NUL byte (character 0), which cannot be stored"
    bad = reasons != ""
    if not bad.any():
        return table
    problems = [*table.problems, *zip(table.lines[bad].tolist(), reasons[bad], strict=True)]
    return RawTable(
        frame=table.frame[~bad].reset_index(drop=True),
        lines=table.lines[~bad],
        problems=sorted(problems),
        notes=table.notes,
    )


def _cell_text(value: object) -> str:
    """Render one spreadsheet cell as the text a user typed or sees."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.15g}"
    return str(value)


def _read_excel(path: Path) -> RawTable:
    """Stream the first sheet row by row (openpyxl read-only mode): memory stays flat."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        first = next(rows, None)
        header = [_cell_text(value).strip() for value in first or ()]
        while header and not header[-1]:
            header.pop()
        if not header:
            msg = "The first sheet is empty or has no header row."
            raise UnreadableFile(msg)
        width = len(header)
        records = _Rows(_unique(header))
        for number, values in enumerate(rows, 2):
            cells = [_cell_text(value) for value in values]
            if not any(cell.strip() for cell in cells):
                continue
            if any(cell.strip() for cell in cells[width:]):
                records.problems.append((number, f"has values beyond the {width} columns of the header"))
                continue
            records.add(number, cells[:width] + [""] * (width - len(cells)))
    finally:
        workbook.close()
    return records.table()


def _read_geo(path: Path) -> RawTable:
    """Read features one by one: a malformed geometry (an unclosed ring) rejects its record only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        meta, _fids, wkb, values = pyogrio.raw.read(path)
    attributes = pd.DataFrame(dict(zip(meta["fields"], values, strict=True)))
    count = len(attributes) if wkb is None else len(wkb)
    wkb = np.full(count, None, dtype=object) if wkb is None else wkb
    geometry = shapely.from_wkb(wkb, on_invalid="ignore")
    malformed = np.array([w is not None for w in wkb], dtype=bool) & shapely.is_missing(geometry)
    present = ~shapely.is_missing(geometry) & ~shapely.is_empty(geometry)
    is_point = present & (shapely.get_type_id(geometry) == shapely.GeometryType.POINT)
    wrong = present & ~is_point
    problems = [(int(i) + 1, _malformed(wkb[i])) for i in np.flatnonzero(malformed)]
    problems += [
        (int(i) + 1, f"geometry is a {geometry[i].geom_type}, not a point") for i in np.flatnonzero(wrong)
    ]
    x = np.full(count, np.nan)
    y = np.full(count, np.nan)
    x[is_point] = shapely.get_x(geometry[is_point])
    y[is_point] = shapely.get_y(geometry[is_point])
    if meta["crs"] and not CRS.from_user_input(meta["crs"]).equals("EPSG:4326", ignore_axis_order=True):
        to_degrees = Transformer.from_crs(meta["crs"], "EPSG:4326", always_xy=True)
        x[is_point], y[is_point] = to_degrees.transform(x[is_point], y[is_point])
    attributes["Latitude"] = y
    attributes["Longitude"] = x
    keep = ~(wrong | malformed)
    frame = _as_text(attributes[keep].reset_index(drop=True))
    lines = np.flatnonzero(keep).astype(np.int64) + 1
    return _screened(RawTable(frame, lines, sorted(problems)))


def _malformed(wkb: bytes) -> str:
    try:
        shapely.from_wkb(wkb)
    except shapely.errors.ShapelyError as exc:
        return f"geometry is malformed: {str(exc).split(': ', 1)[-1]}"
    return "geometry is malformed"
