"""The width-search cache of the benchmark tasks: computed once, then read back."""
from ccle.benchmark.tasks import cached_search


def test_cached_search_computes_once(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return (20, 10), [{"widths": [20, 10], "mse": 0.5}]

    first = cached_search(tmp_path, "drug A/split0", compute)
    second = cached_search(tmp_path, "drug A/split0", compute)
    assert first["widths"] == second["widths"] == [20, 10]
    assert not first["cached"] and second["cached"]
    assert len(calls) == 1
