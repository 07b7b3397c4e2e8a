"""Configuration: JSON-schema validation with defaults, semantic checks, hashing.

The schema (``schemas/config.schema.yaml``) is the single description of every
key. Errors become one :class:`~galclust.errors.ConfigError` line naming the key.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import yaml

from .errors import ConfigError

SCHEMA_FILE = "config.schema.yaml"
# Feature extractors that need no model.
BUILTIN_EXTRACTORS = ("pixels", "morphometrics")

# Methods and the config key listing their settings (one clustering job per setting).
METHOD_SETTING = {
    "kmeans": ("k", "k"),
    "agglomerative": ("k", "k"),
    "affinity_propagation": ("damping", "d"),
    "dbscan": ("eps", "eps"),
    "hdbscan": ("min_cluster_size", "m"),
    "spectral": ("k", "k"),
}


@cache
def load_schema() -> dict[str, Any]:
    """The config schema as a dict."""
    text = resources.files("galclust.schemas").joinpath(SCHEMA_FILE).read_text()
    return yaml.safe_load(text)


def _with_defaults(validator_class: type) -> type:
    # jsonschema's documented recipe: fill "default" values while validating.
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # type: ignore[no-untyped-def]
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def _key(path: Any) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in path]
    return "".join(parts).lstrip(".") or "<top level>"


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Validate ``config`` in place against the schema (filling defaults), then check
    the cross-references the schema cannot express. Returns the same dict."""
    validator = _Validator(load_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.path), list(e.path)))
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        path = list(err.absolute_path)
        msg = err.message
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = sorted(err.schema.get("properties", {}))
            extra = sorted(set(err.instance) - set(allowed))
            path.append(extra[0])
            msg = f"unknown key (allowed here: {', '.join(allowed)})"
        raise ConfigError(f"config key '{_key(path)}': {msg}")
    _check_references(config)
    return config


def _check_references(config: dict[str, Any]) -> None:
    models = config.get("models", {})
    for name, fs in config["features"].items():
        key = f"features.{name}"
        extractor = fs["extractor"]
        if extractor == "file":
            if "file" not in fs:
                raise ConfigError(f"config key '{key}.file': required when extractor is 'file'")
        elif extractor in BUILTIN_EXTRACTORS:
            if fs.get("tta") and extractor == "morphometrics":
                raise ConfigError(f"config key '{key}.tta': morphometrics are measured, not learned: no test-time augmentation")
        elif extractor in models:
            layer = fs.get("layer")
            if layer is None:
                raise ConfigError(f"config key '{key}.layer': required for model '{extractor}'")
            if layer not in models[extractor]["layers"]:
                known = ", ".join(sorted(models[extractor]["layers"]))
                raise ConfigError(
                    f"config key '{key}.layer': unknown layer '{layer}' of model '{extractor}' "
                    f"(known: {known})"
                )
        else:
            known = ", ".join([*BUILTIN_EXTRACTORS, "file", *sorted(models)])
            raise ConfigError(
                f"config key '{key}.extractor': unknown feature extractor '{extractor}' (known: {known})"
            )
    for name, model in models.items():
        if model["kind"] == "backbone" and "backbone" not in model:
            raise ConfigError(f"config key 'models.{name}.backbone': required for kind 'backbone'")
    source = config["source"]
    if source["kind"] != "demo" and not config["catalog"].get("path") and not config["catalog"].get("sql"):
        if not (source["kind"] == "local" and source["local"].get("directory")):
            raise ConfigError("config key 'catalog.path': a catalog is required for source "
                              f"'{source['kind']}'")
    if source["kind"] == "local" and not source["local"].get("directory"):
        raise ConfigError("config key 'source.local.directory': required for source 'local'")
    jobs = clustering_jobs(config)
    if not jobs:
        raise ConfigError("config key 'clustering': no clustering job is configured")
    for i, target in enumerate(config.get("report", {}).get("member_pdfs", [])):
        fs, job = target.split("/", 1)
        if fs not in config["features"]:
            raise ConfigError(f"config key 'report.member_pdfs[{i}]': unknown feature set '{fs}'")
        if job not in jobs:
            raise ConfigError(
                f"config key 'report.member_pdfs[{i}]': unknown clustering '{job}' "
                f"(configured: {', '.join(sorted(jobs))})"
            )


def load_config(path: str) -> dict[str, Any]:
    """Read and validate a YAML config file."""
    with open(path) as fh:
        config = yaml.safe_load(fh) or {}
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: the config must be a mapping of keys")
    return validate_config(config)


def config_hash(obj: Any, length: int = 12) -> str:
    """Stable short hash of a JSON-able object (key order does not matter)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


def format_setting(value: float | int) -> str:
    """A setting as it appears in a clustering name: 10 -> '10', 0.80 -> '0.8'."""
    return f"{value:g}"


@dataclass(frozen=True)
class ClusteringJob:
    """One clustering run: a method and its settings, named like ``kmeans-k10``."""

    name: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)


def clustering_jobs(config: dict[str, Any]) -> dict[str, ClusteringJob]:
    """Every configured clustering job, by name."""
    jobs: dict[str, ClusteringJob] = {}
    for method, settings in config.get("clustering", {}).items():
        key, short = METHOD_SETTING[method]
        shared = {k: v for k, v in settings.items() if k != key}
        for value in settings.get(key, []):
            name = f"{method}-{short}{format_setting(value)}"
            jobs[name] = ClusteringJob(name, method, {key: value, **shared})
    return jobs
