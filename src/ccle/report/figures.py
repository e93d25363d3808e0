"""The report's figures; the only module of the project that imports matplotlib (lazily, the `plot` extra).

Every function takes already computed numbers and returns a matplotlib Figure; :func:`save` writes it as PNG
and SVG next to the report. Without matplotlib :func:`available` is False and the report says so.
"""
import io
import math
from pathlib import Path

import numpy as np

from ccle.methods import colors
from ccle.report.tables import method_label

CLASS_NAMES = ("resistant", "moderate", "sensitive")


def _plt():
    # lazy: matplotlib is an optional extra and slow to import; the Agg backend needs no display
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def available():
    """True when matplotlib can be imported."""
    return _plt() is not None


def _colors(methods):
    # one colour per method in every figure, the registered one (the per-drug mean is grey: the reference)
    return colors(methods)


def save(fig, out_dir, name):
    """Write ``fig`` as ``<name>.png`` (150 dpi) and ``<name>.svg`` in ``out_dir``, close it and return
    ``(png_path, svg_text)`` (the SVG is embedded in report.html)."""
    plt = _plt()
    out_dir = Path(out_dir)
    png = out_dir / f"{name}.png"
    fig.savefig(png, dpi=150, bbox_inches="tight", metadata={"Software": None})
    buf = io.StringIO()
    fig.savefig(buf, format="svg", dpi=150, bbox_inches="tight", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    (out_dir / f"{name}.svg").write_text(svg)
    plt.close(fig)
    return png, svg


def dot_plot(values, drugs, methods, metric_label):
    """Per drug (rows) and method (markers, offset vertically): the mean of the metric over splits with a line
    from its minimum to its maximum over splits. ``values[(drug, method)]`` is a list of per-split values."""
    plt = _plt()
    colors = _colors(methods)
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(drugs) + 1.6))
    step = 0.7 / max(len(methods), 1)
    for j, m in enumerate(methods):
        off = -0.35 + step * (j + 0.5)
        for i, d in enumerate(drugs):
            v = np.asarray(values.get((d, m), []), dtype=float)
            if not v.size:
                continue
            y = i + off
            ax.plot([v.min(), v.max()], [y, y], color=colors[m], lw=1.2, alpha=0.7)
            ax.plot([v.mean()], [y], "o", color=colors[m], ms=4.5, label=method_label(m) if i == 0 else None)
    ax.set_yticks(range(len(drugs)))
    ax.set_yticklabels(drugs)
    ax.set_ylim(len(drugs) - 0.5, -0.5)
    for i in range(1, len(drugs)):
        ax.axhline(i - 0.5, color="0.9", lw=0.6, zorder=0)
    if metric_label.startswith("R"):
        ax.axvline(0.0, color="0.4", lw=0.8, ls="--")
    ax.set_xlabel(f"test {metric_label} (dot: mean over splits; line: min to max over splits)")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.set_title(f"Test {metric_label} per drug and method")
    fig.tight_layout()
    return fig


