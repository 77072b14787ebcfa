"""Replay and interop helper for the Go-recorded scenarios in ``tests/compat_data/scenarios``.

A scenario records Go asynq's actions and the whole Redis db 0 afterwards (``redis_after``;
some steps carry an intermediate one). This module turns a live Redis db into the same
normalised form and compares the two, and it loads Go's state into Redis for interop tests.
``tests/compat_data/README.md`` describes the recorded format.

Replay (Python does what Go did, the end state must match)::

    scenario = Scenario.load("05_unique")
    run = Run.start(raw_redis)                 # flushes db 0 and takes t_ref
    info = await client.enqueue(...)           # the scenario's steps, done by Python
    run.bind("<ID1>", info.id)                 # your IDs for Go's placeholders
    assert_same_state(scenario.redis_after, run)

``snapshot(redis)`` gives every key as ``{key: {"type", "ttl", "value"}}``: strings are text
when printable UTF-8 and ``{"hex": ...}`` otherwise; protobuf values (task ``msg``, server,
worker, scheduler entry and history blobs, found by key pattern) become ``{"proto", "hex",
"decoded"}`` with every field in field-number order, bytes as hex and Timestamps as
``{"seconds", "nanos"}``, exactly as the recorded files write them.

``compare(expected, run)`` returns one line per difference:

* placeholders (``<ID1>``, ``<SERVER_ID>``, ``<DATE>`` …) are replaced by the run's bound
  values everywhere except in ``hex`` fields;
* a value with a relative offset (``rel_s``, ``score_rel_s``, ``decoded_rel_s``) is compared
  as an offset from the run's ``t_ref``, within ``tolerance_s`` (2 s for client writes, 6 s
  for worker and scheduler writes, as the README says); sub-second ``nanos`` of such
  Timestamps are ignored; other numbers must match exactly;
* TTLs must lie in the recorded ``range_s``; a key without TTL must have none;
* zset members are matched by value (equal scores need not keep their order); list order
  must match;
* protobuf values are compared field by field; when the message has no map of two or
  more entries and no relative time, its bytes must equal the encoding of the expected
  fields.

Differences that asyncq makes on purpose (protocol section 11) are applied to the
expected state by the test with :func:`patched` before comparing, so each one is visible
and asserted in the test that relies on it.

Interop: ``load_state(redis, state, ids)`` writes a recorded state as Go wrote it (its
protobuf bytes from ``hex``, its IDs from the scenario's ``ids``, TTLs of ``nominal_s``).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from google.protobuf.message import Message

from asyncq.proto import SchedulerEnqueueEvent, SchedulerEntry, ServerInfo, TaskMessage, WorkerInfo

COMPAT_DATA = Path(__file__).parent.parent / "compat_data"
SCENARIOS = COMPAT_DATA / "scenarios"

CLIENT_TOLERANCE_S = 2.0
WORKER_TOLERANCE_S = 6.0

_PROTOS: dict[str, type[Message]] = {
    "TaskMessage": TaskMessage,
    "ServerInfo": ServerInfo,
    "WorkerInfo": WorkerInfo,
    "SchedulerEntry": SchedulerEntry,
    "SchedulerEnqueueEvent": SchedulerEnqueueEvent,
}


# --- recorded scenarios ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One recorded scenario: Go's steps and the Redis states they left."""

    name: str
    data: dict[str, Any]

    @classmethod
    def load(cls, name: str) -> Scenario:
        """``name`` is the file name with or without ``.json`` (``"05_unique"``)."""
        path = SCENARIOS / (name if name.endswith(".json") else f"{name}.json")
        return cls(path.stem, json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def all_names(cls) -> list[str]:
        return sorted(p.stem for p in SCENARIOS.glob("*.json"))

    @property
    def steps(self) -> list[dict[str, Any]]:
        return list(self.data["steps"])

    @property
    def ids(self) -> dict[str, Any]:
        """Go's real values of the placeholders in this run."""
        return dict(self.data["ids"])

    @property
    def t_ref(self) -> float:
        return float(self.data["t_ref_unix"])

    @property
    def redis_after(self) -> dict[str, Any]:
        """The final state: ``{"taken_at_s", "keys": {key: entry}}``."""
        return dict(self.data["redis_after"])

    def step_states(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(step index, state) of every intermediate ``redis_after`` inside a step."""
        for index, step in enumerate(self.steps):
            if "redis_after" in step:
                yield index, step["redis_after"]


# --- a Python run to compare with -----------------------------------------------------------


@dataclass
class Run:
    """A Python replay: its Redis db, its start time and its values for the placeholders."""

    redis: redis.Redis
    t_ref: float
    ids: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, client: redis.Redis) -> Run:
        """Flush the db and start the clock, as the recorder did."""
        client.flushall()
        run = cls(client, time.time())
        run.ids["<DATE>"] = datetime.fromtimestamp(run.t_ref, UTC).strftime("%Y-%m-%d")
        return run

    def bind(self, placeholder: str, value: Any) -> None:
        """Say which of this run's values stands where Go's state has ``placeholder``."""
        self.ids[placeholder] = value

    def rel(self, absolute: float) -> float:
        return absolute - self.t_ref


# --- snapshots ------------------------------------------------------------------------------


def snapshot(client: redis.Redis) -> dict[str, Any]:
    """Every key of the db in the recorded form: ``{key: {"type", "ttl", "value"}}``."""
    state: dict[str, Any] = {}
    for raw_key in sorted(client.keys("*")):
        key = raw_key.decode()
        kind = client.type(raw_key).decode()
        pttl = client.pttl(raw_key)
        state[key] = {
            "type": kind,
            "ttl": None if pttl < 0 else {"observed_ms": pttl},
            "value": _read_value(client, key, kind),
        }
    return state


def _read_value(client: redis.Redis, key: str, kind: str) -> Any:
    if kind == "string":
        return _value(client.get(key), _proto_of_key(key))
    if kind == "hash":
        fields = client.hgetall(key)
        return {f.decode(): _value(v, _proto_of_field(key, f.decode())) for f, v in fields.items()}
    if kind == "list":
        return [_value(v, _proto_of_key(key)) for v in client.lrange(key, 0, -1)]
    if kind == "set":
        return sorted(_value(v, None) for v in client.smembers(key))
    if kind == "zset":
        return [
            {"member": _value(m, _proto_of_key(key)), "score": s}
            for m, s in client.zrange(key, 0, -1, withscores=True)
        ]
    raise AssertionError(f"{key} has a type the protocol never uses: {kind}")


def _proto_of_key(key: str) -> str | None:
    if key.startswith("asynq:servers:{"):
        return "ServerInfo"
    if key.startswith("asynq:schedulers:{"):
        return "SchedulerEntry"
    if key.startswith("asynq:scheduler_history:"):
        return "SchedulerEnqueueEvent"
    return None


def _proto_of_field(key: str, name: str) -> str | None:
    if key.startswith("asynq:workers:{"):
        return "WorkerInfo"
    if ":t:" in key and name == "msg":
        return "TaskMessage"
    return None


def _value(raw: bytes, proto: str | None) -> Any:
    if proto is not None:
        message = _PROTOS[proto].FromString(raw)
        return {"proto": proto, "hex": raw.hex(), "decoded": decoded(message)}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": raw.hex()}
    return text if text.isprintable() else {"hex": raw.hex()}


def decoded(message: Message) -> dict[str, Any]:
    """A message as the recorded files show it: every field, in field-number order."""
    out: dict[str, Any] = {}
    for fd in sorted(message.DESCRIPTOR.fields, key=lambda f: f.number):
        value = getattr(message, fd.name)
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            out[fd.name] = dict(value)
        elif fd.message_type is not None:
            out[fd.name] = {"seconds": value.seconds, "nanos": value.nanos}
        elif fd.type == fd.TYPE_BYTES:
            out[fd.name] = value.hex()
        elif fd.is_repeated:
            out[fd.name] = list(value)
        else:
            out[fd.name] = value
    return out


def encoded(proto: str, fields: Mapping[str, Any]) -> bytes:
    """The deterministic encoding of a message given in the recorded form.

    Timestamps are always written, even when zero, as asynq always sets them.
    """
    message = _PROTOS[proto]()
    for name, value in fields.items():
        fd = message.DESCRIPTOR.fields_by_name[name]
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            getattr(message, name).update(value)
        elif fd.message_type is not None:
            getattr(message, name).SetInParent()
            getattr(message, name).seconds = value["seconds"]
            getattr(message, name).nanos = value["nanos"]
        elif fd.type == fd.TYPE_BYTES:
            setattr(message, name, bytes.fromhex(value))
        elif fd.is_repeated:
            getattr(message, name).extend(value)
        else:
            setattr(message, name, value)
    return message.SerializeToString(deterministic=True)


# --- comparison -----------------------------------------------------------------------------


def patched(state: Mapping[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """A deep copy of a recorded state after ``change(keys)``: for documented differences."""
    copied = copy.deepcopy(dict(state))
    change(copied["keys"])
    return copied


def compare(
    expected: Mapping[str, Any], run: Run, tolerance_s: float = CLIENT_TOLERANCE_S
) -> list[str]:
    """Every difference between a recorded state and the run's db, one line each."""
    want = {_sub(k, run.ids): v for k, v in expected["keys"].items()}
    have = snapshot(run.redis)
    diffs = [f"missing key {k}" for k in sorted(set(want) - set(have))]
    diffs += [f"unexpected key {k}" for k in sorted(set(have) - set(want))]
    checker = _Checker(run, tolerance_s, diffs)
    for key in sorted(set(want) & set(have)):
        checker.key(key, want[key], have[key])
    return diffs


def assert_same_state(
    expected: Mapping[str, Any], run: Run, tolerance_s: float = CLIENT_TOLERANCE_S
) -> None:
    diffs = compare(expected, run, tolerance_s)
    assert not diffs, "Redis state differs from Go's:\n  " + "\n  ".join(diffs)


@dataclass
class _Checker:
    run: Run
    tolerance_s: float
    diffs: list[str]

    def key(self, key: str, want: Mapping[str, Any], have: Mapping[str, Any]) -> None:
        if want["type"] != have["type"]:
            self.diffs.append(f"{key}: type {have['type']}, Go has {want['type']}")
            return
        self.ttl(key, want["ttl"], have["ttl"])
        rel = want.get("rel_s") or {}
        kind = want["type"]
        if kind == "hash":
            self.hash(key, want["value"], have["value"], rel)
        elif kind == "zset":
            self.zset(key, want["value"], have["value"])
        elif kind == "list":
            self.sequence(key, want["value"], have["value"])
        elif kind == "set":
            wanted = sorted(_sub(v, self.run.ids) for v in want["value"])
            if wanted != have["value"]:
                self.diffs.append(f"{key}: members {have['value']}, Go has {wanted}")
        elif "value" in rel:
            self.relative(key, float(have["value"]), rel["value"])
        else:
            self.value(key, want["value"], have["value"])

    def ttl(self, key: str, want: Any, have: Any) -> None:
        if want is None or have is None:
            if (want is None) != (have is None):
                self.diffs.append(f"{key}: TTL {have}, Go has {want}")
            return
        low, high = want["range_s"]
        seconds = have["observed_ms"] / 1000
        if not low - 1 <= seconds <= high:
            self.diffs.append(f"{key}: TTL {seconds:.1f} s outside Go's range {low}..{high} s")

    def hash(self, key: str, want: Mapping[str, Any], have: Mapping[str, Any], rel: Any) -> None:
        wanted = {_sub(f, self.run.ids): v for f, v in want.items()}
        if set(wanted) != set(have):
            self.diffs.append(f"{key}: fields {sorted(have)}, Go has {sorted(wanted)}")
        for name in sorted(set(wanted) & set(have)):
            offset = rel.get(f"{name} (ns -> s)")
            if offset is not None:
                self.relative(f"{key} {name}", int(have[name]) / 1e9, offset)
            else:
                self.value(f"{key} {name}", wanted[name], have[name])

    def zset(self, key: str, want: list[Any], have: list[Any]) -> None:
        remaining = list(have)
        for entry in want:
            match = next((h for h in remaining if self._same(entry["member"], h["member"])), None)
            if match is None:
                self.diffs.append(f"{key}: member {_short(entry['member'])} missing")
                continue
            remaining.remove(match)
            self.value(f"{key} {_short(entry['member'])}", entry["member"], match["member"])
            if "score_rel_s" in entry:
                self.relative(f"{key} score", match["score"], entry["score_rel_s"])
            elif float(entry["score"]) != float(match["score"]):
                self.diffs.append(f"{key}: score {match['score']}, Go has {entry['score']}")
        self.diffs += [f"{key}: unexpected member {_short(h['member'])}" for h in remaining]

    def sequence(self, key: str, want: list[Any], have: list[Any]) -> None:
        if len(want) != len(have):
            self.diffs.append(f"{key}: {len(have)} elements, Go has {len(want)}")
            return
        for index, (w, h) in enumerate(zip(want, have, strict=True)):
            self.value(f"{key}[{index}]", w, h)

    def value(self, where: str, want: Any, have: Any) -> None:
        if isinstance(want, dict) and "proto" in want:
            self.proto(where, want, have)
        elif _sub(want, self.run.ids) != have:
            self.diffs.append(f"{where}: {_short(have)}, Go has {_short(want)}")

    def proto(self, where: str, want: Mapping[str, Any], have: Any) -> None:
        if not isinstance(have, dict) or have.get("proto") != want["proto"]:
            self.diffs.append(f"{where}: not a {want['proto']}: {_short(have)}")
            return
        fields = _sub(want["decoded"], self.run.ids)
        rel = want.get("decoded_rel_s") or {}
        for name, value in fields.items():
            self._field(f"{where} {name}", name, value, have["decoded"][name], rel)
        if _deterministic(fields) and not rel:
            expected_bytes = encoded(want["proto"], fields).hex()
            if expected_bytes != have["hex"]:
                self.diffs.append(f"{where}: bytes {have['hex']}, Go's encode {expected_bytes}")

    def _field(self, where: str, name: str, want: Any, have: Any, rel: Mapping[str, Any]) -> None:
        if name in rel:
            self.relative(where, have, rel[name])
        elif f"{name}.seconds" in rel:
            self.relative(where, have["seconds"], rel[f"{name}.seconds"])
        elif want != have:
            self.diffs.append(f"{where}: {_short(have)}, Go has {_short(want)}")

    def relative(self, where: str, have: float, want_offset: float) -> None:
        offset = self.run.rel(float(have))
        if abs(offset - float(want_offset)) > self.tolerance_s:
            self.diffs.append(
                f"{where}: {offset:+.1f} s after the start, Go has {float(want_offset):+.0f} s "
                f"(tolerance {self.tolerance_s} s)"
            )

    def _same(self, want: Any, have: Any) -> bool:
        if isinstance(want, dict) and "proto" in want:
            fields = _sub(want["decoded"], self.run.ids)
            return isinstance(have, dict) and all(
                have["decoded"].get(k) == v for k, v in fields.items() if isinstance(v, str)
            )
        return bool(_sub(want, self.run.ids) == have)


def _deterministic(fields: Mapping[str, Any]) -> bool:
    """Whether a message has one valid encoding: no map with two or more entries."""
    maps = [v for v in fields.values() if isinstance(v, dict) and "seconds" not in v]
    return all(len(m) < 2 for m in maps)


def _sub(value: Any, ids: Mapping[str, Any]) -> Any:
    """``value`` with every placeholder replaced; a whole-placeholder integer stays an int."""
    if isinstance(value, str):
        if value in ids and isinstance(ids[value], int):
            return ids[value]
        for placeholder, real in ids.items():
            value = value.replace(placeholder, str(real))
        return value
    if isinstance(value, dict):
        return {_sub(k, ids): (v if k == "hex" else _sub(v, ids)) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub(v, ids) for v in value]
    return value


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


# --- loading Go's state ---------------------------------------------------------------------


def load_state(client: redis.Redis, state: Mapping[str, Any], ids: Mapping[str, Any]) -> None:
    """Write a recorded state into an empty db as Go wrote it (ids are Go's real values)."""
    for raw_key, entry in state["keys"].items():
        key = _sub(raw_key, ids)
        _write(client, key, entry, ids)
        if entry["ttl"] is not None:
            client.expire(key, int(entry["ttl"]["nominal_s"]))


def _write(client: redis.Redis, key: str, entry: Mapping[str, Any], ids: Mapping[str, Any]) -> None:
    kind, value = entry["type"], entry["value"]
    if kind == "string":
        client.set(key, _raw(value, ids))
    elif kind == "hash":
        client.hset(key, mapping={_sub(f, ids): _raw(v, ids) for f, v in value.items()})
    elif kind == "list":
        client.rpush(key, *[_raw(v, ids) for v in value])
    elif kind == "set":
        client.sadd(key, *[_raw(v, ids) for v in value])
    elif kind == "zset":
        client.zadd(key, {_raw(e["member"], ids): float(e["score"]) for e in value})
    else:
        raise AssertionError(f"{key}: unknown type {kind}")


def _raw(value: Any, ids: Mapping[str, Any]) -> bytes:
    """The exact bytes of a recorded value."""
    if isinstance(value, dict):
        return bytes.fromhex(value["hex"])
    return str(_sub(value, ids)).encode()
