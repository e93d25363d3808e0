"""genes.csv of a run: one stability ranking per gene field, ranks within (drug, source), known markers."""
import pandas as pd

from ccle.evaluation.genes import genes_table


def test_genes_table_ranks_each_source_and_flags_markers():
    records = [{"drug": "Lapatinib", "split": s, "genes_rfe": [["ERBB2", 1.0], ["G1", 0.5]],
                "genes_enet": [["G1", -0.2]] if s == 0 else []} for s in range(2)]
    markers = pd.DataFrame({"drug": ["Lapatinib"], "gene": ["ERBB2"], "direction": ["sensitive"],
                            "source": ["Barretina 2012"]})
    df = genes_table(records, markers)
    rfe = df[df.source == "RFE"].set_index("gene")
    assert rfe.loc["ERBB2", "rank"] == 1 and rfe.loc["G1", "rank"] == 2
    assert bool(rfe.loc["ERBB2", "known_marker"]) and rfe.loc["ERBB2", "marker_direction"] == "sensitive"
    assert not rfe.loc["G1", "known_marker"]
    en = df[df.source == "EN"].set_index("gene")
    assert en.loc["G1", "selection_frequency"] == 0.5 and en.loc["G1", "rank"] == 1
    assert "PM" not in set(df.source)  # no record had genes_importance


def test_genes_table_without_gene_fields_is_empty_with_the_columns():
    df = genes_table([{"drug": "A", "split": 0}])
    assert df.empty and {"known_marker", "rank", "gene"} <= set(df.columns)


def test_importance_ranks_signed_values_largest_first():
    from ccle.evaluation.genes import importance_genes
    assert importance_genes(["a", "b", "c"], [0.1, -0.5, 0.3], top=None) == [["c", 0.3], ["a", 0.1], ["b", -0.5]]
