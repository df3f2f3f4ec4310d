"""Geo campaigns: target geometry, audience SQL, storage, exports and responses."""
