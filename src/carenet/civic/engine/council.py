"""The residents' council vote (议事委员会): quorum, then a simple majority of the members present."""
from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_QUORUM = 2 / 3  # share of members who must take part (present: yes + no + abstain)


@dataclass(frozen=True)
class VoteResult:
    members: int
    present: int
    yes: int
    no: int
    abstain: int
    needed_present: int
    quorate: bool
    passed: bool
    explanation: str


def tally(members: int, yes: int, no: int, abstain: int, quorum: float = DEFAULT_QUORUM) -> VoteResult:
    """Quorum: at least ceil(quorum × members) members take part. Passed: more yes than half of those present."""
    if members <= 0:
        raise ValueError("the council needs at least one member")
    if min(yes, no, abstain) < 0:
        raise ValueError("vote counts cannot be negative")
    if not 0 < quorum <= 1:
        raise ValueError("quorum must be a share between 0 and 1")
    present = yes + no + abstain
    if present > members:
        raise ValueError(f"{present} votes from a council of {members}")
    needed = math.ceil(quorum * members - 1e-9)
    quorate = present >= needed
    passed = quorate and yes * 2 > present
    explanation = (f"{present}/{members} present (quorum {needed}); yes {yes}, no {no}, abstain {abstain}: "
                   + ("passed" if passed else "not passed" if quorate else "no quorum"))
    return VoteResult(members, present, yes, no, abstain, needed, quorate, passed, explanation)
