"""The LangGraph side of dsgraph: state, wiring, checkpoints, registry, LLM adapter, rendering."""
