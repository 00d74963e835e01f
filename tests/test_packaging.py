"""The package as users get it: the wheel, the README's commands, the demo."""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    if shutil.which("git") is None:  # pragma: no cover
        pytest.skip("git is needed to copy the source tree")
    out = tmp_path_factory.mktemp("wheel")
    src = out / "src"
    # build from a copy so that build/ and *.egg-info never land in the checkout
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "__pycache__", "build", "dist", "*.egg-info", ".pytest_cache"))
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = list(out.glob("graphgeo-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_contains_every_kernel(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    kernels = sorted(p.name for p in (ROOT / "kernels").glob("*.py"))
    assert kernels, "no kernel files found in kernels/"
    for k in kernels:
        assert f"graphgeo/kernels/{k}" in names, f"{k} missing from the wheel"
    # no top-level module named `kernels` leaks out of the wheel
    assert not any(n.startswith("kernels/") for n in names)
    for mod in ("graphgeo/__init__.py", "graphgeo/metrics/__init__.py", "graphgeo/graph.py"):
        assert mod in names


def test_wheel_works_outside_the_source_tree(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import numpy as np, graphgeo as gg, graphgeo.kernels.segments as s;"
            "g = gg.GeodesicGraph.build(np.random.default_rng(0).normal(size=(50, 2)), gg.Euclidean(2), k=5);"
            "print(gg.__file__); print(s.__file__); print(g.shortest_path(0, 1).length)")
    env = dict(os.environ, PYTHONPATH=str(site))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(str(site)) and lines[1].startswith(str(site))
    assert float(lines[2]) > 0


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)


def test_readme_has_demo_and_test_commands():
    cmds = _readme_commands()
    demo = [c for c in cmds if "graphgeo demo" in c]
    tests = [c for c in cmds if "pytest" in c]
    assert len(demo) == 1 and len(tests) == 1
    for c in demo + tests:
        assert "python3 -m venv .venv" in c  # each sets up its own environment
    assert "requirements.txt" in demo[0] and "requirements-dev.txt" in tests[0]
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text()
    # CI runs exactly the README's test command
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests[0].strip() in ci


def test_demo_command_runs(tmp_path):
    exe = Path(sys.executable).parent / "graphgeo"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "graphgeo.cli"]
    proc = subprocess.run(cmd + ["demo", "--n", "400", "--grid", "40", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "graph paths" in proc.stdout and "k-medoids" in proc.stdout
    assert "distance map" in proc.stdout
    for name in ("demo.png", "randers.png", "distance_map.png", "clusters.png"):
        png = tmp_path / "out" / name
        assert png.exists() and png.stat().st_size > 10_000, name


def test_demo_reports_errors_cleanly(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "graphgeo.cli", "demo", "--n", "5"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert "graphgeo: error:" in proc.stderr and "n must be" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    code = re.findall(r"```python\n(.*?)\n```", text, flags=re.S)[0]
    ns = {}
    exec(compile(code, "README example", "exec"), ns)
    fwd, bwd = ns["fwd"], ns["bwd"]
    assert ns["D"].shape == (3, 5000)
    assert fwd.nodes[0] == 0 and fwd.nodes[-1] == 1 and bwd.nodes[0] == 1
    assert fwd.length != pytest.approx(bwd.length, rel=1e-6)  # direction-aware
