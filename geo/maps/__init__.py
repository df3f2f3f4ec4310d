"""Folium maps that draw with no CDN, and the escaping of text that reaches them.

=======================  ===========================================================
:mod:`.base`             the empty map served by the app, its view, shapes simplified
                         for display, escaped tooltips, the draw map
:mod:`.region_maps`      selection, choropleth and category maps, hot and cold spots
:mod:`.point_maps`       accounts around a rep (with a route) or in a region, a
                         branch's trade areas; clustered when many
:mod:`.classification`   classes of a measure (mapclassify), legend rows, distinct colours
:mod:`.controls`         the legend and the "use my location" button
:mod:`.clicks`           what ``st_folium`` returns, read by pure functions
:mod:`.assets`           the vendored scripts and the templates in ``templates/``
:mod:`.escaping`         text from the book, escaped for where it lands
=======================  ===========================================================
"""
