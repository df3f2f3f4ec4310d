"""Leaflet controls added to maps: the legend and the "use my location" button.

Their scripts are templates of ``geo/maps/templates/`` (see :mod:`geo.maps.assets`); a
legend is a plain Leaflet control (no d3, no branca colormap, which would pull d3 from a CDN).
"""

from __future__ import annotations

from branca.element import MacroElement, Template

from geo.maps.assets import map_template
from geo.maps.escaping import js_string, template_literal


class Legend(MacroElement):
    """A Leaflet control in the map's corner listing colour → range.

    Parameters
    ----------
    title
        Heading of the legend.
    entries
        (colour, label) rows, low to high.
    position
        Leaflet control corner.
    """

    _template = Template(map_template("legend.js"))

    def __init__(self, title: str, entries: list[tuple[str, str]], *, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "Legend"
        self.position = position
        rows = "".join(
            map_template("legend_row.html").format(color=color, label=template_literal(label))
            for color, label in entries
        )
        self.body = map_template("legend_body.html").format(title=template_literal(title), rows=rows)
        self.body_literal = js_string(self.body)


class LocateControl(MacroElement):
    """A "use my location" button: the browser's position becomes a click on the map.

    The page reads map clicks (``st_folium``'s ``last_clicked``), so a located position
    reaches it the same way as a click, with no component of its own. Browsers answer
    only on ``localhost`` or HTTPS and after the user allows it; a refusal shows on the
    button.
    """

    _template = Template(map_template("locate_control.js"))

    def __init__(self) -> None:
        super().__init__()
        self._name = "LocateControl"


class FitControl(MacroElement):
    """A "show everything" button: the view fits every region drawn, Alaska and Hawaii included.

    The national view opens on the contiguous states (where most of a book lies); this is
    how a user reaches the rest in one click.

    Parameters
    ----------
    title
        The button's tooltip and accessible name.
    """

    _template = Template(map_template("fit_control.js"))

    def __init__(self, title: str = "Show all regions (Alaska, Hawaii …)") -> None:
        super().__init__()
        self._name = "FitControl"
        self.title = title
