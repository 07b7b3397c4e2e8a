"""The per-rule-group conda environments (envs/*.yaml) agree with pyproject.toml.

Same package set for each rule group (core: the package's dependencies; tensorflow: those
plus the ``tf`` extra; tensorflow-gpu: plus the ``tf-gpu`` extra) and the same lower
bounds, so that a bump in one place without the other fails here.
"""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from conftest import REPO

ENVS = REPO / "envs"
#: env file -> the pyproject extras it adds to the core dependencies
GROUPS = {"core.yaml": [], "tensorflow.yaml": ["tf"], "tensorflow-gpu.yaml": ["tf-gpu"]}
#: conda-forge names that differ from the PyPI ones (none so far)
CONDA_TO_PYPI: dict[str, str] = {}
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9_,.-]+\])?\s*>=\s*([0-9][0-9A-Za-z.]*)$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(requirement: str, where: str) -> tuple[str, str]:
    """``name[extra]>=1.2`` -> (normalised name with extras, "1.2"); only lower bounds allowed."""
    m = REQUIREMENT.match(requirement.strip())
    assert m, f"{where}: {requirement!r} is not of the form 'name>=version'"
    name, extras, version = m.groups()
    name = CONDA_TO_PYPI.get(name, name)
    return _norm(name) + (extras or ""), version


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def expected(env_file: str) -> dict[str, str]:
    project = pyproject()
    reqs = list(project["dependencies"])
    for extra in GROUPS[env_file]:
        reqs += project["optional-dependencies"][extra]
    out = dict(parse(r, "pyproject.toml") for r in reqs)
    out["python"] = parse("python" + project["requires-python"], "pyproject.toml")[1]
    return out


def declared(env_file: str) -> dict[str, str]:
    env = yaml.safe_load((ENVS / env_file).read_text())
    assert "conda-forge" in env["channels"], f"envs/{env_file}: use conda-forge"
    out: dict[str, str] = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            if item == "pip":
                continue
            name, version = parse(item, f"envs/{env_file}")
            assert name not in out, f"envs/{env_file}: {name} listed twice"
            out[name] = version
    return out


@pytest.mark.parametrize("env_file", sorted(GROUPS))
def test_env_matches_pyproject(env_file):
    got, want = declared(env_file), expected(env_file)
    drift = {k: (got.get(k), want.get(k)) for k in sorted(got.keys() | want.keys()) if got.get(k) != want.get(k)}
    assert not drift, f"envs/{env_file} drifted from pyproject.toml, (env, pyproject) lower bounds: {drift}"


def test_every_env_file_is_checked():
    assert sorted(p.name for p in ENVS.glob("*.yaml")) == sorted(GROUPS)


def test_tensorflow_env_has_a_gpu_variant():
    cpu, gpu = declared("tensorflow.yaml"), declared("tensorflow-gpu.yaml")
    assert "tensorflow-cpu" in cpu and "tensorflow[and-cuda]" in gpu
    # the same environment but for the TensorFlow build
    assert {k: v for k, v in cpu.items() if not k.startswith("tensorflow")} == {
        k: v for k, v in gpu.items() if not k.startswith("tensorflow")
    }
    assert cpu["tensorflow-cpu"] == gpu["tensorflow[and-cuda]"]


def test_every_rule_uses_an_existing_env():
    seen = set()
    for smk in sorted((REPO / "rules").glob("*.smk")):
        text = smk.read_text()
        n_rules = len(re.findall(r"^rule \w+:", text, re.M))
        envs = re.findall(r"^    conda:\n\s+\"\.\./envs/([\w.-]+)\"", text, re.M)
        assert len(envs) == n_rules, f"{smk.name}: {n_rules} rules but {len(envs)} conda: directives"
        for env in envs:
            assert (ENVS / env).exists(), f"{smk.name}: envs/{env} does not exist"
        seen.update(envs)
    assert seen == {"core.yaml", "tensorflow.yaml"}
