"""Configuration: JSON-schema validation with defaults, semantic checks, hashing.

The schema (``schemas/config.schema.yaml``) is the single description of every
key. Errors become one :class:`~galclust.errors.ConfigError` line naming the key.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import numpy as np
import yaml

from .errors import ConfigError

SCHEMA_FILE = "config.schema.yaml"
JOB_NAME = re.compile(r"^[a-z_]+-[a-z]+(?:[0-9.]+|auto)$")  # the Snakefile's `job` wildcard


@cache
def load_schema() -> dict[str, Any]:
    """The config schema as a dict, with the blocks of plugins' methods, sources, model kinds and
    reducers (each registry's names in its enum)."""
    from .acquire.sources import SOURCES
    from .extractors import EXTRACTORS, model_kinds
    from .methods import METHODS
    from .reducers import REDUCERS

    schema = yaml.safe_load(resources.files("galclust.schemas").joinpath(SCHEMA_FILE).read_text())
    props = schema["properties"]
    for name, method in METHODS.items():
        if method.schema is not None:
            props["clustering"]["properties"].setdefault(name, dict(method.schema))
    source = props["source"]["properties"]
    for name, src in SOURCES.items():
        if name not in source["kind"]["enum"]:
            source["kind"]["enum"].append(name)
        if src.schema is not None:
            source.setdefault(name, dict(src.schema))
    kind = schema["properties"]["models"]["additionalProperties"]["properties"]["kind"]
    kind["enum"] += [k for k in model_kinds() if k not in kind["enum"]]
    model = schema["properties"]["models"]["additionalProperties"]["properties"]
    for name, ext in EXTRACTORS.items():
        if ext.schema is not None and not ext.builtin:
            model.setdefault(name, dict(ext.schema))
    reduce = props["features"]["additionalProperties"]["properties"]["reduce"]["properties"]
    reduce["method"]["enum"] += [r for r in REDUCERS if r not in reduce["method"]["enum"]]
    maps = props["report"]["properties"]["maps"]["properties"]["method"]
    maps["enum"] += [r for r, red in REDUCERS.items() if red.map_keys is not None and r not in maps["enum"]]
    for reducer in REDUCERS.values():
        for key, block in (reducer.schema or {}).items():
            reduce.setdefault(key, dict(block))
    return schema


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


def _fill_and_check(instance: Any, schema: dict[str, Any], where: list[str]) -> None:
    """Validate ``instance`` in place against ``schema``, filling defaults; the first error
    becomes one line naming its key (``where``: the keys above ``instance``)."""
    validator = _Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: (len(e.path), list(e.path)))
    if not errors:
        return
    err = jsonschema.exceptions.best_match(errors)
    path = [*where, *err.absolute_path]
    msg = err.message
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed))
        path.append(extra[0])
        msg = f"unknown key (allowed here: {', '.join(allowed)})"
    # "anyOf": a number or a keyword such as `auto`; "type": a number only
    if err.validator in ("type", "anyOf") and isinstance(err.instance, str) and _looks_numeric(err.instance):
        written = f"{float(err.instance):.1e}".replace("e-0", "e-").replace("e+0", "e+")
        msg += (f" (YAML reads {err.instance} as text: write the number with a dot, e.g. {written})")
    raise ConfigError(f"config key '{_key(path)}': {msg}")


def with_defaults(block: dict[str, Any], key: str) -> dict[str, Any]:
    """A copy of one block of the config (``key``: its top-level key, e.g. ``source``), validated
    and with every schema default filled in, for code that runs a stage outside the workflow (a
    test, a benchmark); the workflow's jobs get their blocks so from the parse (``params``)."""
    filled = copy.deepcopy(dict(block))
    _fill_and_check(filled, load_schema()["properties"][key], [key])
    return filled


def validate_config(config: dict[str, Any], check_files: bool = True) -> dict[str, Any]:
    """Validate ``config`` in place against the schema (filling defaults), then check
    the cross-references the schema cannot express. Returns the same dict.

    ``check_files`` False (a job's own parse, after the submitting parse checked them): the
    model files' layers and SHA-256 are trusted, not read again; their cards are still read,
    since a card's preprocessing becomes the config's."""
    explicit_preprocess = copy.deepcopy(config.get("preprocess") or {})
    _fill_and_check(config, load_schema(), [])
    _check_references(config)
    _check_model_cards(config, explicit_preprocess, check_files)
    return config


