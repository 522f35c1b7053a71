"""Accelerator choice on a CPU-only machine: probe, fallback, idempotence and patched-vs-stock agreement."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools import accel

ROOT = Path(__file__).resolve().parents[2]
FIT = """
import json, sys
from tools import accel
first = accel.activate({mode!r})
again = accel.activate("cpu")
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
X, y = make_classification(n_samples=1500, n_features=12, n_informative=6, random_state=0)
Xa, Xb, ya, yb = train_test_split(X, y, random_state=0)
scores = {{m.__class__.__name__: m.fit(Xa, ya).score(Xb, yb) for m in
          (LogisticRegression(max_iter=500), RandomForestClassifier(60, max_depth=8, random_state=0))}}
print(json.dumps({{"info": first, "again": again, "device": accel.device(), "scores": scores,
                  "module": RandomForestClassifier.__module__, "pandas": "pandas" in sys.modules}}))
"""


def _start(mode: str | None, env_mode: str) -> subprocess.Popen:
    env = {**os.environ, accel.ENV: env_mode}
    return subprocess.Popen(
        [sys.executable, "-c", FIT.format(mode=mode)],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _result(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, err
    assert "Intel(R) Extension" not in out + err  # the banner is silenced
    return json.loads(out.strip().splitlines()[-1])


def test_probe_finds_no_gpu_here():
    assert accel.gpu_available() is False
    count, reason = accel._driver_device_count("libcuda-absent.so.1")
    assert count == 0 and "not found" in reason


def test_fake_nvidia_smi_without_driver_is_not_a_gpu(tmp_path, monkeypatch):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0000)'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert accel._nvidia_smi_names() == ["GPU 0: NVIDIA H100 80GB HBM3"]
    assert accel.gpu_available() is False  # the driver decides, not the tool's output


def test_missing_nvidia_smi_lists_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert accel._nvidia_smi_names() == []


def test_fresh_process_info_and_unknown_mode():
    code = (
        "import json, sys; from tools import accel;"
        "before = [accel.info(), accel.device(), 'pandas' in sys.modules];"
        "print(json.dumps([before, accel.activate('turbo')]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    (info, where, pandas_loaded), chosen = json.loads(done.stdout)
    assert info["mode"] == "unset" and info["accelerator"] == "none" and where == "cpu"
    assert not pandas_loaded  # importing the module must not import pandas
    assert chosen["mode"] == "auto" and "unknown acceleration mode 'turbo'" in chosen["reason"]


def test_patched_and_stock_agree_and_gpu_falls_back():
    runs = {"none": _start(None, "none"), "cpu": _start(None, "cpu"), "gpu": _start("gpu", "none")}
    stock, patched, gpu = (_result(runs[k]) for k in ("none", "cpu", "gpu"))
    assert stock["info"] == {
        "mode": "none",
        "accelerator": "none",
        "device": "cpu",
        "reason": "acceleration turned off (mode none)",
    }
    assert stock["again"] == stock["info"]  # the first call decides
    assert stock["module"].startswith("sklearn.")
    assert patched["info"]["accelerator"] == "sklearnex" and patched["module"].startswith("sklearnex")
    assert "before activation" not in patched["info"]["reason"]
    for model, score in stock["scores"].items():
        assert abs(score - patched["scores"][model]) <= 0.02, (model, score, patched["scores"][model])
    assert gpu["info"]["mode"] == "gpu" and gpu["device"] == "cpu"  # the argument wins over the environment
    assert "no CUDA driver" in gpu["info"]["reason"] and "using the CPU" in gpu["info"]["reason"]
    assert gpu["info"]["accelerator"] == "sklearnex"


GPU_RUN = """
import json, sys
from tools import accel
accel._driver_device_count = lambda *args: (1, "ok")  # pretend the CUDA driver found one device
print(json.dumps(accel.activate("auto")))
"""


def _fake_rapids(root: Path, cuml_works: bool) -> None:
    """Stand-ins for the RAPIDS wheels: like the real cuML, importing cuml imports pandas."""
    (root / "cudf").mkdir()
    (root / "cudf" / "__init__.py").write_text("")
    (root / "cudf" / "pandas.py").write_text(
        "import sys\nEARLY = 'pandas' in sys.modules\n"
        "def install():\n    assert not EARLY, 'cudf.pandas installed after pandas was imported'\n"
        "    open(__file__ + '.installed', 'w').close()\n")
    (root / "cuml").mkdir()
    (root / "cuml" / "__init__.py").write_text("import pandas\n")
    body = "def install():\n    pass\n" if cuml_works else "raise ImportError('libcuml.so missing')\n"
    (root / "cuml" / "accel.py").write_text(body)


@pytest.mark.parametrize("cuml_works, device, said", [
    (True, "gpu", "cudf.pandas installed"),  # and before cuML imported pandas (the stand-in asserts it)
    (False, "cpu", "cuML is unavailable"),
])
def test_gpu_path_installs_cudf_pandas_first_and_falls_back_without_cuml(
        tmp_path: Path, cuml_works: bool, device: str, said: str) -> None:
    _fake_rapids(tmp_path, cuml_works)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    done = subprocess.run([sys.executable, "-c", GPU_RUN], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert info["device"] == device and said in info["reason"]


SERVE_RUN = """
import sys
from tools import accel
accel._driver_device_count = lambda *args: (1, "ok")  # pretend the CUDA driver found one device
import app
sys.exit(app.main(["--home", sys.argv[1], "--accel", "auto", "serve", "--port", sys.argv[2]]))
"""


def test_serve_installs_the_accelerator_before_the_ui_imports_pandas(tmp_path: Path) -> None:
    _fake_rapids(tmp_path, cuml_works=True)  # its cudf.pandas.install() fails if pandas came first
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}", "GRADIO_ANALYTICS_ENABLED": "False"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", SERVE_RUN, str(tmp_path / "home"), str(port)], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.5)
        assert server.poll() is None, server.stdout.read()  # it serves: no install after pandas
        assert (tmp_path / "cudf" / "pandas.py.installed").exists()  # and cudf.pandas was installed
    finally:
        server.kill()
        server.wait()


THREAD_FIT = """
import threading
from tools import accel
accel.activate("cpu")
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
X, y = make_classification(300, random_state=0)
fit = threading.Thread(target=lambda: RandomForestClassifier(10).fit(X, y).predict(X))  # as graph nodes do
fit.start()
fit.join()
"""


def test_fits_in_worker_threads_do_not_flood_the_log_with_sklearnex_warnings() -> None:
    done = subprocess.run([sys.executable, "-c", THREAD_FIT], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    assert "parallel backend is not supported" not in done.stderr
