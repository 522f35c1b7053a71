"""The serving gateway, driven over HTTP as a real subprocess."""
