"""Pure data-science functions (pandas, scikit-learn, Optuna): no LangGraph, no UI."""
