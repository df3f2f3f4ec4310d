"""Analysis over the book: the OLAP cube, trade areas, hot spots."""
