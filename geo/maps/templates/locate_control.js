{#- Jinja template rendered by branca for geo.maps.controls.LocateControl: the browser's position becomes a map click. -#}
{% macro script(this, kwargs) %}
(function() {
    var map = {{ this._parent.get_name() }};
    var control = L.control({position: "topleft"});
    control.onAdd = function() {
        var button = L.DomUtil.create("a", "leaflet-bar gcrm-locate");
        button.href = "#";
        button.title = "Use my location";
        button.setAttribute("role", "button");
        button.innerHTML = "&#9678;";
        button.style.cssText = "display: block; width: 30px; height: 30px; line-height: 30px;"
            + " text-align: center; background: #fff; font-size: 18px; color: #253494;";
        L.DomEvent.on(button, "click", function(event) {
            L.DomEvent.stop(event);
            if (!navigator.geolocation) {
                button.title = "This browser cannot tell where it is";
                return;
            }
            button.style.color = "#999";
            navigator.geolocation.getCurrentPosition(function(found) {
                button.style.color = "#253494";
                map.fire("click", {latlng: L.latLng(found.coords.latitude, found.coords.longitude)});
            }, function(error) {
                button.style.color = "#b00";
                button.title = "Location unavailable: " + error.message;
            }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
        });
        return button;
    };
    control.addTo(map);
})();
{% endmacro %}
