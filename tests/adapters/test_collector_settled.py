"""Serving, the garbage collector leaves startup's objects alone."""

from __future__ import annotations

import gc
import weakref

from entrypoints.app import YOUNG_COLLECTION, settle_collector


def test_startup_objects_are_frozen_out_of_later_collections_which_come_less_often() -> None:
    before = gc.get_threshold()
    try:
        settle_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_COLLECTION, *before[1:])  # the older generations' as they were
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_cycles_made_later_are_still_collected_without_being_asked() -> None:
    before = gc.get_threshold()
    try:
        settle_collector()

        class Node:
            other: object = None

        first, second = Node(), Node()
        first.other, second.other = second, first
        gone = weakref.ref(first)
        del first, second
        kept: list[list[int]] = [[] for _ in range(100 * gc.get_threshold()[0])]  # the collector runs on its own
        assert gone() is None and kept
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
