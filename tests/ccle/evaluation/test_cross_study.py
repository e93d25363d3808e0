"""Cross-study matching of compounds and the sign-aligned agreement measures."""
import numpy as np
import pytest
from scipy import stats

from ccle.evaluation.cross_study import (SYNONYMS, aligned_correlations, direction_sign, drug_key, match_drugs,
                                         shared_lines)


def test_drug_key_ignores_case_spaces_and_punctuation():
    assert drug_key("PD-0325901") == drug_key("pd 0325901") == drug_key("PD0325901") == "pd0325901"
    assert drug_key("Nutlin-3a (-)") == "nutlin3a"
    assert drug_key("17-AAG") != drug_key("17-DMAG")


def test_matches_by_name_normalized_name_and_synonym_with_its_source():
    matches, unmatched = match_drugs(
        ["Lapatinib", "PD-0325901", "AZD6244", "LBW242"],
        ["Selumetinib (1062)", "Selumetinib (1498)", "PD0325901", "Lapatinib", "Other"],
        test_names={"Selumetinib (1062)": "Selumetinib", "Selumetinib (1498)": "Selumetinib"})
    got = {(m.train, m.test): m.how for m in matches}
    assert got[("Lapatinib", "Lapatinib")] == "same name"
    assert got[("PD-0325901", "PD0325901")] == "same name ignoring case, spaces and punctuation"
    # one name screened under two ids: two test drugs, two matches, both through the synonym entry
    for label in ("Selumetinib (1062)", "Selumetinib (1498)"):
        assert got[("AZD6244", label)].startswith("synonym: AZD6244 = Selumetinib (")
    assert unmatched == ["LBW242"]
    assert len(matches) == 4


def test_a_synonym_matches_in_either_direction_and_every_entry_has_a_source():
    matches, _ = match_drugs(["Crizotinib"], ["PF2341066"])
    assert [(m.train, m.test) for m in matches] == [("Crizotinib", "PF2341066")]
    assert all(len(entry) == 3 and entry[2] for entry in SYNONYMS)


def test_direction_sign():
    assert direction_sign(1, -1) == -1 and direction_sign(-1, -1) == 1 and direction_sign(1, 1) == 1
    with pytest.raises(ValueError):
        direction_sign(0, 1)


def test_aligned_correlations_equal_scipy_and_flip_with_the_sign():
    rng = np.random.default_rng(0)
    a = rng.normal(size=50)
    b = -3.0 * np.exp(a) + rng.normal(0, 0.1, 50)   # opposite direction, another scale
    raw = aligned_correlations(a, b, 1)
    aligned = aligned_correlations(a, b, -1)
    assert raw["n"] == aligned["n"] == 50
    assert raw["spearman"] == pytest.approx(stats.spearmanr(a, b)[0])
    assert raw["pearson"] == pytest.approx(stats.pearsonr(a, b)[0])
    assert aligned["spearman"] == pytest.approx(-raw["spearman"]) and aligned["spearman"] > 0.9


def test_aligned_correlations_skip_missing_pairs_and_are_nan_when_undefined():
    out = aligned_correlations([1.0, np.nan, 3.0, 4.0, 5.0], [2.0, 1.0, np.nan, 8.0, 9.0], 1)
    assert out["n"] == 3 and out["spearman"] == pytest.approx(1.0)
    assert np.isnan(aligned_correlations([1.0, 1.0, 1.0], [1.0, 2.0, 3.0], 1)["spearman"])
    assert np.isnan(aligned_correlations([1.0, 2.0], [1.0, 2.0], 1)["pearson"])


def test_shared_lines_pairs_the_lines_both_studies_measured():
    keys, a, b = shared_lines(["A_LUNG", "B_SKIN", "C_LUNG"], [1.0, 2.0, 3.0], ["c_lung", "A_LUNG"], [30.0, 10.0],
                              key=str.upper)
    assert keys == ["A_LUNG", "C_LUNG"]
    np.testing.assert_array_equal(a, [1.0, 3.0])
    np.testing.assert_array_equal(b, [10.0, 30.0])
