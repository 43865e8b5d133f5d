"""Message ids: Anthropic's shape, and fresh each time."""

from __future__ import annotations

import re

from domain.to_anthropic.response import new_message_id


def test_a_message_id_is_msg_and_24_base62_characters() -> None:
    ids = [new_message_id() for _ in range(2000)]
    assert all(re.fullmatch(r"msg_[A-Za-z0-9]{24}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_every_base62_character_turns_up_in_every_position() -> None:
    ids = [new_message_id()[4:] for _ in range(3000)]
    # 3,000 draws per position: a character missing from one would be a bias, p < 1e-20 by chance.
    for position in range(24):
        assert len({i[position] for i in ids}) == 62
