"""Wall time and resident memory of a block of work, and a description of the machine it ran on."""

import os
import platform
import resource
import threading
import time
from dataclasses import dataclass

import psutil

SAMPLE_S = 0.05


@dataclass
class Measured:
    """Seconds and peak resident memory (MB) of one measured block."""

    seconds: float = 0.0
    peak_rss_mb: float = 0.0


class measured:
    """Context manager timing its block and sampling this process's resident memory every 50 ms."""

    def __enter__(self) -> Measured:
        self.result = Measured()
        self._process = psutil.Process()
        self._done = threading.Event()
        self._peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self._start = time.perf_counter()
        return self.result

    def __exit__(self, *exc) -> None:
        self.result.seconds = time.perf_counter() - self._start
        self._done.set()
        self._thread.join()
        self.result.peak_rss_mb = max(self._peak, self._process.memory_info().rss) / 2**20

    def _sample(self) -> None:
        while not self._done.wait(SAMPLE_S):
            self._peak = max(self._peak, self._process.memory_info().rss)


def process_peak_rss_mb() -> float:
    """Peak resident memory of this whole process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict[str, object]:
    """CPU model, logical cores, memory and software versions of the machine running the bench."""
    import numpy
    import pandas
    import sklearn

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    memory_gib = round(psutil.virtual_memory().total / 2**30, 1)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory_gib,
            "python": platform.python_version(), "numpy": numpy.__version__, "pandas": pandas.__version__,
            "scikit_learn": sklearn.__version__, "load_average": [round(x, 2) for x in os.getloadavg()]}
