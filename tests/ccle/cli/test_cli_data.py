"""`cli.py data`: a generated data set of any size, byte-identical to the embedded default data of the same
parameters, readable by the benchmark; `benchmark --scale paper` argument checks."""
import json

from ccle.cli import main
from ccle.data.loader import load_data
from ccle.data.synthetic import default_data


def test_data_command_writes_the_default_generator_output(tmp_path, capsys):
    out = tmp_path / "small"
    assert main(["data", "--genes", "80", "--cells", "520", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out / n) for n in ("expression.gct", "drugs.csv", "truth.json")]
    ref = default_data(cache_dir=tmp_path / "cache", n_genes=80, n_cells=520, seed=3)
    for path in (ref.expression_path, ref.drugs_path, ref.truth_path):
        assert (out / path.name).read_bytes() == path.read_bytes(), path.name
    expression, table = load_data(out / "expression.gct", out / "drugs.csv")
    assert expression.values.shape == (520, 80) and len(table.drugs) == 24
    assert json.loads((out / "truth.json").read_text())["params"]["n_genes"] == 80


def test_data_command_rejects_bad_sizes(tmp_path, capsys):
    assert main(["data", "--genes", "60000", "--out", str(tmp_path / "x")]) == 2
    assert "n_genes must be between 50 and 56318" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["data", "--out", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_scale_paper_is_not_combined_with_quick_or_files(tmp_path, capsys):
    assert main(["benchmark", "--scale", "paper", "--quick", "--out", str(tmp_path / "o")]) == 2
    assert "--scale paper" in capsys.readouterr().err
