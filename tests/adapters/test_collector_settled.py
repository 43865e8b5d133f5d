"""Serving, the garbage collector leaves startup's objects and a request's short-lived ones alone."""

from __future__ import annotations

import gc
import weakref

from entrypoints.app import GC_YOUNG, settle_collector


def test_startup_objects_are_frozen_and_the_young_generation_may_grow() -> None:
    before = gc.get_threshold()
    try:
        settle_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_YOUNG, before[1], before[2])
        assert 10 * before[0] < GC_YOUNG  # far more than one request's live objects
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_cycles_are_still_collected_without_being_asked() -> None:
    before = gc.get_threshold()
    try:
        settle_collector()

        class Node:
            other: object = None

        first, second = Node(), Node()
        first.other, second.other = second, first
        gone = weakref.ref(first)
        del first, second
        kept: list[list[int]] = [[] for _ in range(2 * GC_YOUNG)]  # net new objects: the collector runs on its own
        assert gone() is None and len(kept) == 2 * GC_YOUNG
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
