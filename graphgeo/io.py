"""Reading user files for the command line (points, metric specs, 1-forms, index lists)
and writing files atomically.

Every reader refuses pickled content (np.load(allow_pickle=False)) and raises
InvalidInputError with the file name, what was wrong and the remedy.

Every file the library writes (graphs, the command line's outputs) goes through
:func:`atomic_path`: the content is written to a temporary file in the target's
folder, flushed to disk, then renamed onto the target (``os.replace``, atomic on
POSIX and Windows). A write that fails or is interrupted leaves no partial file,
and a file already at the target stays intact.
"""

import contextlib
import os
import secrets

import numpy as np

from ._validation import check_points
from .exceptions import InvalidInputError

__all__ = ["load_points", "load_metric", "load_indices", "parse_vector", "atomic_path",
           "save_npy", "save_npz", "save_figure"]


@contextlib.contextmanager
def atomic_path(path, what="file"):
    """Context manager: a temporary path beside ``path`` to write to, moved onto ``path``
    when the block succeeds.

    The temporary file is created empty (mode 0o666 less the umask, as open() would) in
    the target's folder with the target's extension (writers that infer the format from
    it, matplotlib's savefig, keep working); on success it is fsync'ed and renamed onto
    ``path`` (a symlink at ``path`` is followed); on any exception, KeyboardInterrupt
    included, it is removed and the exception propagates.

    Raises
    ------
    OSError
        Of the class the system raised (FileNotFoundError for a missing folder,
        NotADirectoryError, PermissionError, ...), naming ``path`` (``filename``) and
        saying that nothing was written there.
    """
    path = os.fspath(path)
    if os.path.islink(path):
        path = os.path.realpath(path)
    folder, name = os.path.split(os.path.abspath(path))
    ext = os.path.splitext(name)[1]
    try:
        while True:
            tmp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp{ext}")
            try:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                break
            except FileExistsError:
                continue
    except OSError as exc:
        raise _write_error(exc, path, what) from exc
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _write_error(exc, path, what) from exc
        raise
    with contextlib.suppress(OSError):  # make the rename durable (POSIX; not on Windows)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _with_suffix(path, suffix):
    """``path`` as a str, with ``suffix`` appended unless it ends with it (numpy's rule)."""
    path = os.fsdecode(os.fspath(path))
    return path if path.endswith(suffix) else path + suffix


def save_npy(path, array, what="array"):
    """np.save, atomically; ".npy" is appended when missing, as np.save does. Returns the path."""
    path = _with_suffix(path, ".npy")
    with atomic_path(path, what) as tmp:
        np.save(tmp, array)
    return path


def save_npz(path, what="arrays", **arrays):
    """np.savez, atomically; ".npz" is appended when missing, as np.savez does. Returns the path."""
    path = _with_suffix(path, ".npz")
    with atomic_path(path, what) as tmp:
        np.savez(tmp, **arrays)
    return path


def save_figure(fig, path, **kwargs):
    """``fig.savefig(path, **kwargs)``, atomically. The format comes from the extension;
    a path without one gets ".png", as matplotlib does by default. Returns the path."""
    path = os.fsdecode(os.fspath(path))
    ext = os.path.splitext(path)[1]
    if not ext:
        path, ext = path + ".png", ".png"
    with atomic_path(path, "figure") as tmp:
        fig.savefig(tmp, format=ext[1:].lower(), **kwargs)
    return path


def _write_error(exc, path, what):
    """``exc`` (an OSError) raised again, of the same class, naming the target ``path``."""
    msg = (f"cannot write the {what} ({exc.strerror or exc}); nothing was written there. "
           "Write to an existing folder you can write to, with free space")
    try:
        if exc.errno is None:
            return type(exc)(f"{msg}: {path!r}")
        return type(exc)(exc.errno, msg, path)
    except Exception:  # an OSError subclass with another constructor
        return OSError(exc.errno, msg, path)


def _load_npz_or_npy(path, what):
    if not os.path.exists(path):
        raise InvalidInputError(f"{what} file {path!r} does not exist.")
    try:
        obj = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InvalidInputError(
                f"{what} file {path!r} holds pickled objects, which graphgeo refuses to load; "
                "save plain numeric arrays with np.save / np.savez."
            ) from None
        raise InvalidInputError(f"{what} file {path!r} is not a readable .npy/.npz file ({exc}).") from None
    except OSError as exc:
        raise InvalidInputError(f"{what} file {path!r} cannot be read ({exc}).") from None
    if isinstance(obj, np.lib.npyio.NpzFile):
        with obj:
            return {k: obj[k] for k in obj.files}
    return obj


