"""Places on the Earth: geodesy, geometry validation, regions and their keys."""
