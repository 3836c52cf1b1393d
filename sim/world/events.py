"""The dated event schedule of a scenario, applied at the step each event falls in."""

from __future__ import annotations

import numpy as np

from sim.core import rng
from sim.core.registry import Mechanism, Param, Step
from sim.core.state import CONTRACTOR, PARTNER, STATE, Abuse
from sim.mechanisms.m02_attrition import forced_atrocity
from sim.world import deployment, geography

ATROCITY_SIZE = rng.purpose("events.atrocity_size")
# The source of the events injected while a run goes (the dashboard's buttons), and the first
# entity of their draws, beyond any scenario's count of events.
INJECTED = "page"
INJECTED_ENTITY = 1_000_000
# A parameter of a kind of force and the column of its units it sets (discrimination is skill).
_UNIT_FIELDS = {"firepower": "firepower", "discrimination": "skill", "reach": "reach"}
_KIND_OF = {"state": STATE, "contractor": CONTRACTOR, "partner": PARTNER}
# The parameters a `set` event applies itself, besides changing them in the model's parameters:
# the unit fields it writes on the units deployed, and the sanctions it raises.
APPLIED_BY_SET = frozenset({f"{s}.{k}" for s in _KIND_OF for k in _UNIT_FIELDS}
                           | {"sanctions.level"})

# Where the events act: the model's assumptions (docs/ODD.md, section 3.3).
HOTSPOT_RADIUS = 2  # cells around the named town where an operation looks for its target
SCHEDULED_TOLL_SCALE = 10.0  # a scheduled atrocity's smallest toll, in engagement.atrocity_min

# How much the political events move the actors: sized to be felt without dominating a run,
# and as uncertain as any behaviour parameter, so declared to be swept and fitted like one.
PARAMETERS = (
    Param("politics.peace_grievance_kept", 0.7, 0.0, 1.0, "share",
          "share of the northern communities' grievance a peace agreement leaves",
          kind="behaviour"),
    Param("politics.peace_memory_kept", 0.5, 0.0, 1.0, "share",
          "share of the northern communities' memory of abuses a peace agreement leaves",
          kind="behaviour"),
    Param("politics.peace_legitimacy", 0.03, 0.0, 1.0, "legitimacy",
          "legitimacy the state gains by a peace agreement", kind="behaviour"),
    Param("politics.coup_legitimacy", 0.05, 0.0, 1.0, "legitimacy",
          "legitimacy a coup in the host costs the state", kind="behaviour"),
    Param("politics.coup_relationship", 0.15, 0.0, 1.0, "relationship",
          "relationship with each partner (and the UN) a coup in the host costs",
          kind="behaviour"),
    Param("politics.neighbour_coup_instability", 0.3, 0.0, 1.0, "instability",
          "instability a coup in a neighbour adds to it", kind="behaviour"),
)


def _town_cell(model, name: str) -> int:
    index = [t[0] for t in geography.TOWNS].index(name)
    return int(model.world.town_cells[index])


def _hotspot_near(model, cell: int) -> int:
    """The cell near ``cell`` (``HOTSPOT_RADIUS``) where most people support the armed
    groups."""
    w = model.world
    x0, y0 = cell % w.width, cell // w.width
    best, score = cell, -1.0
    r = HOTSPOT_RADIUS
    for y in range(max(0, y0 - r), min(w.height, y0 + r + 1)):
        for x in range(max(0, x0 - r), min(w.width, x0 + r + 1)):
            c = y * w.width + x
            s = model.cells.population[c] * model.cells.support[c]
            if w.cell_country[c] == 0 and s > score:
                best, score = c, s
    return best


def apply_due(model) -> list[Abuse]:
    """Apply the events of the current step; return the abuses they caused, for oversight."""
    abuses = []
    injected: dict[str, int] = {}
    for index, event in enumerate(model.scenario_spec.events):
        if event.step == model.t:
            entity = index
            if event.source == INJECTED:
                # Keyed by its order among the week's injections of its kind, not by its place
                # in the list, which earlier presses move: two runs given the same press in
                # the same week draw alike.
                entity = INJECTED_ENTITY + injected.get(event.type, 0)
                injected[event.type] = injected.get(event.type, 0) + 1
            there = deployed(model, event.type, event.fields)
            in_force = model.sanctions
            abuse = apply(model, event.type, event.fields, entity)
            model.event_log.append((event.date, describe(event.type, event.fields, abuse,
                                                         there, in_force)))
            if abuse is not None:
                abuses.append(abuse)
    return abuses


