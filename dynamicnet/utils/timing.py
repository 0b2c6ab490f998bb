# Copyright (c) dynamicnet contributors. All rights reserved.
"""Ratios of interleaved timings, for the benchmarks under ``tools/analysis_tools``.

The benchmarks call every timed function once per round, so the two times of a round were taken
close together. On a shared machine the load changes between rounds; the median of the per-round
ratios cancels it, where the ratio of two separately taken medians does not.
"""
import statistics
from typing import Sequence

__all__ = ['paired_ratio']


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """Median over rounds of ``numerator[i] / denominator[i]``.

    Args:
        numerator: Seconds per round of one timed function.
        denominator: Seconds per round of another, from the same rounds.
    """
    if len(numerator) != len(denominator) or not numerator:
        raise ValueError(f'need two equally long, non-empty series of rounds, got '
                         f'{len(numerator)} and {len(denominator)}')
    return statistics.median(n / d for n, d in zip(numerator, denominator))
