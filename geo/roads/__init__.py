"""The road network: import from an OpenStreetMap extract, travel times, drive-time areas (pgRouting)."""
