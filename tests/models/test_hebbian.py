"""Oja's rule normalises and finds the principal component; plain Hebb diverges; BCM signs."""

from __future__ import annotations

import numpy as np
import pytest
from models.hebbian import (
    bcm_phi,
    gaussian_inputs,
    hebbian_weights,
    oja_weights,
    principal_eigenvector,
)

COV = np.array([[2.0, 1.0], [1.0, 1.0]])


def test_principal_eigenvector_by_hand() -> None:
    # eigenvalue (3 + sqrt 5)/2 has eigenvector (1, (sqrt 5 - 1)/2), up to sign and scale
    v = principal_eigenvector(COV)
    expected = np.array([1.0, (np.sqrt(5) - 1) / 2])
    expected /= np.linalg.norm(expected)
    assert abs(v @ expected) == pytest.approx(1.0, abs=1e-12)


def test_oja_unit_norm_and_alignment() -> None:
    x = gaussian_inputs(COV, 4000, seed=3)
    w = oja_weights(x, np.array([0.3, -0.2]), eta=0.005)
    final = w[-1]
    assert np.linalg.norm(final) == pytest.approx(1.0, abs=0.05)
    cos = final @ principal_eigenvector(COV) / np.linalg.norm(final)
    assert abs(cos) > 0.99


def test_plain_hebb_diverges() -> None:
    x = gaussian_inputs(COV, 2000, seed=3)
    w = hebbian_weights(x, np.array([0.3, -0.2]), eta=0.005)
    norms = np.linalg.norm(w, axis=1)
    assert norms[-1] > 1e6 * norms[0]


def test_sample_covariance_close_to_target() -> None:
    x = gaussian_inputs(COV, 20000, seed=0)
    assert np.allclose(np.cov(x.T), COV, atol=0.1)


@pytest.mark.parametrize("theta", [0.5, 1.0, 1.5])
def test_bcm_sign_change_at_theta(theta: float) -> None:
    assert bcm_phi(np.array(theta * 0.5), theta) < 0
    assert bcm_phi(np.array(theta), theta) == 0
    assert bcm_phi(np.array(theta * 1.5), theta) > 0
    assert bcm_phi(np.array(0.0), theta) == 0
    # by hand: phi(2) = 2 (2 - theta)
    assert bcm_phi(np.array(2.0), theta) == pytest.approx(2 * (2 - theta))
