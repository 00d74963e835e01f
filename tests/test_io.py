"""Files written by graphgeo: GeodesicGraph.save and the command line's outputs.

A save that cannot be written (missing folder, a path under a regular file, a
failing rename) or that is interrupted (the disk fills up, Ctrl-C) must raise a
clear error naming the path and leave no partial file; a graph already saved at
the target stays intact. Running as root, chmod-based read-only folders do not fail,
so those failures are made with paths under a regular file or by monkeypatching.
"""

import errno
import os

import numpy as np
import pytest
from numpy.testing import assert_allclose

import graphgeo as gg
from graphgeo.io import atomic_path, save_figure, save_npy, save_npz


@pytest.fixture(scope="module")
def graphs():
    rng = np.random.default_rng(0)
    a = gg.GeodesicGraph.build(rng.normal(size=(60, 2)), gg.Randers(gg.Euclidean(2), [0.2, 0.1]), k=6)
    b = gg.GeodesicGraph.build(rng.normal(size=(40, 2)), gg.Euclidean(2), k=5)
    return a, b


def _same(g, h):
    assert_allclose(h.points, g.points, rtol=0, atol=0)
    assert_allclose(h.weights.toarray(), g.weights.toarray(), rtol=0, atol=0)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------------------ load
def test_load_missing_path_names_it(tmp_path):
    for p in (tmp_path / "nothere.npz", tmp_path / "nothere", str(tmp_path / "dir" / "g.npz")):
        with pytest.raises(FileNotFoundError, match=os.path.basename(os.fspath(p))):
            gg.GeodesicGraph.load(p)


# ------------------------------------------------------------------------------ suffix
def test_save_appends_npz_and_load_finds_it(graphs, tmp_path):
    g, _ = graphs
    written = g.save(tmp_path / "plain")
    assert written == str(tmp_path / "plain.npz")
    assert sorted(os.listdir(tmp_path)) == ["plain.npz"]
    _same(g, gg.GeodesicGraph.load(tmp_path / "plain"))
    _same(g, gg.GeodesicGraph.load(tmp_path / "plain.npz"))
    # another suffix is kept and .npz appended, as np.savez does
    assert g.save(str(tmp_path / "g.bin")) == str(tmp_path / "g.bin.npz")
    _same(g, gg.GeodesicGraph.load(str(tmp_path / "g.bin")))


def test_save_overwrites_and_follows_the_umask(graphs, tmp_path):
    g, h = graphs
    path = tmp_path / "g.npz"
    g.save(path)
    h.save(path)
    _same(h, gg.GeodesicGraph.load(path))
    assert sorted(os.listdir(tmp_path)) == ["g.npz"]
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~_umask()


def test_save_through_a_symlink_replaces_the_target_file(graphs, tmp_path):
    g, h = graphs
    g.save(tmp_path / "real.npz")
    os.symlink(tmp_path / "real.npz", tmp_path / "link.npz")
    h.save(tmp_path / "link.npz")
    assert os.path.islink(tmp_path / "link.npz")
    _same(h, gg.GeodesicGraph.load(tmp_path / "real.npz"))


# ------------------------------------------------------------------------------ failures
@pytest.mark.parametrize("where, exc", [
    (("missing", "g.npz"), FileNotFoundError),
    (("afile", "g.npz"), NotADirectoryError),
])
def test_save_to_an_unwritable_place(graphs, tmp_path, where, exc):
    g, _ = graphs
    (tmp_path / "afile").write_bytes(b"not a folder")
    path = tmp_path.joinpath(*where)
    with pytest.raises(exc, match="cannot write the graph") as info:
        g.save(path)
    assert info.value.filename == str(path)
    assert str(path) in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["afile"]
    assert (tmp_path / "afile").read_bytes() == b"not a folder"


@pytest.mark.parametrize("failure", ["disk full", "interrupt", "bad array"])
def test_interrupted_save_leaves_the_old_file_and_no_partial_file(graphs, tmp_path, monkeypatch,
                                                                   failure):
    g, h = graphs
    path = tmp_path / "g.npz"
    g.save(path)
    before = path.read_bytes()

    def broken(file, **arrays):
        with open(file, "wb") as fh:  # half a file, then the failure
            fh.write(b"PK\x03\x04" + b"\0" * 1000)
        if failure == "disk full":
            raise OSError(errno.ENOSPC, "No space left on device")
        if failure == "interrupt":
            raise KeyboardInterrupt
        raise ValueError("cannot serialise")

    monkeypatch.setattr(np, "savez_compressed", broken)
    expected = {"disk full": OSError, "interrupt": KeyboardInterrupt, "bad array": ValueError}[failure]
    with pytest.raises(expected) as info:
        h.save(path)
    if failure == "disk full":
        assert info.value.errno == errno.ENOSPC
        assert info.value.filename == str(path)
        assert "No space left on device" in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["g.npz"]
    assert path.read_bytes() == before
    monkeypatch.undo()
    _same(g, gg.GeodesicGraph.load(path))


