"""gcrm's geographic core: storage, geocoding, regions, analysis and maps."""
