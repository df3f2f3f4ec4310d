"""The app's pages, one module per page, layout only; what they share is in :mod:`pages._shared`."""
