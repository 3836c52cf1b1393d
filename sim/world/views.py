"""How a Mesa agent of the model is a view of one row of its arrays.

:class:`ModelAgent` is the base of every agent of :mod:`sim.world.agents`: it refuses attributes
no kernel reads, and has no step of its own.  :func:`array_field` reads and writes a row's value,
checked as the kernels expect it; :func:`chosen` reads a value the unit chooses each week;
:func:`fixed` reads what the agent was made for.
"""

from __future__ import annotations

import difflib
import itertools
import math
import numbers
import weakref
from collections.abc import Iterator

import mesa


class _Numbering(weakref.WeakKeyDictionary):
    """Each model's counter of agent ids, held no longer than the model: Mesa 3.3 numbers a
    model's agents from a class-level table that keeps every model that ever made an agent
    alive, with all its arrays, until the process ends."""

    def __getitem__(self, model: mesa.Model) -> Iterator[int]:
        if model not in self:
            # A copied or unpickled model brings its agents, numbered: new ones follow them.
            self[model] = itertools.count(
                1 + max((agent.unique_id for agent in model.agents), default=0))
        return super().__getitem__(model)


def _no_step(self):
    raise AttributeError(f"{type(self).__name__} has no step or advance: the agents are views "
                         "of the model's arrays, and the model runs the week; allowed: "
                         "model.step() or model.run()")


def fixed(name: str, doc: str):
    """A read-only property of what the agent was made for (its row, its name)."""
    return property(lambda self: getattr(self, f"_{name}"), doc=doc)


class ModelAgent(mesa.Agent):
    """A Mesa agent of this model, numbered as Mesa numbers them, without keeping its model
    alive once the user lets it go.

    Only the attributes that write the model's arrays can be set: a misspelt name or a
    read-only one is refused in one line rather than kept on the agent, where no kernel reads
    it.  The agents have no ``step`` or ``advance``: the model runs the week.
    """

    _ids = _Numbering()
    # Mesa's own: set by its constructor, ``unique_id`` again by Mesa 3.4+'s registry, ``pos``
    # by its spaces.
    _MESA = ("model", "unique_id", "pos")

    step = property(_no_step, doc="None: the model runs the week (model.step()).")
    advance = property(_no_step, doc="None: the model runs the week (model.step()).")

    def __setattr__(self, name: str, value: object) -> None:
        kind = type(self)
        held = getattr(kind, name, None)
        if (name.startswith("_") or name in self._MESA
                or (isinstance(held, property) and held.fset is not None)):
            super().__setattr__(name, value)
            return
        settable = sorted(k for k in dir(kind) if isinstance(getattr(kind, k), property)
                          and getattr(kind, k).fset is not None
                          and not k.startswith("_") and k not in ("step", "advance"))
        allowed = (f"allowed: {', '.join(settable)}" if settable else
                   "allowed: none, this agent only reads the model (set model.p[...] for "
                   "the parameters read every week)")
        if isinstance(held, property) or name in self.__dict__:
            raise AttributeError(f"{kind.__name__}.{name} is read-only; {allowed}")
        close = difflib.get_close_matches(name, [k for k in dir(kind) if not k.startswith("_")],
                                          n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise AttributeError(f"{kind.__name__} has no attribute {name!r}{hint}, and an agent "
                             f"keeps none of its own; {allowed}")

    # What the agent's repr shows after its class and its row or name: its properties' names.
    _shown: tuple[str, ...] = ()

    def __repr__(self) -> str:
        head = " ".join([type(self).__name__, *(str(self.__dict__[key]) for key in
                                                 ("_row", "_name") if key in self.__dict__)])
        if "_gone" in self.__dict__:
            return f"<{head}: dissolved in week {self.__dict__['_gone']}>"
        return "<" + " ".join([head, *(f"{name}={_shown(getattr(self, name))}"
                                       for name in self._shown)]) + ">"

    def live_row(self) -> int:
        """The agent's row; refused once its band has dissolved and the row holds another."""
        gone = self.__dict__.get("_gone")
        if gone is not None:
            raise AttributeError(f"{type(self).__name__} {self._row}: this band dissolved, and "
                                 f"from week {gone} its row holds another band, with an agent of "
                                 "its own; allowed: read active (False), or the agents of "
                                 "model.agents_by_type[InsurgentBand]")
        return self._row

    def remove(self) -> None:
        """Refused: the agent is a view of a row, which stays in the model's arrays."""
        raise AttributeError(f"{type(self).__name__}: an agent is a view of the model's arrays "
                             "and cannot be removed; allowed: set a band's or a unit's strength "
                             "to 0 (it dissolves or stops operating in the next week)")


def array_field(store: str, name: str, doc: str, high: float = math.inf):
    """A property that reads and writes the row's value of ``model.<store>.<name>``; a value
    written must be a number in [0, ``high``], as the kernels expect it."""
    def get(self):
        return float(getattr(getattr(self.model, store), name)[self.live_row()])

    def set_(self, value):
        row = self.live_row()
        if (not isinstance(value, numbers.Real) or isinstance(value, bool)
                or not math.isfinite(value) or not 0.0 <= value <= high):
            allowed = "a number of at least 0" if high == math.inf else f"a number in [0, {high:g}]"
            raise ValueError(f"{name}: {value!r} cannot be set; allowed: {allowed}")
        table = getattr(self.model, store)
        if store != "communities" and not table.active[row]:
            raise ValueError(f"{name}: {type(self).__name__} {row} is not active (withdrawn, "
                             "destroyed or dissolved), so no kernel reads a value set here; "
                             "allowed: the agents whose active is True")
        getattr(table, name)[row] = value
        self.model.note_by_hand(f"{type(self).__name__} {row}: {name} = {value!r}")

    return property(get, set_, doc=doc)


def chosen(name: str, doc: str):
    """A property that reads the row's ``model.forces.<name>``, which the unit chooses each
    week (:mod:`sim.mechanisms.conduct`): a value written would be chosen over before use."""
    def set_(self, value):
        raise AttributeError(f"{name}: chosen by the unit each week from its incentives, so a "
                             "value set here would not last; allowed: set skill, strength or "
                             "firepower, or the scenario's parameters")

    return property(array_field("forces", name, doc).fget, set_, doc=doc)


def _shown(value: object) -> str:
    """A value as a repr shows it: counts whole, shares to two decimals, names quoted."""
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    return repr(value)


class Tally(dict):
    """A read-only dict of counts read off the arrays: a write would change only the copy."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("a tally read off the model's arrays is read-only (a write would change "
                        "only this copy); allowed: read it, or copy it with dict(...)")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple:
        # A copy or a pickle is a plain dict: built key by key, it would be refused.
        return (dict, (dict(self),))
