"""Pictures (optional extra ``fastw2v[plot]``, matplotlib): word maps and training curves."""
from __future__ import annotations

import numpy as np

from .io import atomic_write


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'fastw2v[plot]'") from None
    return plt


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """Project rows onto their first two principal components: float (n, 2)."""
    x = np.asarray(vectors, dtype=np.float64)
    x = x - x.mean(axis=0)
    if x.shape[0] < 2:
        return np.zeros((x.shape[0], 2))
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    out = x @ vt[:2].T
    if out.shape[1] < 2:
        out = np.hstack([out, np.zeros((out.shape[0], 2 - out.shape[1]))])
    return out


def plot_words(wv, words, path, neighbours: int = 0, title: str | None = None) -> list:
    """A labelled 2-D PCA map of ``words`` (and each one's nearest neighbours), saved as PNG.

    Returns the words drawn. Unknown words raise KeyError.
    """
    plt = _pyplot()
    words = list(dict.fromkeys(words))
    groups = {w: [w] for w in words}
    for w in words:
        wv.get_index(w)
        if neighbours:
            groups[w] += [n for n, _ in wv.most_similar(w, topn=neighbours)]
    drawn = list(dict.fromkeys(x for g in groups.values() for x in g))
    xy = pca_2d(wv.get_normed_vectors()[[wv.get_index(w) for w in drawn]])
    pos = dict(zip(drawn, xy))
    fig, ax = plt.subplots(figsize=(9, 7), dpi=110)
    colours = plt.get_cmap("tab10")
    for k, w in enumerate(words):
        pts = np.array([pos[x] for x in groups[w]])
        c = colours(k % 10)
        ax.scatter(pts[1:, 0], pts[1:, 1], s=18, color=c, alpha=0.6)
        ax.scatter(pts[:1, 0], pts[:1, 1], s=60, color=c, edgecolor="black", zorder=3)
        for j, x in enumerate(groups[w]):
            ax.annotate(x, pos[x], xytext=(4, 3), textcoords="offset points",
                        fontsize=11 if j == 0 else 8, fontweight="bold" if j == 0 else "normal", color=c)
    ax.set_title(title or "Word vectors, first two principal components")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.grid(alpha=0.3)
    _save(fig, path, plt)
    return drawn


def plot_training(trace, path, title: str | None = None) -> None:
    """Loss and words/s over training time from a model's ``trace`` (list of dicts), saved as PNG."""
    plt = _pyplot()
    if not trace:
        raise ValueError("no training trace to plot")
    t = np.array([p["seconds"] for p in trace])
    loss = np.array([p["loss"] for p in trace], dtype=float)
    wps = np.array([p["words_per_sec"] for p in trace], dtype=float)
    fig, ax1 = plt.subplots(figsize=(9, 5), dpi=110)
    ax1.plot(t, loss, color="tab:blue", label="loss (mean over interval)")
    ax1.set_xlabel("training seconds")
    ax1.set_ylabel("loss", color="tab:blue")
    ax2 = ax1.twinx()
    ax2.plot(t, wps / 1e3, color="tab:orange", label="words/s (average since start)")
    ax2.set_ylabel("thousand words/s, average since start", color="tab:orange")
    ax2.set_ylim(bottom=0)
    epochs = sorted({p["epoch"] for p in trace})
    for e in epochs[1:]:
        ax1.axvline(min(p["seconds"] for p in trace if p["epoch"] == e), color="grey", lw=0.6, ls="--")
    ax1.set_title(title or "Training loss and throughput (dashed: epoch starts)")
    ax1.grid(alpha=0.3)
    _save(fig, path, plt)


def _save(fig, path, plt):
    fig.tight_layout()
    try:
        with atomic_write(path) as f:
            fig.savefig(f, format="png")
    finally:
        plt.close(fig)