def _check_model_cards(config: dict[str, Any], explicit_preprocess: dict[str, Any], check_files: bool = True) -> None:
    """Models given by ``path``: the layers named exist in the ``.keras`` file; with a card beside
    it, the file is the card's (SHA-256) and the run preprocesses as the card says
    (``preprocess.from_model`` takes the card's settings; any other difference stops the run,
    naming the key)."""
    from .modelcard import (apply_card_preprocess, card_for, card_path, check_model_file, keras_layer_names,
                            preprocess_conflicts)

    models = config.get("models", {})
    source = config["preprocess"].get("from_model")
    if source is not None and source not in models:
        raise ConfigError(f"config key 'preprocess.from_model': unknown model '{source}' "
                          f"(known: {', '.join(sorted(models)) or 'none'})")
    for name, model in models.items():
        path = model.get("path")
        if check_files and path and str(path).endswith(".keras"):
            known = keras_layer_names(path)
            for key, layer in model["layers"].items():
                if known and layer not in known:
                    raise ConfigError(f"config key 'models.{name}.layers.{key}': the network {path} has "
                                      f"no layer '{layer}' (its layers: {', '.join(known)})")
        card = card_for(path) if path else None
        if name == source:
            if card is None:
                raise ConfigError(f"config key 'preprocess.from_model': model '{name}' has no card "
                                  f"({card_path(path) if path else 'no models.' + name + '.path'})")
            explicit = {k: v for k, v in explicit_preprocess.items() if k != "from_model"}
            if conflicts := preprocess_conflicts(card, explicit):
                key, ours, theirs = conflicts[0]
                raise ConfigError(f"config key 'preprocess.{key}': {ours!r}, but preprocess.from_model takes "
                                  f"{theirs!r} from {card_path(path)}; remove the key or the from_model")
            config["preprocess"] = apply_card_preprocess(config["preprocess"], card)
        if card is None:
            continue
        if check_files:
            check_model_file(path, card, f"models.{name}.path")
        if conflicts := preprocess_conflicts(card, config["preprocess"]):
            key, ours, theirs = conflicts[0]
            raise ConfigError(f"config key 'preprocess.{key}': {ours!r}, but model '{name}' was trained on "
                              f"images preprocessed with {theirs!r} ({card_path(path)}); set it so, or set "
                              f"preprocess.from_model: {name}")


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_references(config: dict[str, Any]) -> None:
    from .extractors import EXTRACTORS, builtin

    models = config.get("models", {})
    from .methods import METHODS

    for name, fs in config["features"].items():
        key = f"features.{name}"
        for i, method in enumerate(fs.get("methods", [])):
            if method not in METHODS:
                raise ConfigError(f"config key '{key}.methods[{i}]': unknown method '{method}' "
                                  f"(known: {', '.join(METHODS)})")
        if "from" in fs:
            _check_view(config["features"], name)
            continue
        if "extractor" not in fs:
            raise ConfigError(f"config key '{key}.extractor': required (or 'from' with 'reduce', for a view)")
        extractor = fs["extractor"]
        if extractor in builtin():
            if (check := EXTRACTORS[extractor].check) is not None:
                check(fs, key)
            if fs.get("tta") and not EXTRACTORS[extractor].tta:
                raise ConfigError(f"config key '{key}.tta': {extractor} are measured, not learned: "
                                  "no test-time augmentation")
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
            known = ", ".join([*builtin(), *sorted(models)])
            raise ConfigError(
                f"config key '{key}.extractor': unknown feature extractor '{extractor}' (known: {known})"
            )
    for name, model in models.items():
        if (check := EXTRACTORS[model["kind"]].check) is not None:
            check(model, f"models.{name}")
    from .acquire.sources import SOURCES

    source = config["source"]
    kind = SOURCES[source["kind"]]
    if kind.check is not None:
        kind.check(source.get(kind.name, {}), f"source.{kind.name}")
    elif kind.catalog is None and not config["catalog"].get("path") and not config["catalog"].get("sql"):
        raise ConfigError("config key 'catalog.path': a catalog is required for source "
                          f"'{source['kind']}'")
    for name, model in models.items():
        if model.get("path") and not os.path.isfile(model["path"]):
            raise ConfigError(f"config key 'models.{name}.path': {model['path']} not found")
    jobs = clustering_jobs(config)
    if not jobs:
        raise ConfigError("config key 'clustering': no clustering job is configured")
    for i, target in enumerate(config.get("report", {}).get("member_pdfs", [])):
        fs, job = target.split("/", 1)
        if fs not in config["features"]:
            raise ConfigError(f"config key 'report.member_pdfs[{i}]': unknown feature set '{fs}'")
        if job in jobs and "methods" in config["features"][fs] and jobs[job].method not in config["features"][fs]["methods"]:
            raise ConfigError(f"config key 'report.member_pdfs[{i}]': '{job}' is not run on '{fs}' "
                              f"(features.{fs}.methods)")
        if job not in jobs:
            raise ConfigError(
                f"config key 'report.member_pdfs[{i}]': unknown clustering '{job}' "
                f"(configured: {', '.join(sorted(jobs))})"
            )


