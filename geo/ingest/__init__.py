"""Getting accounts in: reading files, mapping, validation, loading, geocoding, placement, demo book."""
