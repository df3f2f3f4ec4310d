"""Text from the book is escaped for where it lands, by one module that every map builder uses."""

from __future__ import annotations

import ast
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box
from support.payloads import HOSTILE_TEXTS

from geo.config import PROJECT_DIR
from geo.maps.controls import Legend
from geo.maps.escaping import html_text, js_string, markdown_text, template_literal
from geo.maps.point_maps import accounts_map, trade_area_map
from geo.maps.region_maps import category_map, choropleth_map, selection_map

PAYLOADS = (
    *HOSTILE_TEXTS,
    "a\nb",
)
HTML_SIGNS = ("<img", "<svg", "</script><script>")
"""A payload that reached HTML, or closed the map's script, unescaped."""
TEMPLATE_SIGNS = (*HTML_SIGNS, "${alert", "{{7*7}}", "C:\\users", "C:\\\\users")
"""A payload that reached a template literal unescaped (in JSON data, ``${`` and ``\\`` are harmless)."""


class _Parsed(HTMLParser):
    """Every tag, attribute and text node of a fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text += data


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_text_keeps_text_and_quoted_attributes_as_typed(payload: str) -> None:
    escaped = html_text(payload)
    assert not set("<>\"'") & set(escaped)
    parsed = _Parsed()
    parsed.feed(f"<div title=\"{escaped}\" data-x='{escaped}'>{escaped}</div>")
    parsed.close()
    assert parsed.tags == [("div", [("title", payload), ("data-x", payload)])]
    assert parsed.text == payload


@pytest.mark.parametrize("payload", PAYLOADS)
def test_js_string_is_one_literal_that_cannot_close_a_script_or_open_a_substitution(payload: str) -> None:
    quoted = js_string(payload)
    assert json.loads(quoted) == payload
    assert quoted.startswith('"') and quoted.endswith('"') and '"' not in quoted[1:-1].replace('\\"', "")
    assert not set("<>&'`$\n") & set(quoted)
    assert "</script" not in quoted.lower()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_template_literal_holds_no_character_a_template_or_html_would_read(payload: str) -> None:
    escaped = template_literal(payload)
    assert not set("`$\\{}<>\"'") & set(escaped)
    assert html.unescape(escaped) == payload


@pytest.mark.parametrize("payload", [*PAYLOADS, "# Acme", "1. Acme", "- Acme", "**Acme** ~~x~~ $x$ :red[x]"])
def test_markdown_text_escapes_every_markup_character(payload: str) -> None:
    escaped = markdown_text(payload)
    unescaped_left = re.sub(r"\\.", "", escaped)
    assert not set("\\`*_{}[]()<>!|~:$&") & set(unescaped_left)
    assert not re.match(r"\s*([#+\-=]|\d+\.)", unescaped_left)
    assert "\n" not in escaped
    assert re.sub(r"\\(.)", r"\1", escaped) == payload.replace("\n", " ")


def test_markdown_text_leaves_words_alone() -> None:
    assert markdown_text("Acme 3. Ltd - accounts.csv") == "Acme 3. Ltd - accounts.csv"
    assert markdown_text("**Acme** $5 :red[x]") == r"\*\*Acme\*\* \$5 \:red\[x\]"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_folium_tooltips_and_popups_paste_template_literal_text_unchanged(payload: str) -> None:
    fmap = folium.Map(tiles=None)
    marker = folium.CircleMarker([40, -100], tooltip=folium.Tooltip(template_literal(payload)))
    marker.add_child(folium.Popup(template_literal(payload)))
    marker.add_to(fmap)
    rendered = fmap.get_root().render()
    literals = re.findall(r"`([^`]*)`", rendered)
    assert len(literals) == 2, literals
    for literal in literals:
        assert "${" not in literal and "\\" not in literal
        shown = html.unescape(re.sub(r"<[^>]*>", "", literal))
        assert shown.split() == payload.split()  # HTML collapses white space anyway


def _assert_escaped(rendered: str, signs: tuple[str, ...] = HTML_SIGNS) -> None:
    leaked = [sign for sign in signs if sign in rendered]
    assert not leaked, leaked


def _regions(names) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "key": [f"{i:02d}" for i in range(len(names))],
            "code": [f"{i:02d}" for i in range(len(names))],
            "name": list(names),
            "accounts": range(len(names)),
        },
        geometry=[box(-100 + i, 40, -99 + i, 41) for i in range(len(names))],
        crs="EPSG:4326",
    )


def test_choropleth_tooltips_and_legend_show_hostile_names_as_text() -> None:
    regions = _regions(PAYLOADS)
    fmap = choropleth_map(regions, value="accounts", value_label=PAYLOADS[0], tooltip={"name": PAYLOADS[3]})
    rendered = fmap.get_root().render()
    _assert_escaped(rendered)
    data = json.loads(re.search(r"_add\((\{.*?\})\);", rendered, re.S).group(1))
    shown = [html.unescape(f["properties"]["name"]) for f in data["features"]]
    assert shown == list(PAYLOADS)


def test_selection_and_category_maps_escape_names_labels_and_legend() -> None:
    regions = _regions(PAYLOADS)
    _assert_escaped(selection_map(regions, {"01"}).get_root().render())
    units = regions.assign(territory=range(len(PAYLOADS)), territory_code=list(PAYLOADS))
    outlines = gpd.GeoDataFrame(
        {"territory": range(len(PAYLOADS))}, geometry=regions.geometry, crs=regions.crs
    )
    fmap = category_map(
        units,
        category="territory",
        names=dict(enumerate(PAYLOADS)),
        tooltip={"name": "Unit", "territory_code": "Territory"},
        outlines=outlines,
        title=PAYLOADS[2],
    )
    _assert_escaped(fmap.get_root().render())


def test_marker_maps_escape_account_and_branch_names() -> None:
    accounts = pd.DataFrame(
        {
            "lon": [-100 + i / 100 for i in range(len(PAYLOADS))],
            "lat": 40.0,
            "name": PAYLOADS,
            "status": "customer",
            "distance_m": 1_000.0,
        }
    )
    _assert_escaped(accounts_map((-100.0, 40.0), accounts).get_root().render(), TEMPLATE_SIGNS)
    points = gpd.GeoDataFrame(
        accounts[["name", "status"]].assign(external_id=[f"A{i}" for i in range(len(PAYLOADS))], revenue=0.0),
        geometry=gpd.points_from_xy(accounts["lon"], accounts["lat"]),
        crs=4326,
    )
    area = gpd.GeoDataFrame(geometry=[box(-101, 39, -99, 41)], crs=4326)
    rendered = trade_area_map(area, points, shapely.Point(-100, 40), PAYLOADS[4]).get_root().render()
    _assert_escaped(rendered, TEMPLATE_SIGNS)
    assert len(re.findall(r"bindTooltip\(\s*`", rendered)) == len(PAYLOADS) + 1
    assert rendered.count("`") == 2 * (len(PAYLOADS) + 1)


def test_legend_body_is_a_script_safe_string() -> None:
    legend = Legend(PAYLOADS[2], [("#fff", p) for p in PAYLOADS])
    _assert_escaped(legend.body_literal)
    parsed = _Parsed()
    parsed.feed(json.loads(legend.body_literal))
    assert {tag for tag, _attrs in parsed.tags} == {"strong", "div", "span"}
    assert parsed.text == PAYLOADS[2] + "".join(PAYLOADS)


FOLIUM_DETAILS = {"Tooltip", "Popup", "GeoJsonTooltip", "GeoJsonPopup", "DivIcon"}
"""folium classes that show text as HTML: built in the map builder modules only, from escaped text."""
BUILDER_MODULES = {"geo/maps/base.py", "geo/maps/region_maps.py", "geo/maps/point_maps.py"}
ESCAPING_MODULE = "geo/maps/escaping.py"


def _sources() -> list[Path]:
    roots = [PROJECT_DIR / "geo", PROJECT_DIR / "pages", PROJECT_DIR / "territories"]
    return [*sorted(p for root in roots for p in root.rglob("*.py")), PROJECT_DIR / "app.py"]


def test_only_the_map_builders_show_text_in_folium_and_only_through_the_escaping_module() -> None:
    problems = []
    assert {path.relative_to(PROJECT_DIR).as_posix() for path in _sources()} >= BUILDER_MODULES
    for path in _sources():
        relative = path.relative_to(PROJECT_DIR).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in FOLIUM_DETAILS
                and relative not in BUILDER_MODULES
            ):
                problems.append(f"{relative}:{node.lineno}: folium.{node.attr} outside the map builders")
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg in ("tooltip", "popup") and isinstance(
                        keyword.value, ast.Constant | ast.JoinedStr
                    ):
                        problems.append(f"{relative}:{node.lineno}: {keyword.arg}= text not escaped")
                    if keyword.arg == "unsafe_allow_html":
                        problems.append(f"{relative}:{node.lineno}: unsafe_allow_html")
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "html"
                and getattr(node.value, "id", "") == "components"
            ):
                problems.append(f"{relative}:{node.lineno}: components.html")
            if isinstance(node, ast.Import | ast.ImportFrom) and relative != ESCAPING_MODULE:
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if "html" in names:
                    problems.append(f"{relative}:{node.lineno}: imports html instead of geo.maps.escaping")
    assert problems == []


TEMPLATE_PAYLOADS = ('{{ "gc" ~ "rm-ssti" }}', "{% if %}", "{# open comment", "{{'x'}}")
"""Jinja syntax: folium renders every element's script, then the whole figure, through Jinja."""


