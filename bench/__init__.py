"""Bench: dsgraph against the reference system's CPU pipeline (`python -m bench`)."""
