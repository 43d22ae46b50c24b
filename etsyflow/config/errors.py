"""The one error a wrong configuration raises."""

from __future__ import annotations


class ConfigError(ValueError):
    """One or more environment variables hold a wrong value; ``problems`` names each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
