"""Which queues a worker tries, in which order, on each dequeue attempt."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

from asyncq.errors import ConfigError
from asyncq.naming import checked_queue_name


class QueueSelector:
    """The protocol's queue order: strict priority, or a weighted shuffle per attempt.

    In weighted mode every attempt shuffles a bag that holds each queue as many times as
    its (GCD-reduced) weight and keeps first appearances, so queue q is tried first with
    probability ``weight_q / sum(weights)`` and empty queues still fall through.
    """

    def __init__(self, weights: Mapping[str, int], strict: bool = False) -> None:
        self.weights = normalized_weights(weights)
        self.strict = strict
        self.names = sorted(self.weights, key=lambda q: (-self.weights[q], q))
        self._bag = [name for name in self.names for _ in range(self.weights[name])]

    def order(self) -> list[str]:
        """The queues to try for one attempt, first choice first."""
        if self.strict or len(self.names) == 1:
            return self.names
        bag = self._bag[:]
        random.shuffle(bag)
        return list(dict.fromkeys(bag))

    def split(self, slots: int) -> list[tuple[list[str], int]]:
        """Orders for ``slots`` independent attempts, grouped by first queue: (order, count).

        Each slot draws its own order, as one-task-per-slot dequeuing would, so a batch of
        leases keeps the weighted split instead of taking the whole batch from one queue.
        """
        if self.strict or len(self.names) == 1:
            return [(self.names, slots)]
        grouped: dict[str, tuple[list[str], int]] = {}
        for _ in range(slots):
            order = self.order()
            first, count = grouped.get(order[0], (order, 0))
            grouped[order[0]] = (first, count + 1)
        return list(grouped.values())


def normalized_weights(weights: Mapping[str, int]) -> dict[str, int]:
    """Weights with invalid names and non-positive values refused, divided by their GCD."""
    for name, weight in weights.items():
        checked_queue_name(name)
        if isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0:
            raise ConfigError(
                f"Queue {name!r} has weight {weight!r}; weights must be positive integers, "
                "e.g. {'critical': 6, 'default': 3, 'low': 1}."
            )
    if not weights:
        return {"default": 1}
    divisor = math.gcd(*weights.values())
    return {name: weight // divisor for name, weight in weights.items()}
