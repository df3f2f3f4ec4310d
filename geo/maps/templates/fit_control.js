{#- Jinja template rendered by branca for geo.maps.controls.FitControl: one button fits the view to everything drawn. -#}
{% macro script(this, kwargs) %}
(function() {
    var map = {{ this._parent.get_name() }};
    var control = L.control({position: "topleft"});
    control.onAdd = function() {
        var button = L.DomUtil.create("a", "leaflet-bar gcrm-fit");
        button.href = "#";
        button.title = {{ this.title|tojson }};
        button.setAttribute("role", "button");
        button.setAttribute("aria-label", {{ this.title|tojson }});
        button.innerHTML = "&#x2922;";
        button.style.cssText = "display: block; width: 30px; height: 30px; line-height: 30px;"
            + " text-align: center; background: #fff; font-size: 18px; color: #253494;";
        L.DomEvent.on(button, "click", function(event) {
            L.DomEvent.stop(event);
            var bounds = L.latLngBounds([]);
            map.eachLayer(function(layer) {
                if (layer instanceof L.GeoJSON && layer.getBounds) {
                    var own = layer.getBounds();
                    if (own.isValid()) { bounds.extend(own); }
                }
            });
            if (bounds.isValid()) { map.fitBounds(bounds, {padding: [24, 24]}); }
        });
        return button;
    };
    control.addTo(map);
})();
{% endmacro %}
