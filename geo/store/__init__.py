"""Storage: the database, the embedded server, migrations, bootstrap, audit, users and shipped data.

The lowest layer of ``geo``: it imports nothing from geo's other packages.
"""
