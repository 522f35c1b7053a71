"""Helpers for driving the app with gradio_client."""

import hashlib
import re
from pathlib import Path

from gradio_client import Client

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def text(message: dict) -> str:
    return " ".join(part.get("text", "") for part in message["content"] if isinstance(part, dict))


def panels(client: Client) -> dict:
    table, _, _, downloads, thread, picker, points, _, approval, deployed, monitored, psi = client.predict(
        False, api_name="/panels")  # the Approve / Reject buttons are not API outputs
    return {"table": table, "downloads": downloads or [], "thread": re.search(r"`(\w+)`", thread).group(1),
            "picker": picker, "checkpoints": points, "approval": approval, "deployments": deployed,
            "monitoring": monitored, "psi": psi}


def sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
