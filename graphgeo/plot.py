"""Pictures of 2-D latent spaces (matplotlib, imported only when a function is called).

Every function draws on ``ax`` when given (else on a new figure) and returns the
figure; nothing is shown or saved, and the matplotlib backend is left alone.

- :func:`plot_geodesics`: a latent scatter with curves (graph path, smoothed,
  refined, ...) over a heatmap of the log volume element.
- :func:`plot_distance_map`: a grid distance map with iso-distance contours, the
  seeds and the boundaries between their regions.
- :func:`plot_clusters`: points coloured by cluster with the medoids marked.
- :func:`plot_randers_geodesics`: both directions of a Randers geodesic, with arrows.
- :func:`plot_field`: any scalar field on a Grid (volume element, anisotropy, |omega|).
"""

import numpy as np

from ._validation import as_array, check_int, check_points
from .exceptions import InvalidInputError

__all__ = [
    "plot_geodesics",
    "plot_distance_map",
    "plot_clusters",
    "plot_randers_geodesics",
    "plot_field",
    "demo_figures",
]

_COLOURS = ("tab:red", "tab:orange", "tab:purple", "tab:green", "tab:brown", "tab:pink")


def _axes(ax, figsize=(6.4, 5.2)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
        return fig, ax
    return ax.figure, ax


def _curve_points(c, name):
    pts = getattr(c, "points", c)
    arr = check_points(pts, name, min_rows=1)
    if arr.shape[1] != 2:
        raise InvalidInputError(f"{name} must be a 2-D curve (m, 2); received shape {arr.shape}.")
    return arr


def _curve_length(c):
    length = getattr(c, "length", None)
    return None if length is None else float(length)


def _as_curves(curves):
    if curves is None:
        return []
    if isinstance(curves, dict):
        return list(curves.items())
    if hasattr(curves, "points") or (isinstance(curves, np.ndarray) and curves.ndim == 2):
        curves = [curves]
    return [(f"curve {i}", c) for i, c in enumerate(curves)]


def _points2d(points, name="points"):
    arr = check_points(points, name)
    if arr.shape[1] != 2:
        raise InvalidInputError(
            f"{name} must be 2-D for plotting; received dimension {arr.shape[1]}. Project the "
            "latent to 2-D first."
        )
    return arr


def _volume_background(ax, metric, lo, hi, resolution):
    from .maps import Grid, volume_element

    grid = Grid(lo, hi, resolution)
    vol = volume_element(metric, grid)
    X, Y = np.meshgrid(grid.axes[0], grid.axes[1], indexing="ij")
    return ax.pcolormesh(X, Y, np.log10(vol), cmap="Greys", shading="auto", alpha=0.7,
                         rasterized=True)


def _framed_background(fig, ax, metric, arrays, resolution, colorbar):
    """The log volume element over the bounding box of ``arrays`` (plus a margin)."""
    resolution = check_int(resolution, "resolution", low=2, high=4000)
    every = [p for p in arrays if p is not None]
    if not every:
        raise InvalidInputError("metric is given but there are no points or curves to frame.")
    allp = np.concatenate(every)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    pad = 0.08 * np.maximum(hi - lo, 1e-9)
    mesh = _volume_background(ax, metric, lo - pad, hi + pad, resolution)
    if colorbar:
        fig.colorbar(mesh, ax=ax, shrink=0.75, label="log10 volume element  sqrt(det G)")


def plot_geodesics(points=None, curves=None, metric=None, ax=None, resolution=150,
                   colorbar=True, title=None):
    """Latent points and curves over the log volume element of ``metric``.

    Parameters
    ----------
    points : (n, 2) latent points, drawn as a scatter (optional)
    curves : a curve, a list of curves or a dict {label: curve}; a curve is an
        (m, 2) array or an object with ``.points`` (Path, Curve) and optionally
        ``.length`` (shown in the legend). For the graph path, smoothed and refined
        curves pass {"graph path": p, "smoothed": s, "refined": r}.
    metric : graphgeo Metric on R^2; when given, log10 sqrt(det G) is drawn behind
    ax : matplotlib Axes (else a new figure)
    resolution : grid nodes per axis of the background
    colorbar, title : decorations

    Returns
    -------
    matplotlib Figure
    """
    fig, ax = _axes(ax)
    items = [(str(lbl), _curve_points(c, f"curve {lbl!r}"), _curve_length(c))
             for lbl, c in _as_curves(curves)]
    pts = None if points is None else _points2d(points)
    if metric is not None:
        _framed_background(fig, ax, metric, [pts] + [c for _, c, _ in items], resolution,
                           colorbar)
    if pts is not None:
        ax.scatter(pts[:, 0], pts[:, 1], s=4, c="tab:blue", alpha=0.5, linewidths=0,
                   label="latent points")
    for i, (lbl, c, length) in enumerate(items):
        text = lbl if length is None else f"{lbl} (length {length:.4g})"
        ax.plot(c[:, 0], c[:, 1], "-", color=_COLOURS[i % len(_COLOURS)], lw=2, label=text)
    if items:
        ax.plot([items[0][1][0, 0]], [items[0][1][0, 1]], "o", color="black", ms=6, zorder=5)
        ax.plot([items[0][1][-1, 0]], [items[0][1][-1, 1]], "s", color="black", ms=6, zorder=5)
    ax.set_aspect("equal")
    if items or pts is not None:
        ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def plot_distance_map(dist, grid, seeds=None, nearest=None, ax=None, levels=12, colorbar=True,
                      title=None):
    """A 2-D distance map (as returned by graphgeo.maps.distance_map).

    Parameters
    ----------
    dist : array of grid.shape (inf where unreachable)
    grid : graphgeo.maps.Grid, 2-D
    seeds : (m, 2) seed coordinates to mark (optional)
    nearest : int array of grid.shape, the nearest seed; region boundaries are drawn
    levels : number of iso-distance contours (0: none)

    Returns
    -------
    matplotlib Figure
    """
    from .maps import Grid

    if not isinstance(grid, Grid) or grid.ndim != 2:
        raise InvalidInputError(
            f"grid must be a 2-D graphgeo.maps.Grid; received {type(grid).__name__}"
            f"{'' if not isinstance(grid, Grid) else f' with {grid.ndim} dimensions'}."
        )
    D = as_array(dist, "dist")
    if D.shape != grid.shape:
        raise InvalidInputError(f"dist must have the grid's shape {grid.shape}; received {D.shape}.")
    levels = check_int(levels, "levels", low=0, high=200)
    fig, ax = _axes(ax)
    X, Y = np.meshgrid(grid.axes[0], grid.axes[1], indexing="ij")
    Dm = np.ma.masked_invalid(D)
    mesh = ax.pcolormesh(X, Y, Dm, cmap="viridis", shading="auto", rasterized=True)
    if colorbar:
        fig.colorbar(mesh, ax=ax, shrink=0.75, label="directed distance")
    if levels and np.isfinite(D).any() and np.nanmax(D[np.isfinite(D)]) > np.nanmin(D):
        ax.contour(X, Y, Dm, levels=levels, colors="white", linewidths=0.6, alpha=0.8)
    if nearest is not None:
        L = np.asarray(nearest)
        if L.shape != grid.shape:
            raise InvalidInputError(
                f"nearest must have the grid's shape {grid.shape}; received {L.shape}."
            )
        if len(np.unique(L)) > 1:
            ax.contour(X, Y, L.astype(float), levels=np.unique(L)[:-1] + 0.5, colors="red",
                       linewidths=1.2)
    if seeds is not None:
        s = _points2d(seeds, "seeds")
        ax.scatter(s[:, 0], s[:, 1], marker="*", s=140, c="red", edgecolors="white",
                   linewidths=0.8, zorder=5, label="seeds")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return fig


def plot_clusters(points, labels, medoids=None, ax=None, metric=None, resolution=150,
                  title=None):
    """Points coloured by cluster, medoids as stars.

    Parameters
    ----------
    points : (n, 2)
    labels : (n,) ints (labels_ of GeodesicKMedoids)
    medoids : indices into points (medoid_indices_), optional
    metric : when given, the log volume element is drawn behind
    """
    pts = _points2d(points)
    lab = np.asarray(labels)
    if lab.shape != (len(pts),) or not np.issubdtype(lab.dtype, np.integer):
        raise InvalidInputError(
            f"labels must be {len(pts)} integers (one per point); received shape {lab.shape} "
            f"and dtype {lab.dtype}."
        )
    fig, ax = _axes(ax)
    if metric is not None:
        _framed_background(fig, ax, metric, [pts], resolution, False)
    ax.scatter(pts[:, 0], pts[:, 1], c=lab, cmap="tab10", s=6, linewidths=0,
               vmin=0, vmax=max(9, int(lab.max(initial=0))))
    if medoids is not None:
        from ._validation import check_nodes

        med = check_nodes(medoids, len(pts), "medoids")
        ax.scatter(pts[med, 0], pts[med, 1], marker="*", s=220, c=np.arange(len(med)),
                   cmap="tab10", vmin=0, vmax=max(9, len(med) - 1), edgecolors="black",
                   linewidths=1.0, zorder=5, label="medoids")
        ax.legend(loc="best", fontsize=8)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return fig


def plot_randers_geodesics(forward, backward, points=None, metric=None, ax=None,
                           resolution=150, title=None):
    """Both directions of a direction-aware geodesic in one picture.

    Parameters
    ----------
    forward : curve a -> b ((m, 2) array or Path/Curve with .points, .length)
    backward : curve b -> a
    points : latent points drawn lightly behind (optional)
    metric : when given, the log volume element is drawn behind

    The forward curve is solid, the backward one dashed (they may share their
    nodes); arrows mark each direction and the legend gives the lengths when known.
    """
    f = _curve_points(forward, "forward")
    b = _curve_points(backward, "backward")
    pts = None if points is None else _points2d(points)
    fig, ax = _axes(ax)
    if metric is not None:
        _framed_background(fig, ax, metric, [pts, f, b], resolution, True)
    if pts is not None:
        ax.scatter(pts[:, 0], pts[:, 1], s=4, c="tab:blue", alpha=0.4, linewidths=0,
                   label="latent points")
    lf, lb = _curve_length(forward), _curve_length(backward)
    styles = ((f, lf, "forward a -> b", _COLOURS[0], "-", 3.5),
              (b, lb, "backward b -> a", _COLOURS[2], "--", 2.0))
    for c, length, name, colour, ls, lw in styles:
        text = name if length is None else f"{name} (length {length:.4g})"
        ax.plot(c[:, 0], c[:, 1], ls, color=colour, lw=lw, label=text)
        if len(c) >= 2:
            m = len(c) // 2
            ax.annotate("", xy=tuple(c[m]), xytext=tuple(c[m - 1]),
                        arrowprops=dict(arrowstyle="-|>", color=colour, lw=2, mutation_scale=20))
    ax.plot([f[0, 0]], [f[0, 1]], "o", color="black", ms=7, zorder=5, label="a")
    ax.plot([f[-1, 0]], [f[-1, 1]], "s", color="black", ms=7, zorder=5, label="b")
    ax.set_aspect("equal")
    ax.legend(loc="best", fontsize=8)
    if title is not None:
        ax.set_title(title)
    elif lf is not None and lb is not None and lf > 0:
        ax.set_title(f"Randers geodesics: backward / forward length = {lb / lf:.3f}")
    return fig


def plot_field(values, grid, ax=None, log=False, cmap="magma", label=None, title=None):
    """A scalar field on a 2-D Grid (volume element, anisotropy, |omega|, ...)."""
    from .maps import Grid

    if not isinstance(grid, Grid) or grid.ndim != 2:
        raise InvalidInputError("grid must be a 2-D graphgeo.maps.Grid.")
    V = as_array(values, "values")
    if V.shape != grid.shape:
        raise InvalidInputError(f"values must have the grid's shape {grid.shape}; received {V.shape}.")
    if log:
        if np.any(V <= 0):
            raise InvalidInputError("log=True needs values > 0 everywhere.")
        V = np.log10(V)
    fig, ax = _axes(ax)
    X, Y = np.meshgrid(grid.axes[0], grid.axes[1], indexing="ij")
    mesh = ax.pcolormesh(X, Y, V, cmap=cmap, shading="auto", rasterized=True)
    fig.colorbar(mesh, ax=ax, shrink=0.75, label=(("log10 " if log else "") + (label or "value")))
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return fig


def demo_figures(out="graphgeo-figures", n=3000, seed=0, dpi=110):
    """Write the four demo pictures of the built-in progression latent; return their paths.

    geodesics.png (graph path, smoothed and refined curve over the log volume element;
    the refined one when torch is installed), randers.png (both
    directions), distance_map.png (a 200 x 200 grid map from three seeds with their
    regions) and clusters.png (geodesic k-medoids, k = 4).
    """
    import os
    import warnings

    import matplotlib.pyplot as plt

    from .cluster import GeodesicKMedoids
    from .datasets import make_progression
    from .graph import GeodesicGraph
    from .io import save_figure
    from .maps import Grid, distance_map

    data = make_progression(n=n, seed=seed)
    pts, t, metric, base = data["points"], data["time"], data["metric"], data["base"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = GeodesicGraph.build(pts, metric, k=10, seed=seed)
    src, dst = int(np.argmin(t)), int(np.argmax(t))
    fwd, bwd = g.shortest_path(src, dst), g.shortest_path(dst, src)
    os.makedirs(out, exist_ok=True)
    paths = []

    def save(fig, name):
        path = os.path.join(out, name)
        save_figure(fig, path, dpi=dpi)
        plt.close(fig)
        paths.append(path)

    from .geodesic import geodesic

    curves = {"graph path": fwd,
              "smoothed": geodesic(metric, pts[src], pts[dst], graph=g, refine=False)}
    try:
        curves["refined"] = geodesic(metric, pts[src], pts[dst], graph=g)
    except ImportError:  # the refinement needs torch
        pass
    save(plot_geodesics(pts, curves, metric=base, title="geodesic over the volume element"),
         "geodesics.png")
    save(plot_randers_geodesics(fwd, bwd, points=pts, metric=base), "randers.png")
    lo, hi = pts.min(axis=0) - 0.3, pts.max(axis=0) + 0.3
    grid = Grid(lo, hi, 200)
    seeds = pts[[src, dst, int(np.argmin(np.abs(t - 0.5)))]]
    dist, nearest = distance_map(metric, grid, seeds)
    save(plot_distance_map(dist, grid, seeds=seeds, nearest=nearest,
                           title="directed distance map from three seeds"), "distance_map.png")
    km = GeodesicKMedoids(4, method="voronoi", random_state=seed).fit(g)
    save(plot_clusters(pts, km.labels_, km.medoid_indices_, metric=base,
                       title="geodesic k-medoids (voronoi, k = 4)"), "clusters.png")
    return paths
