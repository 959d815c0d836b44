"""Shared config helpers for both packages: load a recipe, apply dotted ``--set`` overrides, dump to JSON.

Configs are frozen dataclasses; recipes are functions in ``pipelines/`` that return one. ``--set a.b=value``
parses ``value`` with ``ast.literal_eval`` (a bare word stays a string), checks it against the field's current
type and rebuilds the nested dataclasses with ``dataclasses.replace``. Standard library only.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A recipe that cannot be found or an override that does not fit the config."""


def load_recipe(ref: str, *, package: str = "pipelines") -> Any:
    """Resolve ``name``, ``module:function``, ``module.function`` or ``path/to/file.py:function`` and call it.

    A bare ``name`` looks for ``pipelines/<name>.py:<name>`` and then ``pipelines.<name>``'s ``config()``.
    """
    fn = _resolve(ref, package)
    try:
        return fn()
    except TypeError as err:
        raise ConfigError(f"recipe {ref!r} must be callable without arguments: {err}") from None


def _resolve(ref: str, package: str) -> Callable[[], Any]:
    root = Path.cwd()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # pipelines/ is a folder of the repository, not an installed package
    if ":" in ref:
        mod_ref, attr = ref.rsplit(":", 1)
    elif "." in ref and not ref.endswith(".py"):
        mod_ref, attr = ref.rsplit(".", 1)
    else:
        mod_ref, attr = f"{package}.{ref}", None
    if mod_ref.endswith(".py"):
        path = Path(mod_ref)
        if not path.is_file():
            raise ConfigError(f"recipe file {path} does not exist")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(mod_ref)
        except ModuleNotFoundError as err:
            raise ConfigError(f"recipe module {mod_ref!r} not found ({err})") from None
    for name in [attr] if attr else [ref.rsplit(".", 1)[-1], "config"]:
        if name and callable(getattr(module, name, None)):
            return getattr(module, name)
    raise ConfigError(f"recipe {ref!r}: no function {attr or ref!r} in {module.__name__}")


def apply_overrides(cfg: Any, overrides: Sequence[str]) -> Any:
    """Return ``cfg`` with each ``dotted.path=value`` override applied (type-checked)."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key.path=value")
        path, raw = item.split("=", 1)
        cfg = _set(cfg, path.strip().split("."), _parse(raw.strip()), path)
    return cfg


def _parse(raw: str) -> Any:
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw  # bare words are strings: --set run.precision=bf16


def _set(obj: Any, keys: list[str], value: Any, full: str) -> Any:
    head, rest = keys[0], keys[1:]
    if isinstance(obj, dict):
        if head not in obj:
            raise ConfigError(f"override {full!r}: no key {head!r} (have {sorted(obj)})")
        return {**obj, head: _set(obj[head], rest, value, full) if rest else _coerce(obj[head], value, full)}
    if not dataclasses.is_dataclass(obj):
        raise ConfigError(f"override {full!r}: {head!r} is not inside a config section")
    names = {f.name for f in dataclasses.fields(obj)}
    if head not in names:
        raise ConfigError(f"override {full!r}: {type(obj).__name__} has no field {head!r} (fields: {sorted(names)})")
    current = getattr(obj, head)
    new = _set(current, rest, value, full) if rest else _coerce(current, value, full)
    return dataclasses.replace(obj, **{head: new})


def _coerce(current: Any, value: Any, full: str) -> Any:
    if current is None or value is None:
        return value
    if isinstance(current, bool) or isinstance(value, bool):
        if isinstance(current, bool) and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"  # the shell spelling (--set a.enabled=false) as well as Python's
        if isinstance(current, bool) and isinstance(value, bool):
            return value
        raise ConfigError(f"override {full!r}: expected {type(current).__name__}, got {value!r}")
    if isinstance(current, float) and isinstance(value, int):
        return float(value)
    if isinstance(current, tuple) and isinstance(value, list | tuple):
        return tuple(value)
    if isinstance(current, Path) and isinstance(value, str):
        return Path(value)
    if not isinstance(value, type(current)):
        raise ConfigError(f"override {full!r}: expected {type(current).__name__}, got {type(value).__name__} {value!r}")
    return value


def to_dict(cfg: Any) -> Any:
    """A JSON-ready view of a (nested) config."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, dict):
        return {str(k): to_dict(v) for k, v in cfg.items()}
    if isinstance(cfg, list | tuple):
        return [to_dict(v) for v in cfg]
    if isinstance(cfg, Path):
        return str(cfg)
    return cfg


def dump(cfg: Any) -> str:
    return json.dumps(to_dict(cfg), indent=2, sort_keys=True)
