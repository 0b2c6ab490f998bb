# Copyright (c) dynamicnet contributors. All rights reserved.
import pytest

from dynamicnet.utils.timing import paired_ratio


def test_paired_ratio_is_the_median_of_per_round_ratios():
    assert paired_ratio([1.0, 4.0, 5.0], [2.0, 8.0, 6.0]) == 0.5
    # A slow round (load on the machine) slows both sides of that round: the paired median
    # keeps the ratio of the undisturbed rounds, the ratio of the medians does not.
    slow_numerator, slow_denominator = [1.0, 10.0, 10.0], [2.0, 2.2, 20.0]
    assert paired_ratio(slow_numerator, slow_denominator) == 0.5
    assert sorted(slow_numerator)[1] / sorted(slow_denominator)[1] == pytest.approx(10 / 2.2)


@pytest.mark.parametrize('numerator,denominator', [([1.0], [1.0, 2.0]), ([], [])])
def test_paired_ratio_needs_equal_rounds(numerator, denominator):
    with pytest.raises(ValueError, match='equally long, non-empty'):
        paired_ratio(numerator, denominator)
