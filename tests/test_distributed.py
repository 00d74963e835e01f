"""Dask fan-out on a real LocalCluster with 2 worker processes."""

import os
import signal
import threading
import time

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import graphgeo as gg

distributed = pytest.importorskip("distributed")
from graphgeo import distributed as ggd  # noqa: E402
from graphgeo.exceptions import InvalidInputError  # noqa: E402


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def graph():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(3000, 2))
    return gg.GeodesicGraph.build(pts, gg.Randers(gg.Euclidean(2), np.array([0.2, 0.1])), k=8)


def test_distances_equal_single_machine(client, graph):
    rng = np.random.default_rng(1)
    src = rng.choice(graph.n_nodes, 150, replace=False)
    tgt = rng.choice(graph.n_nodes, 40, replace=False)
    assert_array_equal(ggd.distances(graph, client, src, tgt, block_size=16),
                       graph.distances(src, tgt))
    assert_array_equal(ggd.distances(graph, client, src[:20], block_size=7, limit=1.0),
                       graph.distances(src[:20], limit=1.0))
    att = graph.attach(rng.normal(size=(5, 2)))
    assert_array_equal(ggd.distances(graph, client, att, tgt, block_size=2),
                       graph.distances(att, tgt))


def test_memmap_output(client, graph, tmp_path):
    src = np.arange(64)
    mm = np.lib.format.open_memmap(tmp_path / "D.npy", mode="w+", dtype=np.float32,
                                   shape=(64, graph.n_nodes))
    ggd.distances(graph, client, src, dtype=np.float32, out=mm, block_size=10)
    del mm
    assert_array_equal(np.load(tmp_path / "D.npy"), graph.distances(src, dtype=np.float32))


def test_pair_distances_equal_single_machine(client, graph):
    rng = np.random.default_rng(2)
    s = rng.integers(0, graph.n_nodes, 5000)
    t = rng.integers(0, graph.n_nodes, 5000)
    assert_array_equal(ggd.pair_distances(graph, client, s, t, block_size=200),
                       graph.pair_distances(s, t))


def test_progress_bars(client, graph, capsys):
    """Quiet by default; verbose=True counts the rows / pairs that came back."""
    src = np.arange(40)
    D = ggd.distances(graph, client, src, block_size=8)
    L = ggd.pair_distances(graph, client, src, src[::-1], block_size=8)
    assert capsys.readouterr().err == ""
    assert_array_equal(ggd.distances(graph, client, src, block_size=8, verbose=True), D)
    assert_array_equal(ggd.pair_distances(graph, client, src, src[::-1], block_size=8,
                                          verbose=True), L)
    err = capsys.readouterr().err
    if not os.environ.get("TQDM_DISABLE"):
        assert "distances: 100%" in err and "40/40" in err and "pair distances: 100%" in err


def test_back_to_back_calls_on_one_graph(client, graph):
    """Consecutive calls on the same graph ship its arrays under keys of their own: with
    content-hashed keys a call could reuse the keys an earlier call was releasing and lose
    the data under its tasks (seen in CI: FutureCancelledError written as a result)."""
    rng = np.random.default_rng(3)
    tgt = rng.choice(graph.n_nodes, 30, replace=False)
    for i in range(12):
        src = rng.choice(graph.n_nodes, 12, replace=False)
        assert_array_equal(ggd.distances(graph, client, src, tgt, block_size=3),
                           graph.distances(src, tgt))
        s = rng.integers(0, graph.n_nodes, 40)
        assert_array_equal(ggd.pair_distances(graph, client, s, tgt[:1].repeat(40), block_size=7),
                           graph.pair_distances(s, tgt[:1].repeat(40)))


def test_cancelled_task_raises_instead_of_writing(client):
    """dask hands a cancelled task's CancelledError over as its result: it must raise, not
    be written into the distance matrix."""
    ev = client.submit(time.sleep, 30, pure=False)
    client.cancel([ev])
    with pytest.raises(RuntimeError, match="cancelled"):
        list(ggd._completed([ev]))


def test_killed_worker_loses_nothing(client, graph):
    """SIGKILL one worker mid-job: its tasks are rerun and the answer is exact."""
    src = np.arange(graph.n_nodes)
    out = np.full((len(src), 60), np.nan)
    tgt = np.arange(0, graph.n_nodes, 50)
    pids = list(client.run(os.getpid).values())
    job = threading.Thread(target=ggd.distances,
                           args=(graph, client, src, tgt), kwargs=dict(out=out, block_size=10))
    job.start()
    deadline = time.time() + 60
    while np.isnan(out).all() and time.time() < deadline:  # wait for the first block
        time.sleep(0.005)
    unfinished_at_kill = np.isnan(out).any()
    os.kill(pids[0], signal.SIGKILL)
    job.join(timeout=120)
    assert unfinished_at_kill  # the kill really happened mid-job
    assert not job.is_alive()
    assert not np.isnan(out).any()
    assert_array_equal(out, graph.distances(src, tgt))
    client.wait_for_workers(2, timeout=60)
    assert pids[0] not in client.run(os.getpid).values()  # the nanny replaced the worker


def test_bad_input(client, graph):
    with pytest.raises(InvalidInputError, match="client"):
        ggd.distances(graph, object(), [0])
    with pytest.raises(InvalidInputError, match="sources"):
        ggd.distances(graph, client, [graph.n_nodes])
    with pytest.raises(InvalidInputError, match="block_size"):
        ggd.distances(graph, client, [0], block_size=0)
    with pytest.raises(InvalidInputError, match="targets must be node indices"):
        ggd.distances(graph, client, [0], graph.attach(np.zeros((1, 2))))
    with pytest.raises(InvalidInputError, match="same length"):
        ggd.pair_distances(graph, client, [0, 1], [2])
    with pytest.raises(InvalidInputError, match="out"):
        ggd.distances(graph, client, [0, 1], out=np.empty((3, 3)))