def test_no_text_on_a_map_runs_as_a_template_on_the_server() -> None:
    names = list(TEMPLATE_PAYLOADS)
    regions = _regions(names)
    units = regions.assign(territory=range(len(names)), territory_code=names)
    outlines = gpd.GeoDataFrame({"territory": range(len(names))}, geometry=regions.geometry, crs=regions.crs)
    accounts = pd.DataFrame(
        {"lon": [-100.0, -99.9, -99.8, -99.7], "lat": 40.0, "name": names, "status": "customer"}
    ).assign(distance_m=1_000.0)
    points = gpd.GeoDataFrame(
        accounts.assign(external_id=names, revenue=0.0),
        geometry=gpd.points_from_xy(accounts["lon"], accounts["lat"]),
        crs=4326,
    )
    maps = [
        choropleth_map(regions, value="accounts", value_label=names[0], tooltip={"name": names[1]}),
        selection_map(regions, set()),
        category_map(
            units,
            category="territory",
            names=dict(enumerate(names)),
            tooltip={"territory_code": "Territory"},
            outlines=outlines,
            title=names[2],
        ),
        accounts_map((-100.0, 40.0), accounts),
        trade_area_map(regions.iloc[:1], points, shapely.Point(-100, 40), names[3]),
    ]
    for fmap in maps:
        rendered = fmap.get_root().render()  # what st_folium does on every run, before it builds its script
        assert "gcrm-ssti" not in rendered
        assert all(sign not in rendered for sign in ("{{", "{%", "{#"))