def cd_diagram(cd_result):
    """Critical-difference diagram (Demsar 2006): the methods on an axis of average rank (1 = best, left),
    thick bars joining methods whose average ranks differ by less than the Nemenyi CD."""
    from ccle.report.stats import cliques  # stats -> tables only; kept local so figures import little

    plt = _plt()
    methods, ranks, cd = cd_result["methods"], cd_result["avg_ranks"], cd_result["cd"]
    k = len(methods)
    order = list(np.argsort(ranks, kind="stable"))
    groups = cliques(ranks, cd)
    half = math.ceil(k / 2)
    height = 1.3 + 0.3 * max(half, 1) + 0.12 * len(groups)
    fig, ax = plt.subplots(figsize=(7.5, height))
    ax.set_xlim(0.5, k + 0.5)
    ax.set_ylim(-half * 0.6 - 0.3 * len(groups) - 0.4, 1.9)
    ax.axis("off")
    ax.plot([1, k], [0, 0], color="black", lw=1)
    for r in range(1, k + 1):
        ax.plot([r, r], [0, 0.12], color="black", lw=1)
        ax.text(r, 0.22, str(r), ha="center", va="bottom", fontsize=9)
    ax.text((k + 1) / 2, 0.75, "average rank over drugs (1 = lowest test MSE)", ha="center", fontsize=9)
    for pos, i in enumerate(order):
        left = pos < half
        level = -(pos + 1) if left else -(k - pos)
        y = level * 0.6 - 0.3 * len(groups)
        x_end = 0.55 if left else k + 0.45
        ax.plot([ranks[i], ranks[i], x_end], [0, y, y], color="0.3", lw=0.9)
        ax.text(x_end + (-0.02 if left else 0.02), y, f"{method_label(methods[i])} ({ranks[i]:.2f})",
                ha="right" if left else "left", va="center", fontsize=9)
    for g_i, g in enumerate(groups):
        lo, hi = min(ranks[i] for i in g), max(ranks[i] for i in g)
        y = -0.25 - 0.25 * g_i
        ax.plot([lo - 0.03, hi + 0.03], [y, y], color="black", lw=3.5, solid_capstyle="round")
    # a CD wider than the rank axis (few drugs) is clipped to it and said so
    ax.plot([1, min(1 + cd, k)], [1.25, 1.25], color="firebrick", lw=2)
    ax.text(1, 1.4, f"critical difference = {cd:.2f}" + (" (wider than the axis)" if 1 + cd > k else ""),
            ha="left", va="bottom", fontsize=9, color="firebrick")
    p = cd_result["friedman_p"]
    ax.set_title(f"Critical difference (Nemenyi, alpha {cd_result['alpha']}) over {cd_result['n_drugs']} drugs;"
                 f" Friedman p = {p:.3g}" if p == p else
                 f"Critical difference (Nemenyi) over {cd_result['n_drugs']} drugs", fontsize=10)
    fig.tight_layout()
    return fig


def _label_subs(lo, hi):
    """Labelled multiples per decade of a log axis from lo to hi: 1-2-5 up to 1.5 decades, 1-3 up to 2.5,
    the decades alone beyond (about a dozen labels at most on a half-page panel)."""
    decades = np.log10(max(hi, 1e-300) / max(lo, 1e-300))
    if decades <= 1.5:
        return (1.0, 2.0, 5.0)
    if decades <= 2.5:
        return (1.0, 3.0)
    return (1.0,)


def _seconds_formatter():
    from matplotlib.ticker import FuncFormatter

    def fmt(x, _pos):
        if x >= 60:
            return f"{x / 60:g} min"
        return f"{x:g} s"
    return FuncFormatter(fmt)


def fig3(summary, methods, trivial=None):
    """Paper Fig. 3 done properly, two panels: sensitivity accuracy and test MSE against training seconds per
    drug (log axis in seconds). ``summary[method]`` holds per-drug arrays ``seconds``, ``acc``, ``mse``; one
    marker per method at the median seconds and mean metric over drugs, error bars = interquartile range of
    the seconds and sd of the metric over drugs. ``trivial`` = ``{"acc": .., "mse": ..}`` levels drawn dashed
    (the per-drug mean predictor), plus the 0.5 accuracy of always calling "moderate"."""
    from matplotlib.ticker import LogLocator, NullFormatter  # matplotlib is optional: imported with the figure

    plt = _plt()
    colors = _colors(methods)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, key, label in ((axes[0], "acc", "sensitivity accuracy (3 IQR classes)"),
                           (axes[1], "mse", "test MSE")):
        for m in methods:
            s = summary[m]
            sec, val = np.asarray(s["seconds"], float), np.asarray(s[key], float)
            ok = np.isfinite(sec) & np.isfinite(val) & (sec > 0)
            if not ok.any():
                continue
            sec, val = sec[ok], val[ok]
            x = float(np.median(sec))
            q1, q3 = np.percentile(sec, [25, 75])
            y, sd = float(val.mean()), float(val.std(ddof=1)) if val.size > 1 else 0.0
            ax.errorbar([x], [y], xerr=[[x - q1], [q3 - x]], yerr=[[sd], [sd]], fmt="o", ms=8, capsize=3,
                        color=colors[m], mec="black", label=method_label(m))
        if trivial and trivial.get(key) is not None:
            ax.axhline(trivial[key], color="0.35", ls="--", lw=1, label="per-drug mean predictor")
        if key == "acc":
            ax.axhline(0.5, color="0.6", ls=":", lw=1, label='always "moderate" (0.5)')
        ax.set_xscale("log")
        # matplotlib's own labels overlap on a narrow range (its labelled minor ticks) and 1-2-5 labels overlap
        # on a wide one (0.01 s to 40 s): as many labels per decade as the span leaves room for
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=_label_subs(*ax.get_xlim())))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_formatter(_seconds_formatter())
        ax.set_xlabel("training time per drug and split (log scale)")
        ax.set_ylabel(label)
        ax.grid(True, which="major", color="0.92")
    axes[0].set_title("Accuracy against training time (cf. paper Fig. 3)", fontsize=10)
    axes[1].set_title("Test MSE against training time", fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1 if len(labels) <= 5 else 0.14, 1, 1))
    return fig


