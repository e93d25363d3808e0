"""The cited marker table and each marker's rank in a drug's gene ranking."""
import math

import pandas as pd
import pytest

from ccle.data.markers import MARKERS_FILE, load_markers, marker_ranks
from ccle.errors import CCLEError
from ccle.evaluation.genes import gene_stability

CCLE_DRUGS = {"17-AAG", "AEW541", "AZD0530", "AZD6244", "Erlotinib", "Irinotecan", "L-685458", "LBW242",
              "Lapatinib", "Nilotinib", "Nutlin-3", "PD-0325901", "PD-0332991", "PF2341066", "PHA-665752",
              "PLX4720", "Paclitaxel", "Panobinostat", "RAF265", "Sorafenib", "TAE684", "TKI258", "Topotecan",
              "ZD-6474"}


def test_table_covers_the_24_drugs_with_a_source_on_every_row():
    m = load_markers()
    assert set(m["drug"]) == CCLE_DRUGS
    assert (m["source"].str.len() > 10).all()
    assert m.set_index(["drug", "gene"]).loc[("Lapatinib", "ERBB2"), "direction"] == "sensitive"
    assert m.set_index(["drug", "gene"]).loc[("Paclitaxel", "ABCB1"), "direction"] == "resistant"


def test_bad_table_is_a_one_line_error_naming_the_file(tmp_path):
    bad = tmp_path / "m.csv"
    bad.write_text("drug,gene,direction,source\nX,G,up,somewhere\n")
    with pytest.raises(CCLEError, match=r"m\.csv: line 2"):
        load_markers(bad)
    bad.write_text("drug,gene\nX,G\n")
    with pytest.raises(CCLEError, match="line 1"):
        load_markers(bad)
    assert MARKERS_FILE.exists()


def test_marker_ranks():
    genes = gene_stability("Lapatinib", "EN", [[["GRB7", 0.3], ["ERBB2", 0.2]], [["ERBB2", 0.5]]])
    out = marker_ranks(genes, genes_in_data=["ERBB2", "EGFR", "GRB7"])
    by_gene = out.set_index("gene")
    assert set(out["drug"]) == {"Lapatinib"}
    assert by_gene.loc["ERBB2", "rank"] == 1.0 and by_gene.loc["ERBB2", "selection_frequency"] == 1.0
    assert by_gene.loc["ERBB2", "n_ranked"] == 2
    assert by_gene.loc["EGFR", "in_data"] and math.isnan(by_gene.loc["EGFR", "rank"])
    none = marker_ranks(genes, genes_in_data=["GRB7"])
    assert not none.set_index("gene").loc["ERBB2", "in_data"]
    assert isinstance(out, pd.DataFrame)
