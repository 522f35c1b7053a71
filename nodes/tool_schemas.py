"""Function-calling tool schemas generated from the action vocabulary: one tool per action, same name."""

from typing import Any

from graph.vocabulary import ACTIONS, Args


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """Resolve `$ref`s, collapse `X | None` to `X` and drop pydantic's titles."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        return _inline({**target, **{k: v for k, v in node.items() if k != "$ref"}}, defs)
    options = node.get("anyOf")
    if options and any(o == {"type": "null"} for o in options):
        kept = [o for o in options if o != {"type": "null"}]
        if len(kept) == 1:
            rest = {k: v for k, v in node.items() if k not in ("anyOf", "default")}
            return _inline({**kept[0], **rest}, defs)
    return {k: _inline(v, defs) for k, v in node.items() if k not in ("title", "$defs")}


def parameters_schema(args: type[Args]) -> dict[str, Any]:
    """JSON schema of one action's arguments with enums, bounds and required fields, references inlined."""
    schema = args.model_json_schema()
    clean = _inline(schema, schema.get("$defs", {}))
    clean.setdefault("properties", {})
    return clean


def tool_schemas() -> list[dict[str, Any]]:
    """OpenAI-style tool definitions for every action, in vocabulary order."""
    return [
        {"type": "function",
         "function": {"name": name, "description": action.description,
                      "parameters": parameters_schema(action.args)}}
        for name, action in ACTIONS.items()
    ]
