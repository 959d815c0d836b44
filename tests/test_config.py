"""Dotted overrides and recipe loading (spac.config), shared by spac and plip."""

from dataclasses import dataclass, field

import pytest

from spac.config import ConfigError, apply_overrides, load_recipe, to_dict


@dataclass(frozen=True, kw_only=True, slots=True)
class Inner:
    lr: float = 1e-3
    steps: int = 10
    name: str = "x"
    flag: bool = False
    sizes: tuple[int, ...] = (1, 2)


@dataclass(frozen=True, kw_only=True, slots=True)
class Outer:
    inner: Inner = field(default_factory=Inner)
    tasks: dict = field(default_factory=lambda: {"a": 1.0})


def test_overrides_apply_nested_and_typed():
    cfg = apply_overrides(Outer(), ["inner.lr=2", "inner.name=bf16", "inner.flag=True", "inner.sizes=[3, 4]",
                                   "tasks.a=0.5"])
    assert cfg.inner.lr == 2.0 and isinstance(cfg.inner.lr, float)
    assert cfg.inner.name == "bf16" and cfg.inner.flag is True and cfg.inner.sizes == (3, 4)
    assert cfg.tasks == {"a": 0.5}
    assert Outer().inner.lr == 1e-3  # the original is untouched
    assert apply_overrides(Outer(), ["inner.flag=true"]).inner.flag is True  # as typed in a shell
    assert apply_overrides(Outer(inner=Inner(flag=True)), ["inner.flag=FALSE"]).inner.flag is False


@pytest.mark.parametrize("bad, msg", [("inner.nope=1", "no field 'nope'"), ("inner.steps=1.5", "expected int"),
                                      ("inner.flag=1", "expected bool"), ("inner.flag=yes", "expected bool"),
                                      ("inner", "key.path=value")])
def test_bad_overrides_name_the_problem(bad, msg):
    with pytest.raises(ConfigError, match=msg):
        apply_overrides(Outer(), [bad])


def test_load_recipe_from_file(tmp_path):
    (tmp_path / "r.py").write_text("def tiny():\n    return {'a': 1}\n")
    assert load_recipe(f"{tmp_path / 'r.py'}:tiny") == {"a": 1}
    with pytest.raises(ConfigError, match="does not exist"):
        load_recipe(f"{tmp_path / 'missing.py'}:tiny")
    assert to_dict(Outer())["inner"]["sizes"] == [1, 2]