def scatter_grid(panels, methods):
    """Observed against predicted test responses, one panel per drug (small multiples), one colour per method.
    ``panels[drug] = {"points": {method: (observed, predicted)}, "thresholds": (low, high) or None}``; the
    IQR thresholds of the observed training responses are drawn on both axes, the diagonal dotted."""
    plt = _plt()
    colors = _colors(methods)
    drugs = list(panels)
    ncol = min(4, len(drugs))
    nrow = math.ceil(len(drugs) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.6 * ncol, 2.5 * nrow + 0.5), squeeze=False)
    for ax in axes.ravel()[len(drugs):]:
        ax.axis("off")
    for ax, d in zip(axes.ravel(), drugs):
        lo_hi = []
        for m in methods:
            if m not in panels[d]["points"]:
                continue
            obs, pred = panels[d]["points"][m]
            # thousands of points per panel: drawn as pixels inside the SVG, which would otherwise hold MBs
            ax.scatter(obs, pred, s=7, alpha=0.55, color=colors[m], label=method_label(m), lw=0, rasterized=True)
            lo_hi += [np.min(obs), np.max(obs), np.min(pred), np.max(pred)]
        if lo_hi:
            lo, hi = min(lo_hi), max(lo_hi)
            ax.plot([lo, hi], [lo, hi], color="0.5", ls=":", lw=0.8)
        th = panels[d].get("thresholds")
        if th:
            for t in th:
                ax.axvline(t, color="0.3", ls="--", lw=0.7)
                ax.axhline(t, color="0.3", ls="--", lw=0.7)
        ax.set_title(d, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("observed", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("predicted", fontsize=8)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False, markerscale=3)
    # room for the one legend line (about 0.35 inch), whatever the number of rows of panels
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1))
    return fig


def confusion_grid(mats):
    """Confusion matrices ``{rule: {method: 3x3 counts [observed][predicted]}}`` as heat maps of row fractions
    (each observed class sums to 1) with the counts in the cells: one row of panels per rule, one column per
    method."""
    plt = _plt()
    rules = list(mats)
    methods = []
    for r in rules:
        methods += [m for m in mats[r] if m not in methods]
    fig, axes = plt.subplots(len(rules), len(methods), figsize=(1.75 * len(methods) + 0.6, 1.85 * len(rules) + 0.3),
                             squeeze=False)
    short = [c[:3] for c in CLASS_NAMES]
    for i, rule in enumerate(rules):
        for j, m in enumerate(methods):
            ax = axes[i, j]
            if m not in mats[rule]:
                ax.axis("off")
                continue
            c = np.asarray(mats[rule][m], float)
            frac = c / np.maximum(c.sum(axis=1, keepdims=True), 1)
            ax.imshow(frac, vmin=0, vmax=1, cmap="Blues")
            for a in range(3):
                for b in range(3):
                    ax.text(b, a, f"{int(c[a, b])}", ha="center", va="center", fontsize=7,
                            color="white" if frac[a, b] > 0.6 else "black")
            ax.set_xticks(range(3))
            ax.set_yticks(range(3))
            ax.set_xticklabels(short, fontsize=6)
            ax.set_yticklabels(short if j == 0 else [], fontsize=6)
            ax.tick_params(length=0)
            if i == 0:
                ax.set_title(method_label(m), fontsize=8)
            if j == 0:
                ax.set_ylabel(f"{rule}\nobserved", fontsize=7)
            if i == len(rules) - 1:
                ax.set_xlabel("predicted", fontsize=7)
    fig.tight_layout()
    return fig