def apply(model, kind: str, fields: dict, entity: int) -> Abuse | None:
    """Apply one event now (the dashboard's buttons use this too); ``entity`` keys its draws
    (the event's index in the scenario).  An arrival of an actor already deployed changes
    nothing."""
    p = model.p
    if kind.endswith("_arrives") and deployed(model, kind, fields):
        return None
    if kind == "contractor_arrives":
        deployment.deploy_contractor(model, int(fields.get("units", p["contractor.units"])),
                                     float(fields.get("strength", p["contractor.strength"])))
    elif kind == "contractor_leaves":
        deployment.withdraw(model, "contractor")
    elif kind == "partner_arrives":
        name = fields["partner"]
        model.relationship[name] = p[f"{name}.relationship"]
        if name == "partner":
            deployment.deploy_partner(model)
        else:
            model.un_present = True
    elif kind == "partner_leaves":
        deployment.withdraw(model, fields["partner"])
    elif kind == "sanctions":
        model.sanctions = max(model.sanctions, float(fields["level"]))
    elif kind == "mass_atrocity":
        return _mass_atrocity(model, fields, entity)
    elif kind == "coup":
        _coup(model, fields["country"])
    elif kind == "peace_agreement":
        c = model.communities
        north = c.group == 0
        c.grievance[north] *= p["politics.peace_grievance_kept"]
        c.memory[north] *= p["politics.peace_memory_kept"]
        model.legitimacy = min(1.0, model.legitimacy + p["politics.peace_legitimacy"])
    elif kind == "offensive":
        _offensive(model, _town_cell(model, fields["near"]))
    elif kind == "set":
        _set(model, fields["params"])
    else:
        raise ValueError(f"unknown event type {kind!r}")
    return None


def _mass_atrocity(model, fields: dict, entity: int) -> Abuse | None:
    p = model.p
    kind = _KIND_OF[fields.get("perpetrator", "contractor")]
    f = model.forces
    if not (f.active & (f.kind == kind)).any():
        # No force of that kind is deployed: booking the toll to it would blame an absent
        # actor, so the operation does not happen (describe() says so in the log).
        return None
    cell = _hotspot_near(model, _town_cell(model, fields["near"]))
    size = fields.get("deaths")
    if size is None:
        size = min(p["engagement.atrocity_max"],
                   rng.pareto(model.seed, model.t, entity, ATROCITY_SIZE,
                              SCHEDULED_TOLL_SCALE * p["engagement.atrocity_min"],
                              p["engagement.atrocity_alpha"]))
    c = model.communities
    _, deaths = forced_atrocity(model.seed, model.t, entity, kind, model.world.cell_start, cell,
                                c.view(), float(size))
    return Abuse("event", entity, kind, float(deaths))


# The actors as the event log names them.
ACTOR_NAMES = {"state": "state forces", "contractor": "the contractor",
               "partner": "partner forces", "un": "the UN mission"}


def mover(kind: str, fields: dict) -> str | None:
    """The actor an arrival or a departure moves ("contractor", "partner" or "un"); None for
    any other kind of event."""
    if kind in ("contractor_arrives", "contractor_leaves"):
        return "contractor"
    if kind in ("partner_arrives", "partner_leaves"):
        return fields["partner"]
    return None


def deployed(model, kind: str, fields: dict) -> bool:
    """Whether the actor an arrival or a departure moves is deployed now (True for any other
    kind of event, which moves no one)."""
    actor = mover(kind, fields)
    return actor is None or bool(getattr(model, f"{actor}_present"))


