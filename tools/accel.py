"""Choose the compute accelerator once per process, before pandas / scikit-learn are imported.

GPU: cuDF's pandas mode and cuML's scikit-learn acceleration, only when a CUDA device answers.
CPU: Intel's scikit-learn-intelex patch. Nothing here imports pandas, scikit-learn or RAPIDS at import time.
"""

import ctypes
import logging
import os
import shutil
import subprocess
import sys
import warnings
from typing import Any

MODES = ("auto", "gpu", "cpu", "none")
ENV = "DSGRAPH_ACCEL"
PROBE_TIMEOUT_S = 3.0

_state: dict[str, Any] | None = None


def activate(mode: str | None = None) -> dict[str, Any]:
    """Pick and install the accelerator (first call wins; later calls return the same choice)."""
    global _state
    if _state is not None:
        return dict(_state)
    requested = (mode or os.environ.get(ENV) or "auto").strip().lower()
    notes = []
    if requested not in MODES:
        notes.append(
            f"unknown acceleration mode {requested!r} (expected one of {', '.join(MODES)}); using auto"
        )
        requested = "auto"
    if requested == "none":
        _state = _record(requested, "none", "cpu", "acceleration turned off (mode none)")
        return dict(_state)
    if requested in ("auto", "gpu"):
        found, why = _cuda_devices()
        if found:
            installed, why = _install_rapids()
            if installed:
                _state = _record(requested, "cuml.accel", "gpu", "; ".join([*notes, why]))
                return dict(_state)
        notes.append(f"{why}; using the CPU" if requested == "gpu" else why)
    accelerator, why = _install_sklearnex()
    _state = _record(requested, accelerator, "cpu", "; ".join([*notes, why]))
    return dict(_state)


def gpu_available() -> bool:
    """True when the CUDA driver initialises and reports at least one device (RAPIDS is not imported)."""
    return _cuda_devices()[0]


def device() -> str:
    """ "gpu" or "cpu": where accelerated estimators run (cpu until `activate` chose the GPU)."""
    return _state["device"] if _state else "cpu"


def info() -> dict[str, Any]:
    """The choice made by `activate` (mode, accelerator, device, reason), or a not-yet-activated record."""
    if _state is None:
        return _record("unset", "none", "cpu", "activate() has not been called in this process")
    return dict(_state)


def _record(mode: str, accelerator: str, where: str, reason: str) -> dict[str, Any]:
    return {"mode": mode, "accelerator": accelerator, "device": where, "reason": reason}


def _cuda_devices() -> tuple[bool, str]:
    """(found, reason): the driver library decides; nvidia-smi only names the device in the reason."""
    count, why = _driver_device_count()
    if count == 0:
        return False, why
    names = _nvidia_smi_names()
    return True, f"CUDA device found: {names[0] if names else f'{count} device(s)'}"


def _driver_device_count(library: str = "libcuda.so.1") -> tuple[int, str]:
    """Devices reported by the CUDA driver API (cuInit + cuDeviceGetCount), with the reason when none."""
    try:
        cuda = ctypes.CDLL(library)
    except OSError:
        return 0, f"no CUDA driver ({library} not found)"
    if cuda.cuInit(0) != 0:
        return 0, "the CUDA driver did not initialise (no usable GPU)"
    count = ctypes.c_int(0)
    if cuda.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value == 0:
        return 0, "the CUDA driver reports no device"
    return count.value, "ok"


def _nvidia_smi_names() -> list[str]:
    """GPU names listed by `nvidia-smi -L`, or [] when it is absent, fails or hangs."""
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return []
    try:
        done = subprocess.run(
            [binary, "-L"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split("(")[0].strip() for line in done.stdout.splitlines() if line.startswith("GPU")]


def _install_rapids() -> tuple[bool, str]:
    """Install cudf.pandas (first: cuML itself imports pandas) and cuml.accel; (installed, reason)."""
    parts = []
    if "pandas" in sys.modules:
        parts.append("pandas was imported before activation, so cudf.pandas is not installed")
    else:
        try:
            import cudf.pandas

            cudf.pandas.install()
            parts.append("cudf.pandas installed")
        except Exception as error:  # cuDF is optional: cuML alone still accelerates the estimators
            parts.append(f"cudf.pandas unavailable ({type(error).__name__})")
    if "sklearn" in sys.modules:
        parts.append(
            "scikit-learn was imported before activation; estimators imported earlier stay on the CPU"
        )
    try:
        import cuml.accel

        cuml.accel.install()
    except Exception as error:  # a missing or broken RAPIDS install means CPU estimators, never a crash
        return False, f"cuML is unavailable ({type(error).__name__}: {error}); " + "; ".join(parts)
    return True, "cuml.accel installed; " + "; ".join(parts)


def _install_sklearnex() -> tuple[str, str]:
    """Patch scikit-learn with Intel's extension when it imports; (accelerator, reason)."""
    late = "; scikit-learn was imported before activation" if _sklearn_estimators_loaded() else ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import sklearnex

            logging.getLogger("sklearnex").setLevel(logging.WARNING)
            sklearnex.patch_sklearn(verbose=False)
        # Graph nodes run in worker threads, where every patched fit warns that it ignores thread limits
        # (daal4py's n_jobs support): thousands of lines per session that bury real errors.
        warnings.filterwarnings("ignore", message="'Threading' parallel backend is not supported",
                                category=UserWarning)
    except Exception as error:  # no extension (or a broken one): stock scikit-learn is still correct
        return "none", f"scikit-learn-intelex unavailable ({type(error).__name__}); stock scikit-learn"
    return "sklearnex", "scikit-learn patched with scikit-learn-intelex" + late


def _sklearn_estimators_loaded() -> bool:
    return any(name in sys.modules for name in ("sklearn.ensemble", "sklearn.linear_model", "sklearn.svm"))