def gene_heatmap(matrix, genes, drugs):
    """Selection frequency (0..1 over splits) of ``genes`` (rows) in each drug's model (columns)."""
    plt = _plt()
    m = np.asarray(matrix, float)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.32 * len(drugs) + 2.5), 0.22 * len(genes) + 1.8))
    im = ax.imshow(m, aspect="auto", vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(drugs)))
    ax.set_xticklabels(drugs, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(genes)))
    ax.set_yticklabels(genes, fontsize=7)
    fig.colorbar(im, ax=ax, label="selection frequency over splits", shrink=0.8)
    ax.set_title("Selection stability of the top genes", fontsize=10)
    fig.tight_layout()
    return fig


def coverage_figure(coverage, width, methods, level):
    """Left: empirical coverage of the prediction intervals on the test rows per method (dot = mean over drugs,
    line = minimum to maximum over drugs, dashed = the nominal ``level``); right: their median width likewise.
    ``coverage[m]`` / ``width[m]``: per-drug values (lists)."""
    plt = _plt()
    colors = _colors(methods)
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 0.45 * len(methods) + 1.8), sharey=True)
    for ax, values, label in ((axes[0], coverage, "coverage of the test rows"),
                              (axes[1], width, "median interval width (response units)")):
        for i, m in enumerate(methods):
            v = np.asarray([x for x in values.get(m, []) if np.isfinite(x)], dtype=float)
            if not v.size:
                continue
            ax.plot([v.min(), v.max()], [i, i], color=colors[m], lw=1.4, alpha=0.7)
            ax.plot([v.mean()], [i], "o", color=colors[m], ms=6)
        ax.set_xlabel(label)
    axes[0].axvline(level, color="0.3", lw=0.9, ls="--")
    axes[0].set_yticks(range(len(methods)))
    axes[0].set_yticklabels([method_label(m) for m in methods])
    axes[0].set_ylim(len(methods) - 0.5, -0.5)
    axes[0].set_title(f"Coverage of {100 * level:g} % intervals")
    axes[1].set_title("Width")
    fig.tight_layout()
    return fig


