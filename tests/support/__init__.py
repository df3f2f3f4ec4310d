"""Builders the tests share: synthetic unit grids and the users tests act as (import as ``support.…``)."""
