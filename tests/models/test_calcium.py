"""Shouval, Bear & Cooper (2002) Omega: baseline, LTD dip and LTP rise."""

from __future__ import annotations

import numpy as np
import pytest
from models.calcium import omega, plasticity_regions, sig


def test_sig_is_the_logistic() -> None:
    assert sig(0.0, 80.0) == pytest.approx(0.5)
    assert sig(0.1, 10.0) == pytest.approx(np.e / (1 + np.e))
    assert np.isfinite(sig(np.array([-100.0, 100.0]), 80.0)).all()


def test_baseline_at_zero_calcium() -> None:
    # sig(-0.55, 80) ~ 8e-20 and 0.25 sig(-0.35, 80) ~ 2e-13: Omega(0) = 0.25 to 1e-12
    assert omega(0.0) == pytest.approx(0.25, abs=1e-12)


def test_ltd_dip_between_thresholds() -> None:
    ca = np.linspace(0.0, 1.0, 10001)
    om = omega(ca)
    ca_min = ca[np.argmin(om)]
    assert 0.35 < ca_min < 0.55
    assert om.min() < 0.01  # dips almost to zero, far below 0.25
    # by hand at 0.45 µM: 0.25 + sig(-8) - 0.25 sig(8) = 0.25 + 3.35e-4 - 0.24992
    assert omega(0.45) == pytest.approx(0.25 + 1 / (1 + np.e**8) - 0.25 / (1 + np.e**-8), abs=1e-12)


def test_rises_above_baseline_at_high_calcium() -> None:
    assert omega(1.0) > 0.99
    assert omega(0.7) > 0.25


def test_regions_ordered_and_consistent() -> None:
    (d_on, d_off), (p_on, p_off) = plasticity_regions(tol=0.01)
    assert 0.2 < d_on < 0.35 + 0.05
    assert d_on < d_off <= p_on < 0.7
    assert omega(d_on) == pytest.approx(0.24, abs=1e-9)
    assert omega(p_on) == pytest.approx(0.26, abs=1e-9)
    assert p_off == np.inf