def describe(kind: str, fields: dict, abuse: Abuse | None = None,
             there: bool | None = None, in_force: float | None = None) -> str:
    """One line of the event log for an applied event: what, where, by whom and the toll
    (``abuse``: what the event caused, as :func:`apply` returned it; ``there``: whether the
    actor an arrival or a departure names was deployed, as :func:`deployed` said before it was
    applied, None if not known; ``in_force``: the level of sanctions in force before it, which
    a lower level leaves as it is, None if not known)."""
    if kind == "mass_atrocity":
        who = ACTOR_NAMES[fields.get("perpetrator", "contractor")]
        if abuse is None:
            return f"mass atrocity near {fields['near']} not carried out: " \
                   f"no {who.removeprefix('the ')} deployed"
        return f"mass atrocity near {fields['near']} by {who}: " \
               f"{abuse.deaths:.0f} civilians killed"
    if kind.endswith("_leaves") and there is False:
        # Nothing left: a line saying it leaves would show an actor the run never had.
        return f"no {ACTOR_NAMES[mover(kind, fields)].removeprefix('the ')} deployed " \
               "to withdraw"
    if kind.endswith("_arrives") and there is True and mover(kind, fields) is not None:
        return f"{ACTOR_NAMES[mover(kind, fields)]} already deployed: no one arrives"
    if kind in ("partner_arrives", "partner_leaves"):
        plural, singular = ("arrive", "arrives") if kind == "partner_arrives" \
            else ("leave", "leaves")
        return f"partner forces {plural}" if fields["partner"] == "partner" \
            else f"UN mission {singular}"
    if kind == "sanctions":
        return _sanctions(float(fields["level"]), in_force)
    if kind == "coup":
        return "coup in the host country" if fields["country"] == "host" \
            else f"coup in {fields['country']}"
    if kind == "offensive":
        return f"offensive near {fields['near']}"
    if kind == "set":
        return "set " + ", ".join(f"{k} = {v}" for k, v in fields["params"].items())
    return kind.replace("_", " ")


def sanctions_in_force(model, due: list) -> list[float]:
    """The level of sanctions in force as each of ``due`` applies (events of the current week,
    in the order :func:`apply_due` applies them): sanctions only ever raise it."""
    level, out = model.sanctions, []
    for event in due:
        out.append(level)
        if event.type == "sanctions":
            level = max(level, float(event.fields["level"]))
    return out


def _sanctions(level: float, in_force: float | None) -> str:
    """What sanctions at ``level`` do to the level ``in_force``: they only ever raise it."""
    if in_force is None or level > in_force:
        return f"sanctions at level {level:g}"
    if level == in_force:
        return f"sanctions at level {level:g}: already in force"
    return f"sanctions at level {level:g} asked: the level in force stays at {in_force:.3g}"


def _coup(model, country: str) -> None:
    p = model.p
    if country == "host":
        model.legitimacy = max(0.0, model.legitimacy - p["politics.coup_legitimacy"])
        for name in model.relationship:
            model.relationship[name] = max(0.0, model.relationship[name]
                                           - p["politics.coup_relationship"])
        return
    k = geography.NEIGHBOURS.index(country)
    model.neighbour_instability[k] = min(1.0, model.neighbour_instability[k]
                                         + p["politics.neighbour_coup_instability"])


def _offensive(model, cell: int) -> None:
    f = model.forces
    w = model.world
    movers = np.flatnonzero(f.active & np.isin(f.kind, (STATE, CONTRACTOR)))
    x0, y0 = cell % w.width, cell // w.width
    for n, u in enumerate(movers):
        dx, dy = (n % 3) - 1, (n // 3) % 3 - 1
        target = min(w.height - 1, max(0, y0 + dy)) * w.width + min(w.width - 1, max(0, x0 + dx))
        f.cell[u] = target if w.cell_country[target] == 0 else cell


def _set(model, params: dict) -> None:
    """Change parameters mid-run; unit properties apply to the units already deployed."""
    for name, value in params.items():
        model.p.schedule(name, value)
        units = _unit_column(model, name)
        if units is not None:
            column, rows = units
            column[rows] = value
        if name == "sanctions.level":
            model.sanctions = max(model.sanctions, float(value))


def unit_values(model, name: str):
    """The units' column a ``set`` of parameter ``name`` writes, on the units of its kind (a
    copy), or None where it writes none."""
    units = _unit_column(model, name)
    return None if units is None else units[0][units[1]]


def _unit_column(model, name: str):
    """The forces' column a ``set`` of parameter ``name`` writes and the rows of the units of
    its kind, or None where it writes none (a unit's skill, firepower, reach)."""
    section, _, key = name.partition(".")
    if section not in _KIND_OF or key not in _UNIT_FIELDS:
        return None
    f = model.forces
    return getattr(f, _UNIT_FIELDS[key]), f.kind == _KIND_OF[section]


def _scheduled(model, week) -> None:
    week.scheduled = apply_due(model)


MECHANISM = Mechanism("events", "the scenario's dated events", PARAMETERS)
EVENTS = Step(MECHANISM, "dated events", _scheduled)
