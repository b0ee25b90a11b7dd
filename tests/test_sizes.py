"""Sizes too large for the machine fail at once with torch 2.13.0's error, before any memory is
filled (each case must finish in well under a second; before, ``arange(2**40)`` filled memory for
seconds)."""

import time

import pytest
from conftest import check_raises

import minigrad as mg
from minigrad import _alloc

torch = pytest.importorskip("torch")

HUGE = 2**40  # 4-8 TB of elements: more than this machine's memory (checked below)

CASES = {
    "arange": lambda lib: lib.arange(HUGE),
    "arange_float_step": lambda lib: lib.arange(0, HUGE, 1.0),
    "arange_overflowing_storage": lambda lib: lib.arange(0, 2**62, 1.0),
    "arange_beyond_int64": lambda lib: lib.arange(2**64),
    "linspace": lambda lib: lib.linspace(0, 1, HUGE),
    "linspace_beyond_int64": lambda lib: lib.linspace(0, 1, 2**64),
    "zeros": lambda lib: lib.zeros(HUGE),
    "zeros_2d": lambda lib: lib.zeros(2**20, 2**20),
    "zeros_overflowing_storage": lambda lib: lib.zeros(2**31, 2**31, 4),
    "zeros_beyond_int64": lambda lib: lib.zeros(2**64),
    "ones": lambda lib: lib.ones(HUGE),
    "empty": lambda lib: lib.empty(HUGE),
    "full": lambda lib: lib.full((HUGE,), 1.0),
    "eye": lambda lib: lib.eye(2**21),
    "rand": lambda lib: lib.rand(HUGE),
    "randn": lambda lib: lib.randn(HUGE),
    "randint": lambda lib: lib.randint(0, 5, (HUGE,)),
    "randperm": lambda lib: lib.randperm(HUGE),
    "new_zeros": lambda lib: lib.ones(1).new_zeros(HUGE),
    "new_ones": lambda lib: lib.ones(1).new_ones(HUGE),
    "new_full": lambda lib: lib.ones(1).new_full((HUGE,), 2.0),
    "expand_contiguous": lambda lib: lib.ones(1).expand(HUGE).contiguous(),
    "expand_plus_one": lambda lib: lib.ones(1).expand(HUGE) + 1,
    "zeros_like_expanded": lambda lib: lib.zeros_like(lib.ones(1).expand(HUGE)),
    "ones_like_expanded": lambda lib: lib.ones_like(lib.ones(1).expand(HUGE)),
}


def test_the_machine_has_less_memory_than_the_cases_ask():
    assert _alloc.MEMORY < HUGE


@pytest.mark.parametrize("name", sorted(CASES))
def test_huge_sizes_fail_at_once_with_torchs_error(name):
    start = time.perf_counter()
    check_raises(lambda: CASES[name](torch), lambda: CASES[name](mg))
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("name", ["arange", "zeros", "randn", "linspace"])
def test_the_message_names_the_bytes_as_torchs(name):
    check_raises(lambda: CASES[name](torch), lambda: CASES[name](mg), exact=True)


def test_huge_but_empty_and_huge_views_are_fine_as_in_torch():
    for lib in (torch, mg):
        assert tuple(lib.zeros(0, 2**62).shape) == (0, 2**62)
        assert tuple(lib.ones(1).expand(HUGE).shape) == (HUGE,)