def load_points(path):
    """Points from .npy, .npz (key 'points' or a single array) or .csv (header allowed)."""
    ext = os.path.splitext(path)[1].lower()
    if ext == ".csv":
        if not os.path.exists(path):
            raise InvalidInputError(f"points file {path!r} does not exist.")
        try:
            arr = np.genfromtxt(path, delimiter=",", dtype=np.float64)
        except ValueError as exc:
            raise InvalidInputError(f"points file {path!r} is not a numeric CSV ({exc}).") from None
        if arr.ndim == 2 and np.isnan(arr[0]).all():
            arr = arr[1:]  # a header row
        elif arr.ndim == 1 and arr.size and np.isnan(arr).all():
            arr = arr[:0]
    elif ext in (".npy", ".npz"):
        obj = _load_npz_or_npy(path, "points")
        if isinstance(obj, dict):
            if "points" in obj:
                arr = obj["points"]
            elif len(obj) == 1:
                arr = next(iter(obj.values()))
            else:
                raise InvalidInputError(
                    f"points file {path!r} holds several arrays ({', '.join(sorted(obj))}) and none "
                    "is named 'points'; save the points under the key 'points'."
                )
        else:
            arr = obj
    else:
        raise InvalidInputError(
            f"points file {path!r} must be .npy, .npz or .csv; received extension {ext or 'none'!r}."
        )
    if arr.dtype.kind not in "fiu":
        raise InvalidInputError(f"points in {path!r} must be numbers; received dtype {arr.dtype}.")
    return check_points(arr, f"points in {path!r}", min_rows=2)


def _require(spec, keys, path, kind):
    missing = [k for k in keys if k not in spec]
    if missing:
        raise InvalidInputError(
            f"the {kind} metric file {path!r} is missing key(s) {', '.join(missing)}; "
            f"it must hold {', '.join(keys)} (found {', '.join(sorted(spec)) or 'nothing'})."
        )
    return [spec[k] for k in keys]


def load_metric(kind, dim, metric_file=None, omega=None, max_norm=None):
    """A metric from a command-line spec.

    kind: "euclidean"; "rhvae" (metric_file .npz with centroids, M, temperature, lbd);
    "vae" (mu, sigma, tau, lbd). omega: None, a comma-separated constant vector, or a
    file (.npy of shape (d,) for a constant; .npz with centers/coefficients/bandwidth
    for an RBFField, or points/values to fit one).
    """
    from .metrics import Euclidean, Randers, RBFField, RHVAEMetric, VAECometric

    if kind == "euclidean":
        base = Euclidean(dim)
    elif kind in ("rhvae", "vae"):
        if metric_file is None:
            raise InvalidInputError(f"--metric {kind} needs --metric-file FILE.npz with its parameters.")
        spec = _load_npz_or_npy(metric_file, f"{kind} metric")
        if not isinstance(spec, dict):
            raise InvalidInputError(f"the {kind} metric file {metric_file!r} must be an .npz archive.")
        if kind == "rhvae":
            c, M, T, lbd = _require(spec, ["centroids", "M", "temperature", "lbd"], metric_file, kind)
            base = RHVAEMetric(c, M, float(T), float(lbd))
        else:
            mu, sigma, tau, lbd = _require(spec, ["mu", "sigma", "tau", "lbd"], metric_file, kind)
            base = VAECometric(mu, sigma, float(tau), float(lbd))
    else:
        raise InvalidInputError(f"metric must be euclidean, rhvae or vae; received {kind!r}.")
    if base.dim != dim:
        raise InvalidInputError(
            f"the metric is defined on R^{base.dim} but the points have dimension {dim}."
        )
    if omega is None:
        return base
    if os.path.splitext(str(omega))[1].lower() in (".npy", ".npz"):
        obj = _load_npz_or_npy(omega, "omega")
        if isinstance(obj, dict):
            if {"centers", "coefficients", "bandwidth"} <= set(obj):
                field = RBFField(obj["centers"], obj["coefficients"], float(obj["bandwidth"]),
                                 float(obj["max_norm"]) if "max_norm" in obj else None)
            elif {"points", "values"} <= set(obj):
                bw = float(obj["bandwidth"]) if "bandwidth" in obj else None
                field = RBFField.fit(obj["points"], obj["values"], bandwidth=bw)
            else:
                raise InvalidInputError(
                    f"omega file {omega!r} must hold centers/coefficients/bandwidth or points/values; "
                    f"found {', '.join(sorted(obj))}."
                )
        else:
            field = obj
    else:
        field = parse_vector(omega, "omega")
    return Randers(base, field, max_norm=max_norm)


def parse_vector(text, name):
    try:
        return np.array([float(x) for x in str(text).split(",")])
    except ValueError:
        raise InvalidInputError(
            f"{name} must be comma-separated numbers like 0.1,-0.2 or a .npy/.npz file; received {text!r}."
        ) from None


def load_indices(text, n, name):
    """Node indices from 'i,j,k', a range 'a:b', or a .npy file."""
    from ._validation import check_nodes

    if text is None:
        return None
    if str(text).endswith(".npy"):
        arr = _load_npz_or_npy(text, name)
        if isinstance(arr, dict) or arr.dtype.kind not in "iu":
            raise InvalidInputError(f"{name} file {text!r} must hold a 1-D integer array.")
    elif ":" in str(text):
        try:
            a, b = (int(x) if x else None for x in str(text).split(":"))
        except ValueError:
            raise InvalidInputError(f"{name} range must look like 0:100; received {text!r}.") from None
        arr = np.arange(n)[slice(a, b)]
    else:
        try:
            arr = np.array([int(x) for x in str(text).split(",")])
        except ValueError:
            raise InvalidInputError(
                f"{name} must be comma-separated node indices, a range a:b or a .npy file; "
                f"received {text!r}."
            ) from None
    return check_nodes(arr, n, name)
