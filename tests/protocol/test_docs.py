"""PROTOCOL.md keeps telling the truth: its state table and message table match the code."""

from __future__ import annotations

import re
from pathlib import Path

import opensupport.protocol as protocol
from opensupport.protocol._session import MAX_RECORD_SIZE
from opensupport.protocol._states import transition_table_markdown
from opensupport.protocol._wire import SPECS

DOC = (Path(protocol.__file__).parent / "PROTOCOL.md").read_text(encoding="utf-8")


def test_state_table_is_the_code_table() -> None:
    block = DOC.split("<!-- states:begin -->")[1].split("<!-- states:end -->")[0].strip()
    assert block == transition_table_markdown()


def test_every_message_is_in_the_message_table_with_its_lane_and_reliability() -> None:
    rows = {}
    for line in DOC.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"\d", cells[0]) and cells[1].startswith("0x"):
            rows[(int(cells[0]), int(cells[1], 16))] = cells
    for spec in SPECS:
        cells = rows[(spec.channel, spec.msg_type)]
        assert cells[2].strip("()") == spec.cls.__name__
        assert int(cells[5]) == spec.lane
        assert (cells[6] == "R") == spec.reliable
    assert len(rows) == len(SPECS)


def test_record_size_in_the_document() -> None:
    assert (
        f"{MAX_RECORD_SIZE:,}".replace(",", "\u202f") in DOC
        or f"{MAX_RECORD_SIZE:,}".replace(",", " ") in DOC
    )
