"""Typed, user-facing errors: the message says what was wrong and what to do about it."""


class ToolError(Exception):
    """Base of every expected failure in tools/; `str(error)` is shown to the user as is."""


class DataError(ToolError):
    """The file or table cannot be used (unreadable, empty, too few rows, malformed)."""


class ColumnError(ToolError):
    """A column or target is unknown or unusable."""


class ModelError(ToolError):
    """A model key is unknown or does not fit the task."""


class ArtifactError(ToolError):
    """A model, workspace or other artifact file is missing or unreadable."""
