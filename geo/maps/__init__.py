"""Folium maps that draw with no CDN, and the escaping of text that reaches them."""
