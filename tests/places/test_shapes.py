"""Drawn and uploaded target geometry: repaired, refused with a reason, split at the antimeridian."""

from __future__ import annotations

import json

import pytest
import shapely

from geo.errors import InvalidGeometry
from geo.places.geodesy import haversine_m
from geo.places.shapes import MAX_GEOJSON_BYTES, MAX_VERTICES, circle, target_geometry


def _polygon(coordinates: list[list[float]]) -> dict:
    return {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [coordinates]},
    }


def test_a_bow_tie_is_repaired_into_its_two_triangles() -> None:
    bow_tie = _polygon([[-90, 40], [-89, 41], [-89, 40], [-90, 41], [-90, 40]])
    repaired = target_geometry(bow_tie)
    assert repaired.is_valid and len(repaired.geoms) == 2
    assert repaired.area == pytest.approx(0.5)


def test_feature_collections_and_text_are_accepted() -> None:
    square = _polygon([[-90, 40], [-89, 40], [-89, 41], [-90, 41], [-90, 40]])
    collection = json.dumps({"type": "FeatureCollection", "features": [square]})
    assert target_geometry(collection).area == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("geojson", "reason"),
    [
        ({"type": "FeatureCollection", "features": []}, "empty"),
        ({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}, "no area"),
        ({"type": "Point", "coordinates": [-90, 40]}, "no area"),
        (_polygon([[-90, 95], [-89, 95], [-89, 96], [-90, 95]]), "out of range"),
        ({"type": "Topology"}, "Not GeoJSON"),
        ({"type": "Polygon", "coordinates": [[[0, 0]]]}, "malformed"),
    ],
)
def test_unusable_shapes_are_refused_with_a_reason(geojson: dict, reason: str) -> None:
    with pytest.raises(InvalidGeometry, match=reason):
        target_geometry(geojson)


def test_too_many_vertices_are_refused() -> None:
    ring = shapely.Point(-90, 40).buffer(1, quad_segs=MAX_VERTICES // 4 + 10)
    with pytest.raises(InvalidGeometry, match="vertices"):
        target_geometry(shapely.geometry.mapping(ring))


def test_oversized_or_unparsable_text_is_refused_before_parsing_or_union() -> None:
    with pytest.raises(InvalidGeometry, match="bytes"):
        target_geometry("[" * (MAX_GEOJSON_BYTES + 1))
    with pytest.raises(InvalidGeometry, match="Not GeoJSON"):
        target_geometry("{'type': 'Polygon'}")
    many = [shapely.Point(-90 + i, 40).buffer(0.2, quad_segs=MAX_VERTICES // 8) for i in range(3)]
    with pytest.raises(InvalidGeometry, match="vertices"):
        target_geometry(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": shapely.geometry.mapping(p), "properties": {}}
                    for p in many
                ],
            }
        )


def test_a_shape_across_the_antimeridian_is_split_into_both_sides() -> None:
    across = _polygon([[179, 50], [181, 50], [181, 52], [179, 52], [179, 50]])
    split = target_geometry(across)
    assert len(split.geoms) == 2
    minx, _miny, maxx, _maxy = split.bounds
    assert minx == -180 and maxx == 180
    assert split.area == pytest.approx(4.0)


def test_circle_radius_is_metres_on_the_ground() -> None:
    shape = circle(-87.63, 41.88, 25_000)
    ring = shapely.get_coordinates(shape.geoms[0].exterior)
    distances = haversine_m(ring[:, 0], ring[:, 1], -87.63, 41.88)
    assert distances.min() == pytest.approx(25_000, rel=0.003)
    assert distances.max() == pytest.approx(25_000, rel=0.003)
    with pytest.raises(InvalidGeometry, match="Radius"):
        circle(-87.63, 41.88, 0)
