"""The ``gcrm`` command groups, one module each (assembled into one command by ``gcrm.py``)."""
