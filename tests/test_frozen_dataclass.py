"""@frozen_dataclass behaves as @dataclass(frozen=True): equality, hash, repr, frozenness, dataclass API.

It exists for start-up (pkgtool/frozen.py says why); these tests hold it to the generated methods,
on a class with every field() option that changes them and on the model's own classes.
"""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field

import pytest

from pkgtool import model
from pkgtool.diagnostics import Diagnostic, Severity
from pkgtool.frozen import frozen_dataclass


def _shape(deco):
    @deco
    class Shape:
        """A value with every field() option that changes eq, hash or repr."""

        name: str
        size: int = 0
        note: str = field(default="", compare=False)
        secret: str = field(default="", repr=False)
        tag: str = field(default="", hash=False)
        items: tuple[int, ...] = ()

    return Shape


Reference = _shape(dataclass(frozen=True))
Fast = _shape(frozen_dataclass)

VALUES = [
    dict(name="a"),
    dict(name="a", size=2, note="n", secret="s", tag="t", items=(1, 2)),
    dict(name="a", size=2, note="other", secret="s", tag="t", items=(1, 2)),
    dict(name="a", size=2, note="n", secret="s", tag="u", items=(1, 2)),
    dict(name="b", size=2, secret="x"),
]


@pytest.mark.parametrize("left", VALUES)
@pytest.mark.parametrize("right", VALUES)
def test_equality_and_hash_are_the_generated_ones(left, right):
    ref_l, ref_r, fast_l, fast_r = Reference(**left), Reference(**right), Fast(**left), Fast(**right)
    assert (fast_l == fast_r) == (ref_l == ref_r)
    assert (fast_l != fast_r) == (ref_l != ref_r)
    assert hash(fast_l) == hash(ref_l)  # the same tuple hashed: same set and dict order as before


def test_repr_is_the_generated_one():
    for kw in VALUES:
        assert repr(Fast(**kw)) == repr(Reference(**kw))
    assert "secret" not in repr(Fast(name="a", secret="s"))


def test_only_the_same_class_is_equal():
    assert Fast(name="a") != Reference(name="a")
    assert Fast(name="a").__eq__(("a",)) is NotImplemented


def test_frozen_and_still_a_dataclass():
    value = Fast(name="a", size=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.size = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del value.size  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(Fast)] == [f.name for f in dataclasses.fields(Reference)]
    assert dataclasses.replace(value, size=3) == Fast(name="a", size=3)
    assert dataclasses.asdict(value) == dataclasses.asdict(Reference(name="a", size=1))
    assert Fast.__match_args__ == Reference.__match_args__


def test_one_compared_field_hashes_as_a_one_tuple():
    @frozen_dataclass
    class One:
        """One field."""

        x: int

    @dataclass(frozen=True)
    class OneRef:
        """One field."""

        x: int

    assert hash(One(5)) == hash(OneRef(5)) == hash((5,))
    assert One(5) == One(5) and One(5) != One(6)


def test_model_classes_are_made_by_it_and_keep_their_fields():
    made = [c for c in vars(model).values() if isinstance(c, type) and dataclasses.is_dataclass(c)]
    assert len(made) >= 20
    for cls in made:
        made_here = {getattr(cls, m).__module__ for m in ("__eq__", "__hash__", "__repr__")}
        assert made_here == {"pkgtool.frozen"}, cls.__name__
        assert cls.__dataclass_params__.frozen, cls.__name__


def test_model_values_survive_pickling_for_the_process_pool():
    loc = model.Location("pkgtool.toml", "tree[0].mode", 7)
    diag = Diagnostic("world-writable", Severity.ERROR, "m", loc)
    for value in (loc, diag):
        again = pickle.loads(pickle.dumps(value))
        assert again == value and hash(again) == hash(value) and repr(again) == repr(value)
    # compare=False fields (a location) do not take part, exactly as before.
    assert model.Relation("vdsm") == model.Relation("vdsm", loc=loc)
