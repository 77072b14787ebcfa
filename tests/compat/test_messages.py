"""Every golden protobuf encoding of Go asynq v0.26.0 (``messages.json``), in both directions.

Decoding Go's bytes gives Go's fields; encoding those fields gives Go's bytes. A message
with two or more map entries has several valid encodings (Go writes map entries in random
order): ours must be one that Go was seen to write, and our deterministic encoding must
equal Go's deterministic one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf.message import Message

from asyncq.proto import SchedulerEnqueueEvent, SchedulerEntry, ServerInfo, TaskMessage, WorkerInfo
from compat.scenario import COMPAT_DATA, decoded, encoded

MESSAGES = json.loads((COMPAT_DATA / "messages.json").read_text(encoding="utf-8"))
PROTOS = ["TaskMessage", "ServerInfo", "WorkerInfo", "SchedulerEntry", "SchedulerEnqueueEvent"]
PROTO_TYPES: dict[str, type[Message]] = {
    "TaskMessage": TaskMessage,
    "ServerInfo": ServerInfo,
    "WorkerInfo": WorkerInfo,
    "SchedulerEntry": SchedulerEntry,
    "SchedulerEnqueueEvent": SchedulerEnqueueEvent,
}

CASES = [(proto, case) for proto in PROTOS for case in MESSAGES[proto]]


def case_id(value: Any) -> str:
    return value if isinstance(value, str) else value["name"]


@pytest.mark.parametrize(("proto", "case"), CASES, ids=case_id)
def test_go_bytes_decode_to_go_fields(proto: str, case: dict[str, Any]) -> None:
    message = PROTO_TYPES[proto].FromString(bytes.fromhex(case["hex"]))

    assert decoded(message) == case["fields"]


@pytest.mark.parametrize(("proto", "case"), CASES, ids=case_id)
def test_go_fields_encode_to_go_bytes(proto: str, case: dict[str, Any]) -> None:
    ours = encoded(proto, case["fields"]).hex()

    if "hex_variants_observed" in case:
        assert ours in {*case["hex_variants_observed"], case["hex_deterministic"]}
    else:
        assert ours == case["hex"] == case["hex_deterministic"]


@pytest.mark.parametrize(
    ("proto", "case"), [(p, c) for p, c in CASES if "hex_variants_observed" in c], ids=case_id
)
def test_every_map_order_go_wrote_decodes_to_the_same_fields(
    proto: str, case: dict[str, Any]
) -> None:
    variants = {*case["hex_variants_observed"], case["hex_deterministic"]}

    for variant in variants:
        assert decoded(PROTO_TYPES[proto].FromString(bytes.fromhex(variant))) == case["fields"]


def test_headers_are_written_last_as_go_writes_field_15() -> None:
    message = TaskMessage(type="email:send", id="x")
    message.headers["trace-id"] = "abc"

    assert message.SerializeToString().hex().endswith("7a0f0a0874726163652d69641203616263")