def _check_view(features: dict[str, Any], name: str) -> None:
    """A view names an existing feature set, a reducer, and no extractor; no view of itself."""
    fs, key = features[name], f"features.{name}"
    if "extractor" in fs:
        raise ConfigError(f"config key '{key}': give either 'extractor' or 'from', not both")
    if "reduce" not in fs:
        raise ConfigError(f"config key '{key}.reduce': required with 'from' (e.g. {{method: tsne}})")
    from .reducers import REDUCERS

    reducer = REDUCERS[fs["reduce"]["method"]]
    if isinstance(fs["from"], list) and not reducer.combines:
        raise ConfigError(f"config key '{key}.reduce.method': several feature sets in 'from' are put side by "
                          f"side: method {' or '.join(REDUCERS.where(combines=True))}, not {reducer.name}")

    def walk(seen: list[str]) -> None:
        parents = features[seen[-1]].get("from", [])
        for parent in [parents] if isinstance(parents, str) else parents:
            if parent not in features:
                raise ConfigError(f"config key 'features.{seen[-1]}.from': unknown feature set '{parent}' "
                                  f"(known: {', '.join(sorted(features))})")
            if parent in seen:
                raise ConfigError(f"config key '{key}.from': the views form a cycle ({' -> '.join(seen + [parent])})")
            walk([*seen, parent])

    walk([name])
    if reducer.supervised and not fs["reduce"].get("target"):
        raise ConfigError(f"config key '{key}.reduce.target': {reducer.label} needs the catalog column of the classes")


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


def format_setting(value: float | int | str) -> str:
    """A setting as it appears in a clustering name, exactly: 10 -> '10', 0.80 -> '0.8',
    1e-5 -> '0.00001', 0.1234567 -> '0.1234567' (the shortest decimal that reads back as the
    same float, never in exponent form, so distinct values never share a name); 'auto' (a
    setting the method chooses from the data) stays 'auto'."""
    if value == "auto":
        return "auto"
    if isinstance(value, bool):
        raise TypeError(f"a clustering setting cannot be a boolean: {value!r}")
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return np.format_float_positional(float(value), trim="-")


@dataclass(frozen=True)
class ClusteringJob:
    """One clustering run: a method and its settings, named like ``kmeans-k10``."""

    name: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)


def clustering_jobs(config: dict[str, Any]) -> dict[str, ClusteringJob]:
    """Every configured clustering job, by name (one per method and value of its setting)."""
    from .methods import METHODS

    jobs: dict[str, ClusteringJob] = {}
    for method_name, settings in config.get("clustering", {}).items():
        method = METHODS[method_name]
        shared = {k: v for k, v in settings.items() if k != method.setting}
        for i, value in enumerate(settings.get(method.setting, [])):
            name = f"{method_name}-{method.tag}{format_setting(value)}"
            if name in jobs:
                raise ConfigError(f"config key 'clustering.{method_name}.{method.setting}[{i}]': "
                                  f"{value!r} repeats an earlier value (job {name})")
            if not JOB_NAME.match(name):
                raise ConfigError(f"config key 'clustering.{method_name}': job name {name!r} is not of the "
                                  "form method-tagVALUE (method [a-z_]+, tag [a-z]+)")
            jobs[name] = ClusteringJob(name, method_name, {method.setting: value, **shared})
    return jobs
