"""The Python package as a release artifact: one version everywhere, a clean wheel that
works outside the checkout."""

import importlib.metadata
import os
import pathlib
import shutil
import subprocess
import sys

import locally_connected

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_version_is_the_metadata_and_the_r_package_version():
    description = (ROOT / "DESCRIPTION").read_text()
    r_version = next(line.split(":", 1)[1].strip() for line in description.splitlines()
                     if line.startswith("Version:"))
    assert locally_connected.__version__ == importlib.metadata.version("locally_connected")
    assert locally_connected.__version__ == r_version


def test_wheel_builds_without_warnings_and_works_from_another_folder(tmp_path):
    # A copy of what the wheel is made from, so the build writes nothing into the checkout.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "python", source / "python",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
         str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    log = build.stdout + build.stderr
    assert build.returncode == 0, log
    assert "warning" not in log.lower(), log
    (wheel,) = (tmp_path / "dist").glob("locally_connected-*.whl")
    assert wheel.name == f"locally_connected-{locally_connected.__version__}-py3-none-any.whl"

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(site), str(wheel)], check=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import importlib.metadata, keras, numpy as np, locally_connected as lc\n"
        "print(lc.__file__)\n"
        "print(lc.__version__, importlib.metadata.version('locally_connected'))\n"
        "layer = lc.LocallyConnected2D(2, 3)\n"
        "print(tuple(layer(np.ones((1, 5, 5, 1), 'float32')).shape))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(site))
    run = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    path, versions, shape = run.stdout.strip().splitlines()[-3:]
    assert pathlib.Path(path).is_relative_to(site)
    assert versions == f"{locally_connected.__version__} {locally_connected.__version__}"
    assert shape == "(1, 3, 3, 2)"


def _make_variable(name: str) -> str:
    """A Makefile variable's value, continuation lines joined."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    (line,) = [line for line in text.splitlines() if line.startswith(f"{name} :=")]
    return line.split(":=", 1)[1]


def _pins(name: str) -> dict:
    """`"package==version"` pins of a Makefile variable, as {package: version}."""
    import re

    return {m.group(1): m.group(2) for m in re.finditer(r'"([a-z_-]+)(?:\[\w+\])?==([\d.]+)', _make_variable(name))}


def test_declared_floors_are_the_versions_the_compatibility_run_tests():
    """Declared = tested: each floor the packages declare is the oldest version a make test
    run covers (the oldest point; PyTorch at the main point's, the only PyTorch 2.13 here)."""
    import tomllib
    from packaging.version import Version

    oldest, main = _pins("OLDEST_PINS"), _pins("BACKEND_PINS")
    python = _make_variable("OLDEST_PYTHON").strip()
    tested = {"python": python, "keras": oldest["keras"], "numpy": oldest["numpy"],
              "tensorflow": oldest["tensorflow"], "jax": oldest["jax"], "torch": main["torch"]}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {"python": project["requires-python"].removeprefix(">=")}
    for requirement in project["dependencies"] + project["optional-dependencies"]["tensorflow"]:
        name, floor = requirement.split(">=")
        declared[name] = floor
    for name in ("python", "keras", "numpy", "tensorflow"):
        assert Version(declared[name]) == Version(tested[name]), name
    description = " ".join((ROOT / "DESCRIPTION").read_text().split())
    for text in (f"Python (>= {python})", f"Keras (>= {declared['keras']})", f"NumPy (>= {declared['numpy']})",
                 f"TensorFlow >= {tested['tensorflow']}", f"JAX >= {tested['jax']}",
                 f"PyTorch >= {'.'.join(tested['torch'].split('.')[:2])}"):
        assert text in description, text
    r_code = (ROOT / "R" / "python.R").read_text() + (ROOT / "R" / "install.R").read_text()
    assert f'MINIMUM_KERAS <- "{declared["keras"]}"' in r_code
    assert f'"numpy>={declared["numpy"]}"' in r_code
    for backend, pin in (("tensorflow", f"tensorflow>={tested['tensorflow']}"), ("jax", f"jax[cpu]>={tested['jax']}"),
                         ("torch", f"torch>={'.'.join(tested['torch'].split('.')[:2])}")):
        assert f'{backend} = "{pin}"' in r_code, backend
