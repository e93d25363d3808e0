"""Applicability domain: held-out rows of the training distribution are in domain; rows on another scale are
not, and the whole-file diagnosis names the scale; a transposed matrix is recognized."""
import numpy as np
import pytest

from nnlite.domain import (DISTANCE_MAX, OUTSIDE_SHARE_MAX, DomainProfile, diagnose, looks_transposed,
                           raw_scale_summary, scale_kind)


def _zscored(rng, n=300, p=200):
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 2.0, size=p) + rng.normal(size=p)
    return (X - X.mean(0)) / X.std(0)


def test_held_out_rows_are_in_domain_and_the_thresholds_are_the_documented_ones():
    rng = np.random.default_rng(0)
    X = _zscored(rng)
    prof = DomainProfile().fit(X[:200], raw=X[:200])
    share, dist = prof.score(X[200:])
    assert share.max() < OUTSIDE_SHARE_MAX / 2 and dist.max() < DISTANCE_MAX / 1.5
    assert prof.in_domain(X[200:]).all()
    # a Gaussian row sits at median |z| ~ 0.674
    assert abs(np.median(dist) - 0.674) < 0.1
    assert diagnose(prof.in_domain(X[200:])) is None


def test_tpm_given_to_a_z_score_model_is_out_of_domain_and_named():
    rng = np.random.default_rng(1)
    X = _zscored(rng)
    prof = DomainProfile().fit(X[:200], raw=X[:200])
    tpm = np.maximum(2.0 ** (2.0 * X[200:] + 4.0) - 1.0, 0.0)
    flags = prof.in_domain(tpm)
    assert not flags.any()
    why = diagnose(flags, raw_scale_summary(tpm), prof.raw_scale_)
    assert "unlogged" in why and "z-scored" in why


def test_unlogged_values_given_to_a_log_model_are_named():
    rng = np.random.default_rng(2)
    logv = np.clip(2.0 * _zscored(rng) + 7.0, 0, None)
    prof = DomainProfile().fit(logv[:200], raw=logv[:200])
    unlogged = 2.0 ** logv[200:] - 1.0
    why = diagnose(prof.in_domain(unlogged), raw_scale_summary(unlogged), prof.raw_scale_)
    assert "log2(x + 1)" in why
    # and the other way round: a model of unlogged values given log values
    prof_un = DomainProfile().fit(np.log2(2.0 ** logv[:200]), raw=2.0 ** logv[:200])
    why = diagnose(np.zeros(10, bool), raw_scale_summary(logv[200:]), prof_un.raw_scale_)
    assert "already log-transformed" in why


def test_same_scale_but_unlike_rows_point_to_the_platform():
    why = diagnose(np.zeros(5, bool), {"n_values": 10, "min": -3, "max": 3, "negative_share": 0.5},
                   {"n_values": 10, "min": -4, "max": 4, "negative_share": 0.5})
    assert "platform" in why


def test_scale_kinds():
    assert scale_kind(raw_scale_summary([[-1.0, 0.5], [1.0, -0.2]])) == "centred"
    assert scale_kind(raw_scale_summary([[0.0, 12.0]])) == "log"
    assert scale_kind(raw_scale_summary([[0.0, 1200.0]])) == "unlogged"
    assert scale_kind(raw_scale_summary([[np.nan]])) == "unknown"


def test_round_trip_and_nan_rows():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 8))
    prof = DomainProfile().fit(X, raw=X)
    back = DomainProfile.from_dict(prof.to_dict())
    Y = rng.normal(size=(5, 8))
    Y[0, :3] = np.nan
    Y[1] = np.nan
    np.testing.assert_array_equal(prof.score(Y)[0], back.score(Y)[0])
    share, dist = back.score(Y)
    assert share[1] == 1.0 and dist[1] == np.inf and np.isfinite(dist[0])
    with pytest.raises(ValueError, match="shape"):
        prof.score(Y[:, :3])


def test_transposed_matrix_is_recognized():
    genes = [f"G{i}" for i in range(100)]
    assert looks_transposed(genes, ["A549", "MCF7"], genes)
    assert not looks_transposed(["A549", "MCF7"], genes, genes)
    assert not looks_transposed(genes[:30] + ["x"], ["A549"], genes)