def test_failing_rename_is_a_permission_error_naming_the_path(graphs, tmp_path, monkeypatch):
    g, _ = graphs

    def deny(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", dst)

    monkeypatch.setattr(os, "replace", deny)
    with pytest.raises(PermissionError, match="cannot write the graph") as info:
        g.save(tmp_path / "g.npz")
    assert info.value.filename == str(tmp_path / "g.npz")
    assert os.listdir(tmp_path) == []
    assert isinstance(info.value, OSError)


def test_save_to_a_file_object_is_unchanged(graphs, tmp_path):
    g, _ = graphs
    with open(tmp_path / "fh.npz", "wb") as fh:
        assert g.save(fh) is None
    with open(tmp_path / "fh.npz", "rb") as fh:
        _same(g, gg.GeodesicGraph.load(fh))


# ------------------------------------------------------------------------------ the helpers
def test_atomic_path_writes_nothing_when_the_block_fails(tmp_path):
    target = tmp_path / "out.npy"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="midway"):
        with atomic_path(target) as tmp:
            assert os.path.dirname(tmp) == str(tmp_path) and tmp.endswith(".npy")
            np.save(tmp, np.arange(10))
            raise RuntimeError("midway")
    assert target.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["out.npy"]


def test_save_helpers_append_suffixes_like_numpy(tmp_path):
    x = np.arange(6.0).reshape(2, 3)
    assert save_npy(tmp_path / "a", x) == str(tmp_path / "a.npy")
    assert_allclose(np.load(tmp_path / "a.npy"), x, rtol=0, atol=0)
    assert save_npz(tmp_path / "b", x=x) == str(tmp_path / "b.npz")
    with np.load(tmp_path / "b.npz") as f:
        assert_allclose(f["x"], x, rtol=0, atol=0)
    with pytest.raises(FileNotFoundError, match="cannot write the labels"):
        save_npy(tmp_path / "no" / "c.npy", x, "labels")
    assert sorted(os.listdir(tmp_path)) == ["a.npy", "b.npz"]


def test_save_figure(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    try:
        assert save_figure(fig, tmp_path / "f") == str(tmp_path / "f.png")
        assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        save_figure(fig, tmp_path / "f.pdf")
        assert (tmp_path / "f.pdf").read_bytes()[:5] == b"%PDF-"
        with pytest.raises(ValueError):
            save_figure(fig, tmp_path / "f.notaformat")
    finally:
        plt.close(fig)
    assert sorted(os.listdir(tmp_path)) == ["f.pdf", "f.png"]


# ------------------------------------------------------------------------------ command line
def test_cli_outputs_to_a_missing_folder_fail_cleanly(graphs, tmp_path, monkeypatch, capsys):
    from graphgeo.cli import main

    g, _ = graphs
    g.save(tmp_path / "g.npz")
    monkeypatch.chdir(tmp_path)
    for args in (["distances", "g.npz", "--sources", "0:3", "-o", "no/D.npy"],
                 ["cluster", "g.npz", "--n-clusters", "2", "-o", "no/labels.npy"],
                 ["path", "g.npz", "--source", "0", "--target", "5", "-o", "no/p.npz"],
                 ["build", "g.npz", "-o", "no/g2.npz"]):
        assert main([*args, "--quiet"]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("graphgeo: error: [Errno 2] cannot write the "), err
        assert err.count("\n") == 1 and f"'{args[-1]}'" in err, err
    assert sorted(os.listdir(tmp_path)) == ["g.npz"]


def test_cli_outputs_without_suffix(graphs, tmp_path, monkeypatch, capsys):
    from graphgeo.cli import main

    g, _ = graphs
    g.save(tmp_path / "g.npz")
    monkeypatch.chdir(tmp_path)
    assert main(["cluster", "g.npz", "--n-clusters", "2", "-o", "labels"]) == 0
    assert "labels saved to labels.npy" in capsys.readouterr().out
    assert np.load(tmp_path / "labels.npy").shape == (g.n_nodes,)
    assert main(["distances", "g.npz", "--sources", "0:3", "--dtype", "float64", "-o", "D.npy",
                 "--quiet"]) == 0
    assert_allclose(np.load(tmp_path / "D.npy"), g.distances(np.arange(3)), rtol=1e-12, atol=0)
    assert sorted(os.listdir(tmp_path)) == ["D.npy", "g.npz", "labels.npy"]
