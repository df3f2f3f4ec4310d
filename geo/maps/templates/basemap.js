{#- Jinja template rendered by branca for geo.maps.base.VectorBasemap: the offline basemap under every map. -#}
{% macro script(this, kwargs) %}
(function() {
    var P = protomapsL;
    var layer = P.leafletLayer({
        url: {{ this.tile_url|tojson }},
        maxDataZoom: {{ this.max_data_zoom }},
        backgroundColor: "#d5e5ef",
        attribution: {{ this.attribution|tojson }},
        paintRules: [
            {dataLayer: "land", symbolizer: new P.PolygonSymbolizer({fill: "#f3f0e9"})},
            {dataLayer: "counties", minzoom: 5,
             symbolizer: new P.LineSymbolizer({color: "#d3ccc0", width: P.linear([[5, 0.4], [10, 1]])})},
            {dataLayer: "states",
             symbolizer: new P.LineSymbolizer({color: "#9d9486", width: P.linear([[3, 0.6], [10, 1.6]])})}
        ],
        labelRules: [
            {dataLayer: "places",
             filter: function(z, feature) { return feature.props.min_zoom <= z; },
             sort: function(a, b) { return b.population - a.population; },
             symbolizer: new P.CenteredTextSymbolizer({
                 labelProps: ["name"], fill: "#5b5650", stroke: "#ffffff", width: 2,
                 fontFamily: "sans-serif", fontSize: function(z, f) { return f && f.props.population >= 500000 ? 13 : 11; }
             })}
        ]
    });
    layer.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
