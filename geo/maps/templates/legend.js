{#- Jinja template rendered by branca for geo.maps.controls.Legend: a Leaflet control listing colour → range. -#}
{% macro script(this, kwargs) %}
(function() {
    var legend = L.control({position: {{ this.position | tojson }}});
    legend.onAdd = function() {
        var div = L.DomUtil.create("div", "gcrm-legend");
        div.style.cssText = "background: rgba(255,255,255,0.92); padding: 6px 10px;"
            + " border-radius: 4px; font: 12px/1.5 sans-serif;"
            + " box-shadow: 0 1px 4px rgba(0,0,0,0.3);";
        div.innerHTML = {{ this.body_literal }};
        return div;
    };
    legend.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