def leakage_dumbbell(strict, paper, published, drugs, methods):
    """Per method (one panel each) and drug (rows): the test MSE under the strict protocol (filled dot) and the
    paper protocol (open dot) joined by a line, and the paper's published value (cross) where there is one.
    ``strict[(drug, method)]``, ``paper[(drug, method)]``, ``published[(drug, method)]``: numbers."""
    plt = _plt()
    colors = _colors(methods)
    cols = min(len(methods), 4)
    rows = int(math.ceil(len(methods) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols + 1.2, 0.3 * len(drugs) * rows + 1.5), sharey=True,
                             squeeze=False)
    legend = set()
    for k, m in enumerate(methods):
        ax = axes[k // cols][k % cols]

        def once(kind):   # one legend entry per kind of mark in the figure
            if kind in legend:
                return None
            legend.add(kind)
            return kind

        for i, d in enumerate(drugs):
            # strict a little above, paper protocol a little below the drug's line: equal values stay visible
            a, b = strict.get((d, m)), paper.get((d, m))
            if a is not None and b is not None:
                ax.plot([a, b], [i - 0.15, i + 0.15], color=colors[m], lw=1.0, alpha=0.6)
            if a is not None:
                ax.plot([a], [i - 0.15], "o", color=colors[m], ms=4.5)
            if b is not None:
                ax.plot([b], [i + 0.15], "o", mfc="white", mec=colors[m], ms=4.5)
            if published.get((d, m)) is not None:
                ax.plot([published[(d, m)]], [i], "x", color="k", ms=5, label=once("published (paper's Table I)"))
        ax.set_title(method_label(m), fontsize=9)
        ax.set_xlabel("test MSE", fontsize=8)
        for i in range(1, len(drugs)):
            ax.axhline(i - 0.5, color="0.93", lw=0.5, zorder=0)
    for k in range(len(methods), rows * cols):
        axes[k // cols][k % cols].axis("off")
    axes[0][0].set_yticks(range(len(drugs)))
    axes[0][0].set_yticklabels(drugs)
    axes[0][0].set_ylim(len(drugs) - 0.5, -0.5)
    for ax in axes.ravel():
        ax.tick_params(labelsize=8)
    # legend entries for the two protocols in neutral grey (each panel has its method's colour)
    handles = [plt.Line2D([], [], marker="o", ls="", color="0.3", ms=4.5),
               plt.Line2D([], [], marker="o", ls="", mfc="white", mec="0.3", ms=4.5)]
    labels = ["strict (above)", "paper protocol (below)"]
    for ax in axes.ravel():
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    fig.legend(handles, labels, loc="upper center", ncol=3, frameon=False, fontsize=8)
    # room for the one legend line (about 0.35 inch) above the panels, whatever the figure's height
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return fig


def over_drugs_boxes(r2, mse, methods, relative=True):
    """Box plots over drugs, one row per method: left the per-drug test R² (``r2[m]``: one value per drug), right
    the per-drug test MSE (``mse[m]``; with ``relative`` the ratio to the per-drug mean baseline, on a log axis
    with 1 marked). Box = quartiles and median, whiskers to 1.5 IQR, the drugs beyond as dots, diamond = mean."""
    import matplotlib  # optional extra: imported with the figure

    plt = _plt()
    colors = _colors(methods)
    # matplotlib 3.10 renamed vert=False (deprecated since) to orientation="horizontal"
    major, minor = (int(x) for x in matplotlib.__version__.split(".")[:2])
    horizontal = {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 0.42 * len(methods) + 1.6), sharey=True)
    for ax, values, label, log in ((axes[0], r2, "test R² per drug (mean over splits)", False),
                                   (axes[1], mse, "test MSE / per-drug mean's MSE, per drug" if relative
                                    else "test MSE per drug (mean over splits)", relative)):
        rows = [(i, m, np.asarray(values[m], float)) for i, m in enumerate(methods) if m in values]
        rows = [(i, m, v[np.isfinite(v) & (v > 0)] if log else v[np.isfinite(v)]) for i, m, v in rows]
        rows = [(i, m, v) for i, m, v in rows if v.size]
        if rows:
            bp = ax.boxplot([v for _, _, v in rows], positions=[i for i, _, _ in rows], widths=0.6, **horizontal,
                            patch_artist=True, showmeans=True, manage_ticks=False,
                            meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black",
                                       "markersize": 4},
                            flierprops={"marker": "o", "markersize": 2.5, "alpha": 0.6, "markeredgewidth": 0},
                            medianprops={"color": "black", "lw": 1.2})
            for patch, flier, (_, m, _) in zip(bp["boxes"], bp["fliers"], rows):
                patch.set_facecolor(colors[m])
                patch.set_alpha(0.55)
                flier.set_markerfacecolor(colors[m])
        ax.set_xlabel(label, fontsize=9)
        ax.grid(True, axis="x", color="0.92")
    axes[0].axvline(0.0, color="0.4", lw=0.8, ls="--")
    if relative:
        axes[1].axvline(1.0, color="0.4", lw=0.8, ls="--")
        finite = np.concatenate([np.asarray(v, float) for v in mse.values()] or [np.ones(1)])
        finite = finite[np.isfinite(finite) & (finite > 0)]
        # a ratio is read on a log axis when it spans more than a factor 4; a narrow one keeps its linear labels
        if finite.size and finite.max() / finite.min() > 4:
            from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # optional extra
            axes[1].set_xscale("log")
            axes[1].xaxis.set_major_locator(LogLocator(base=10, subs=_label_subs(finite.min(), finite.max())))
            axes[1].xaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"{x:g}"))
            axes[1].xaxis.set_minor_formatter(NullFormatter())
    axes[0].set_yticks(range(len(methods)))
    axes[0].set_yticklabels([method_label(m) for m in methods])
    axes[0].set_ylim(len(methods) - 0.5, -0.5)
    axes[0].set_title("R² over drugs", fontsize=10)
    axes[1].set_title("MSE relative to the per-drug mean" if relative else "MSE over drugs", fontsize=10)
    fig.tight_layout()
    return fig
