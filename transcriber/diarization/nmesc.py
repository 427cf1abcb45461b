"""Speaker clustering: NME-SC (normalised maximum eigengap spectral clustering), numpy/scipy only.

Park et al. 2019: binarise the cosine affinity by keeping each row's ``p`` nearest neighbours,
and choose ``p`` per recording where the largest eigengap of the graph Laplacian, normalised by
the largest eigenvalue, is most pronounced relative to ``p``. That eigengap also gives the
number of speakers, so no distance threshold has to be tuned per kind of recording.

The eigen-decomposition is cubic in the number of points, so at most ``max_points`` embeddings
are clustered; beyond that they are first reduced to that many spherical k-means centroids, and
every embedding then takes the speaker of its nearest final centroid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh


@dataclass(frozen=True)
class ClusterResult:
    labels: np.ndarray  # (N,) int, 0..k-1
    num_clusters: int
    pruning: int  # the p that NME chose (0 when the count was forced without a search)


def l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    normalised: np.ndarray = x / np.maximum(norms, 1e-12)
    return normalised


def _laplacian(affinity: np.ndarray, p: int) -> np.ndarray:
    """Unnormalised Laplacian of the symmetrised p-nearest-neighbour graph."""
    n = affinity.shape[0]
    keep = np.argpartition(-affinity, kth=min(p, n - 1), axis=1)[:, : p + 1]  # +1: self is kept too
    binary = np.zeros_like(affinity)
    np.put_along_axis(binary, keep, 1.0, axis=1)
    sym = 0.5 * (binary + binary.T)
    np.fill_diagonal(sym, 0.0)
    laplacian: np.ndarray = np.diag(sym.sum(axis=1)) - sym
    return laplacian


def _pruning_candidates(n: int, max_ratio: float, count: int) -> list[int]:
    top = max(2, int(n * max_ratio))
    return sorted({round(float(v)) for v in np.linspace(2, top, num=count)} - {0})


def _best_gap(eigenvalues: np.ndarray, low: int, high: int) -> tuple[int, float]:
    """Number of clusters in [low, high] at the largest eigengap, and that gap."""
    gaps = np.diff(eigenvalues[: high + 1])  # gaps[k-1] separates k clusters from k+1
    if low > 1 or high < len(gaps):
        window = gaps[low - 1 : high]
        k = int(np.argmax(window)) + low
    else:
        k = int(np.argmax(gaps)) + 1
    return k, float(gaps[k - 1])


def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator, restarts: int = 5, iterations: int = 50) -> np.ndarray:
    """Plain k-means (k-means++ seeding), best of a few restarts by inertia."""
    best_labels = np.zeros(len(x), dtype=int)
    best_inertia = np.inf
    for _ in range(restarts):
        centres = [x[rng.integers(len(x))]]
        for _ in range(1, k):
            d2 = np.min(((x[:, None, :] - np.asarray(centres)[None]) ** 2).sum(-1), axis=1)
            total = d2.sum()
            probs = d2 / total if total > 0 else np.full(len(x), 1 / len(x))
            centres.append(x[rng.choice(len(x), p=probs)])
        c = np.asarray(centres)
        labels = np.zeros(len(x), dtype=int)
        for step in range(iterations):
            d = ((x[:, None, :] - c[None]) ** 2).sum(-1)
            new = np.argmin(d, axis=1)
            if step and np.array_equal(new, labels):
                break
            labels = new
            for j in range(k):
                members = x[labels == j]
                if len(members):
                    c[j] = members.mean(axis=0)
        inertia = float(((x - c[labels]) ** 2).sum())
        if inertia < best_inertia:
            best_inertia, best_labels = inertia, labels
    return best_labels


def _spherical_kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iterations: int = 15) -> np.ndarray:
    """Cheap pre-clustering on unit vectors: many small, tight groups (one voice each)."""
    centres = x[rng.choice(len(x), size=k, replace=False)]
    labels = np.zeros(len(x), dtype=int)
    for _ in range(iterations):
        labels = np.argmax(x @ centres.T, axis=1)
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, x)
        empty = np.linalg.norm(sums, axis=1) == 0
        sums[empty] = centres[empty]
        centres = l2_normalise(sums)
    return labels


def _nme_sc(
    x: np.ndarray,
    num_clusters: int | None,
    min_clusters: int,
    max_clusters: int,
    rng: np.random.Generator,
    max_ratio: float,
    candidates: int,
) -> ClusterResult:
    n = len(x)
    affinity = x @ x.T
    high = max(1, min(max_clusters, n - 1))
    low = min(max(1, min_clusters), high)
    best: tuple[float, int, int, np.ndarray] | None = None  # (ratio, p, k, laplacian)
    for p in _pruning_candidates(n, max_ratio, candidates):
        laplacian = _laplacian(affinity, p)
        eigenvalues = np.clip(eigh(laplacian, eigvals_only=True), 0, None)
        k, gap = _best_gap(eigenvalues, low, high)
        ratio = p / (gap / (float(eigenvalues[-1]) + 1e-10) + 1e-10)
        if best is None or ratio < best[0]:
            best = (ratio, p, k, laplacian)
    assert best is not None
    _, p, k, laplacian = best
    if num_clusters is not None:
        k = min(num_clusters, n)
    if k <= 1:
        return ClusterResult(np.zeros(n, dtype=int), 1, p)
    _, vectors = eigh(laplacian, subset_by_index=[0, k - 1])
    labels = _kmeans(vectors, k, rng)
    return ClusterResult(labels, k, p)


def cluster(
    embeddings: np.ndarray,
    num_clusters: int | None = None,
    min_clusters: int = 1,
    max_clusters: int | None = None,
    *,
    max_points: int = 800,
    max_search_clusters: int = 12,
    max_pruning_ratio: float = 0.25,
    pruning_candidates: int = 20,
    seed: int = 0,
) -> ClusterResult:
    """Cluster (N, D) embeddings (centred, any norm) into speakers with NME-SC.

    ``num_clusters`` forces the count; ``min_clusters``/``max_clusters`` bound the eigengap search.
    """
    x = l2_normalise(np.asarray(embeddings, dtype=np.float64))
    n = len(x)
    if n == 0:
        return ClusterResult(np.zeros(0, dtype=int), 0, 0)
    if n < 3:
        k = min(num_clusters or 1, n)
        return ClusterResult(np.arange(n) % k, k, 0)
    rng = np.random.default_rng(seed)
    high = max_clusters if max_clusters is not None else max_search_clusters
    if num_clusters is not None:
        high = max(high, num_clusters)

    if n <= max_points:
        return _nme_sc(x, num_clusters, min_clusters, high, rng, max_pruning_ratio, pruning_candidates)

    groups = _spherical_kmeans(x, max_points, rng)
    used = np.unique(groups)
    centres = l2_normalise(np.stack([x[groups == g].sum(axis=0) for g in used]))
    coarse = _nme_sc(centres, num_clusters, min_clusters, high, rng, max_pruning_ratio, pruning_candidates)
    labels = coarse.labels[np.searchsorted(used, groups)]
    # One reassignment pass against the final speaker centroids fixes pre-clusters that straddled two voices.
    speakers = l2_normalise(np.stack([x[labels == j].sum(axis=0) for j in range(coarse.num_clusters)]))
    labels = np.argmax(x @ speakers.T, axis=1)
    return ClusterResult(_compact(labels), len(np.unique(labels)), coarse.pruning)


def _compact(labels: np.ndarray) -> np.ndarray:
    _, compact = np.unique(labels, return_inverse=True)
    result: np.ndarray = compact.reshape(-1)
    return result


def merge_close_clusters(
    raw_embeddings: np.ndarray, labels: np.ndarray, threshold: float, min_clusters: int = 1
) -> np.ndarray:
    """Merge clusters whose mean *uncentred* embeddings are nearly the same voice.

    Spectral clustering always finds some structure, so one speaker recorded alone comes out as
    several; pieces of one voice stay far more similar to each other than any two people do.
    Greedy: merge the closest pair while it is at least ``threshold`` and the count allows.
    """
    labels = _compact(np.asarray(labels))
    x = l2_normalise(np.asarray(raw_embeddings, dtype=np.float64))
    while True:
        k = int(labels.max()) + 1 if len(labels) else 0
        if k <= max(1, min_clusters):
            return labels
        centroids = l2_normalise(np.stack([x[labels == j].mean(axis=0) for j in range(k)]))
        sim = centroids @ centroids.T
        np.fill_diagonal(sim, -np.inf)
        i, j = np.unravel_index(int(np.argmax(sim)), sim.shape)
        if sim[i, j] < threshold:
            return labels
        labels = _compact(np.where(labels == max(i, j), min(i, j), labels))


def merge_echo_clusters(
    embeddings: np.ndarray,
    labels: np.ndarray,
    windows: np.ndarray,
    min_separation: float,
    *,
    neighbours: int = 3,
    min_clusters: int = 1,
) -> np.ndarray:
    """Fold clusters that are one stretch of one voice into the speaker they sound like.

    Embeddings of overlapping windows share most of their audio, so in a short recording each
    turn forms a tight chain and spectral clustering returns turns, not speakers (real speech
    varies more within a voice than between the overlapping windows of one turn). Here each
    embedding votes for its ``neighbours`` most similar embeddings among windows at least
    ``min_separation`` away (independent audio). A cluster whose votes mostly (half or more, and
    more than for itself) go to one other cluster joins it, unless the two were ever heard in
    the same window: the segmentation saw them speak as two people there. A speaker heard in
    one short turn only keeps their own cluster as long as no other cluster is a clear majority
    of their votes; one who spoke several times votes for themselves.

    ``windows`` gives each embedding's window start (same unit as ``min_separation``). Builds
    an (N, N) matrix: call it with at most a few thousand embeddings.
    """
    labels = _compact(np.asarray(labels))
    n = len(labels)
    if n < 2:
        return labels
    x = l2_normalise(np.asarray(embeddings, dtype=np.float64))
    apart = np.abs(windows[:, None] - windows[None, :])
    similarity = np.where(apart < min_separation, -np.inf, x @ x.T)
    m = min(neighbours, n - 1)
    nearest = np.argsort(-similarity, axis=1)[:, :m]
    counted = np.take_along_axis(similarity, nearest, axis=1) > -np.inf
    rows = np.repeat(np.arange(n), m).reshape(n, m)
    same_window = np.argwhere((apart == 0) & ~np.eye(n, dtype=bool))
    while True:
        k = int(labels.max()) + 1
        if k <= max(1, min_clusters):
            return labels
        votes = np.zeros((k, k))
        np.add.at(votes, (labels[rows[counted]], labels[nearest[counted]]), 1.0)
        share = votes / np.maximum(votes.sum(axis=1, keepdims=True), 1.0)
        heard_together = np.zeros((k, k), dtype=bool)
        heard_together[labels[same_window[:, 0]], labels[same_window[:, 1]]] = True
        own = np.diag(share).copy()
        np.fill_diagonal(share, 0.0)
        share[heard_together] = 0.0
        target = np.argmax(share, axis=1)
        best = share[np.arange(k), target]
        movable = (best >= 0.5) & (best > own)
        if not movable.any():
            return labels
        source = int(np.argmax(np.where(movable, best, -1.0)))
        labels = _compact(np.where(labels == source, target[source], labels))


def absorb_small_clusters(
    embeddings: np.ndarray, labels: np.ndarray, min_size: int, min_clusters: int = 1
) -> np.ndarray:
    """Give clusters with fewer than ``min_size`` members to their nearest larger cluster.

    A cluster of one or two windows is far more often a noisy, reverberant or clipped stretch
    of a known voice than a person who spoke for a second and never again.
    """
    labels = _compact(np.asarray(labels))
    sizes = np.bincount(labels)
    small = np.flatnonzero(sizes < min_size)
    keep = np.flatnonzero(sizes >= min_size)
    if len(small) == 0 or len(keep) == 0:
        return labels
    if len(keep) < min_clusters:  # keep the largest of the small ones as the hints require
        keep = np.argsort(-sizes)[:min_clusters]
    moved = ~np.isin(labels, keep)
    if moved.any():
        kept = l2_normalise(np.stack([embeddings[labels == j].mean(axis=0) for j in keep]))
        labels = labels.copy()
        labels[moved] = keep[np.argmax(l2_normalise(embeddings[moved]) @ kept.T, axis=1)]
    return _compact(labels)


def assign(embeddings: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Nearest centroid by cosine, for embeddings left out of clustering (too short to trust)."""
    if len(embeddings) == 0:
        return np.zeros(0, dtype=int)
    result: np.ndarray = np.argmax(l2_normalise(embeddings) @ l2_normalise(centroids).T, axis=1)
    return result


def centroids_of(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    k = int(labels.max()) + 1
    return l2_normalise(np.stack([embeddings[labels == j].mean(axis=0) for j in range(k)]))
