"""Time travel in words: "go back to before tuning and try random forest instead".

Going back is not a plan step: it forks the conversation at the checkpoint taken just before the named
step last ran (the original branch stays as it was), then the rest of the message runs on the fork.
"""

import re
from dataclasses import dataclass

from langgraph.types import StateSnapshot

from graph.vocabulary import ACTIONS, GO_BACK, phrase_regex

# How people name the step to go back before, per action.
STEP_WORDS = {
    "tune": r"tun\w*|optimi[sz]\w*|hyper[\s-]?param\w*(?:\s+search)?|hpo|the\s+study",
    "train": r"train\w*|fit\w*|the\s+models?",
    "describe": r"describ\w*|profil\w*|eda|the\s+analysis",
    "set_target": r"(?:(?:setting|choosing)\s+)?(?:the\s+)?target",
    "exclude": r"exclu\w*|dropping\s+(?:the\s+)?columns?|the\s+exclusion",
    "load": r"load\w*|the\s+(?:data|file)",
    "predict": r"predict\w*",
}
_GO_BACK = re.compile(rf"^\s*(?:please\s+)?(?:{phrase_regex(GO_BACK)})"
                      r"(?:\s+to)?(?:\s+(?:the\s+)?(?:state|point|checkpoint))?\s+"
                      r"(?:(?:just\s+)?before|prior\s+to|ahead\s+of)?\s*(?:the\s+|my\s+|our\s+)?"
                      r"(?P<step>[\w\s-]+?)(?:\s+step)?\s*(?:$|[,;.]|\s+(?:and|then)\b)", re.I)


@dataclass(frozen=True)
class Rewind:
    """A request to go back before the last `action` step, then run `rest` (may be empty)."""

    action: str
    rest: str


def parse(message: str) -> Rewind | None:
    """The rewind a message asks for ("go back to before tuning and …"), or None."""
    found = _GO_BACK.match(message)
    if not found:
        return None
    words = found.group("step").strip()
    action = next((a for a, pattern in STEP_WORDS.items() if re.fullmatch(pattern, words, re.I)), None)
    if action is None:
        return None
    rest = message[found.end():].strip(" ,;.")
    rest = re.sub(r"^(?:and|then)\s+|\s+instead\s*[.!]?$", "", rest, flags=re.I).strip()
    return Rewind(action, rest)


def checkpoint_before(history: list[StateSnapshot], action: str) -> str | None:
    """Id of the newest checkpoint whose next step is `action` (taken just before it ran), or None."""
    node = ACTIONS[action].node
    for snap in history:  # newest first
        plan = (snap.values or {}).get("plan") or []
        if snap.next == (node,) and plan and plan[0]["action"] == action:
            return snap.config["configurable"]["checkpoint_id"]
    return None
