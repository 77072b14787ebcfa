"""Every Redis state Go asynq v0.26.0 left in the recorded scenarios, ready to load.

Loading goes through the compat helper (``compat.scenario.load_state``); this module only
lists the states and turns placeholders such as ``<ID1>`` back into the run's real values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import redis
from compat.scenario import Scenario, load_state


@dataclass(frozen=True)
class GoSnapshot:
    """One Redis state Go left behind, and the wall-clock time it was taken at."""

    name: str
    state: dict[str, Any]
    ids: dict[str, Any]
    taken_at: float

    @property
    def keys(self) -> dict[str, Any]:
        found: dict[str, Any] = self.state["keys"]
        return found

    def real(self, text: str) -> str:
        for placeholder, value in self.ids.items():
            text = text.replace(placeholder, str(value))
        return text

    def value(self, raw: Any) -> bytes:
        """The exact bytes of one recorded value."""
        if isinstance(raw, dict):
            return bytes.fromhex(raw["hex"])
        return self.real(str(raw)).encode()

    def load(self, client: redis.Redis) -> None:
        load_state(client, self.state, self.ids)


def snapshots() -> Iterator[GoSnapshot]:
    """The final and every intermediate state of every scenario."""
    for name in Scenario.all_names():
        scenario = Scenario.load(name)
        states = [state for _, state in scenario.step_states()] + [scenario.redis_after]
        for i, state in enumerate(states):
            yield GoSnapshot(
                name=f"{name}#{i}",
                state=state,
                ids=scenario.ids,
                taken_at=scenario.t_ref + state["taken_at_s"],
            )
