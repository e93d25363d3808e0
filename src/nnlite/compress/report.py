"""Size accounting of the Deep Compression stages, per Dense layer (all sizes in bytes, rounded up per layer).

For a layer W (n_in, n_out) with bias (n_out,), n surviving weights, m = n + filler entries of ``index_bits``
bits, and a codebook of k shared values (all floats counted as 32 bits, whatever the model dtype):

    dense      = 32 * (n_in * n_out + n_out) / 8
    pruned     = (32 n + index_bits m + 32 n_out) / 8                      relative-index sparse, float32 values
    quantized  = (ceil(log2 k) n + index_bits m + 32 k + 32 n_out) / 8     fixed-width cluster indices + codebook
    huffman    = (Huffman bits of the n cluster indices and the m gap codes + both tables + 32 k + 32 n_out) / 8

``CompressionReport.ratio`` = sum(dense) / sum(huffman); ``file_ratio`` = sum(dense) / size of the .nnz file
(which adds the JSON header and the checksum).
"""
from dataclasses import asdict, dataclass, field

import numpy as np

STAGES = ("dense", "pruned", "quantized", "huffman")


def _bytes(bits):
    return int(-(-int(bits) // 8))


@dataclass
class LayerSizes:
    """Sizes (bytes) of one Dense layer at each stage, and its counts."""
    layer: int
    shape: tuple
    n_nonzero: int
    n_fillers: int
    n_clusters: int
    index_bits: int
    dense: int
    pruned: int
    quantized: int
    huffman: int

    @classmethod
    def from_encoded(cls, i, enc):
        """Sizes of layer ``i`` from a ``fileformat.EncodedLayer`` (its weights as stored)."""
        n_in, n_out = enc.shape
        n, m, k, b = enc.clusters.size, enc.csr.gaps.size, enc.codebook.size, enc.index_bits
        parts = enc.nbits()
        cluster_bits = int(np.ceil(np.log2(k))) if k > 1 else 0
        return cls(
            layer=i, shape=(n_in, n_out), n_nonzero=int(n), n_fillers=int(m - n), n_clusters=int(k), index_bits=b,
            dense=_bytes(32 * (n_in * n_out + n_out)),
            pruned=_bytes(32 * n + b * m + 32 * n_out),
            quantized=_bytes(cluster_bits * n + b * m + 32 * k + 32 * n_out),
            huffman=_bytes(sum(parts.values())),
        )


@dataclass
class CompressionReport:
    """Per-layer sizes, stage totals, compression ratios and the validation MSE after each stage.

    Parameters
    ----------
    layers : list of LayerSizes
        Bytes per stage of each Dense layer.
    val_mse : dict
        Stage -> the model's validation MSE after it: "dense" (the input model), "pruned" (after prune +
        retrain), "quantized" (after weight sharing + centroid fine-tuning) and "huffman" (the model decoded back
        from the .nnz bytes; Huffman coding is lossless, so it equals "quantized").
    file_bytes : int or None
        Size of the written file.
    settings : dict
        The settings the model was compressed with.
    history : dict
        Intermediate figures: validation MSE after each pruning step, sparsity, dropout rates, ...
    encoded : list or None
        The model's per-layer ``fileformat.EncodedLayer`` list the sizes were measured on (not part of
        ``to_dict``), for writing the model without encoding it again.
    """
    layers: list
    val_mse: dict = field(default_factory=dict)
    file_bytes: int = None
    settings: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    encoded: list = field(default=None, repr=False, compare=False)

    def totals(self):
        """Bytes per stage summed over the Dense layers.

        Returns
        -------
        dict
            Stage -> bytes.
        """
        return {s: int(sum(getattr(l, s) for l in self.layers)) for s in STAGES}

    @property
    def ratio(self):
        """Dense float32 bytes / Huffman-stage bytes."""
        t = self.totals()
        return t["dense"] / max(t["huffman"], 1)

    @property
    def file_ratio(self):
        """Dense float32 bytes / bytes of the .nnz file (None if no file size was recorded)."""
        return None if self.file_bytes is None else self.totals()["dense"] / self.file_bytes

    def stage_ratios(self):
        """Dense bytes over the bytes at each stage.

        Returns
        -------
        dict
            Stage -> ratio.
        """
        t = self.totals()
        return {s: t["dense"] / max(t[s], 1) for s in STAGES}

    def to_dict(self):
        """Everything in the report except ``encoded``, JSON-serializable.

        Returns
        -------
        dict
        """
        return {
            "layers": [{**asdict(l), "shape": list(l.shape)} for l in self.layers],
            "totals": self.totals(), "ratios": self.stage_ratios(), "ratio": self.ratio,
            "file_bytes": self.file_bytes, "file_ratio": self.file_ratio,
            "val_mse": dict(self.val_mse), "settings": dict(self.settings), "history": dict(self.history),
        }

    def __str__(self):
        head = f"{'layer':>5} {'shape':>12} {'nonzero':>8} {'fill':>6} {'k':>4} {'b':>3} " + " ".join(
            f"{s:>10}" for s in STAGES)
        rows = [head]
        for l in self.layers:
            rows.append(f"{l.layer:>5} {str(l.shape[0]) + 'x' + str(l.shape[1]):>12} {l.n_nonzero:>8} "
                        f"{l.n_fillers:>6} {l.n_clusters:>4} {l.index_bits:>3} "
                        + " ".join(f"{getattr(l, s):>10}" for s in STAGES))
        t = self.totals()
        rows.append(f"{'total':>5} {'':>12} {'':>8} {'':>6} {'':>4} {'':>3} " + " ".join(f"{t[s]:>10}" for s in STAGES))
        rows.append("ratio vs dense float32: " + ", ".join(f"{s} {r:.1f}x" for s, r in self.stage_ratios().items()))
        if self.file_bytes is not None:
            rows.append(f".nnz file: {self.file_bytes} bytes ({self.file_ratio:.1f}x)")
        if self.val_mse:
            rows.append("validation MSE: " + ", ".join(f"{s} {v:.5g}" for s, v in self.val_mse.items()))
        return "\n".join(rows)
