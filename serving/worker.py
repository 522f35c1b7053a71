"""The gateway process's entry point: the accelerator is chosen before pandas and scikit-learn load
(cudf.pandas must come first), then the app factory; uvicorn imports this in every worker process."""

import os

from tools import accel

accel.activate(os.environ.get("DSGRAPH_ACCEL"))

from serving.gateway import create_app  # noqa: E402  (after the accelerator)

__all__ = ["create_app"]
