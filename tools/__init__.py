"""Pure data-science functions (pandas, scikit-learn, Optuna): no LangGraph, no UI."""

import os

# Idle OpenMP threads sleep instead of spinning: on a shared 2-core machine spinning made histogram
# boosting 7-10x slower. Only effective before scikit-learn loads its OpenMP runtime, hence here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
