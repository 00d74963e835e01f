"""The offline real-data example (slow: run with -m slow)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_digits_example(tmp_path):
    spec = importlib.util.spec_from_file_location("digits_example", ROOT / "examples" / "digits.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.main(["--out", str(tmp_path), "--pairs", "8"])
    assert (tmp_path / "interpolation.png").stat().st_size > 10_000
    # geodesics stay closer to the data than straight lines, and cluster the labels better
    assert res["off_geodesic"] < 0.9 * res["off_linear"]
    assert res["ari_geodesic"] > res["ari_euclidean"] + 0.05
