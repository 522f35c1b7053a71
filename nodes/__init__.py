"""Graph node implementations, one module per role and implementation."""
