"""The rule every queue name follows, checked where names enter asyncq.

Every key of a queue carries its name inside a Redis Cluster hash tag, ``asynq:{Q}:...``,
so that all of them hash to one slot and one script can change them together. Redis hashes
only the text between the first ``{`` and the next ``}``: a name holding a brace would cut
the tag short and scatter the queue's keys over several slots. Surrounding spaces are
refused too, since names that differ only in them look alike in every tool and log line.
"""

from __future__ import annotations

from asyncq.errors import ConfigError


def checked_queue_name(name: str) -> str:
    """``name`` when it is a valid queue name; otherwise a ConfigError saying why."""
    if not name.strip():
        raise ConfigError(
            "The queue name is blank, but a queue name must contain one or more characters; "
            "pass a name such as 'default'."
        )
    if "{" in name or "}" in name:
        raise ConfigError(
            f"Queue name {name!r} contains a brace; braces would break the hash tag that keeps "
            "a queue's keys in one Redis Cluster slot. Use letters, digits and punctuation "
            "other than '{' and '}'."
        )
    if name != name.strip():
        raise ConfigError(
            f"Queue name {name!r} starts or ends with whitespace; remove it, e.g. {name.strip()!r}."
        )
    return name
