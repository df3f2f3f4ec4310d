function (row) {
    // row: [lat, lon, fill colour, tooltip (escaped with geo.maps.escaping.template_literal)]
    var marker = L.circleMarker([row[0], row[1]], {
        radius: row[4], weight: 1, color: "#333333", fill: true, fillOpacity: 0.9, fillColor: row[2]
    });
    marker.bindTooltip(row[3]);
    return marker;
}
