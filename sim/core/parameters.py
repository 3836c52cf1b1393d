"""Every model parameter, declared once: default, type, allowed range, unit and meaning.

Scenario files, `blowback scenario --explain`, the dashboard's sliders and the sweeps all read
this table; nothing else in the package invents a parameter.  Names are dotted
``section.key`` and map one-to-one onto TOML tables (``[oversight] punishment = 0.5``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """One parameter: a default, a type, an allowed range and what it means."""

    name: str
    default: Any
    low: float | None
    high: float | None
    unit: str
    meaning: str
    mechanism: str = ""

    @property
    def kind(self) -> type:
        """The Python type a value must have (int, float, bool or str)."""
        return type(self.default)

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages and --explain."""
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return "a date YYYY-MM-DD" if self.unit == "date" else "a string"
        kind = "an integer" if self.kind is int else "a number"
        return f"{kind} in [{_fmt(self.low)}, {_fmt(self.high)}]"


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    if isinstance(x, int):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}"


def _p(name, default, low, high, unit, meaning, mechanism=""):
    return Param(name, default, low, high, unit, meaning, mechanism)


PARAMETERS: tuple[Param, ...] = (
    # --- run -------------------------------------------------------------------------------
    _p("run.start_date", "2013-01-07", None, None, "date", "calendar date of step 0 (a Monday)"),
    _p("run.steps", 520, 1, 5200, "weeks", "length of the run; 520 weeks is ten years"),
    _p("run.seed", 1, 0, 2**62, "-", "root seed: every random draw is keyed by it"),
    # --- map -------------------------------------------------------------------------------
    _p("map.communities", 4000, 1, 2_000_000, "communities", "villages and population clusters"),
    _p("map.width", 64, 8, 1024, "cells",
       "map width, host and neighbours (a cell is about 45 km at 64 cells)"),
    _p("map.height", 48, 8, 1024, "cells", "map height"),
    _p("map.population", 21_000_000.0, 1.0, 2e9, "people", "host population at the start"),
    _p("map.mines", 12, 0, 500, "sites", "gold-mining sites (most in the south-west and south)"),
    _p("map.centre_mixing", 0.5, 0.0, 1.0, "share",
       "ethnic mixing of the centre: share of central communities of the minority groups"),
    _p("map.ties", 0.05, 0.0, 1.0, "share",
       "weight of the whole social group (not only neighbours) in the spread of news", "M4"),
    # --- state forces ----------------------------------------------------------------------
    _p("state.units", 40, 0, 10_000, "units", "national army and gendarmerie units"),
    _p("state.strength", 450.0, 0.0, 10_000.0, "personnel", "personnel per state unit"),
    _p("state.firepower", 1.0, 0.0, 10.0, "relative", "force applied per person", "M2"),
    _p("state.discrimination", 0.6, 0.0, 1.0, "share",
       "share of force that reaches combatants rather than civilians", "M2"),
    _p("state.discipline", 0.6, 0.0, 1.0, "0-1", "restraint; low discipline risks mass atrocities",
       "M2"),
    _p("state.reach", 2, 0, 256, "cells/week", "ground mobility", "M1"),
    _p("state.cost", 0.0012, 0.0, 1.0, "MUSD/person-week", "pay and upkeep of state forces"),
    # --- contractor ------------------------------------------------------------------------
    _p("contractor.present", False, None, None, "-", "a contractor is deployed at the start"),
    _p("contractor.units", 8, 0, 10_000, "units", "contractor teams when deployed"),
    _p("contractor.strength", 150.0, 0.0, 10_000.0, "personnel", "personnel per contractor team"),
    _p("contractor.firepower", 4.0, 0.0, 10.0, "relative",
       "force per person (air assets, heavy weapons)", "M2"),
    _p("contractor.discrimination", 0.3, 0.0, 1.0, "share",
       "share of force that reaches combatants", "M2"),
    _p("contractor.discipline", 0.25, 0.0, 1.0, "0-1", "restraint of contractor teams", "M2"),
    _p("contractor.reach", 12, 0, 256, "cells/week",
       "air mobility: reach into areas the state lost", "M1"),
    _p("contractor.revenue_weight", 0.5, 0.0, 1.0, "0-1",
       "pull of mining sites on contractor deployment (revenue motive)", "M7"),
    _p("contractor.in_chain_of_command", False, None, None, "-",
       "contractor answers to the host's military command and its justice", "M6"),
    _p("contractor.oversight_reach", 0.25, 0.0, 1.0, "factor",
       "how much oversight reaches a contractor outside the chain of command", "M6"),
    _p("contractor.cost", 2.3, 0.0, 1000.0, "MUSD/week",
       "price of the contract (~10 MUSD a month in Mali)", "M7"),
    _p("contractor.concessions", 0.6, 0.0, 1.0, "share",
       "share of the price paid in mining concessions rather than cash", "M7"),
    _p("contractor.transparent", False, None, None, "-",
       "contract terms published and audited (no illicit financing)", "M10"),
    # --- engagements -----------------------------------------------------------------------
    _p("engagement.kill_rate", 0.005, 0.0, 1.0, "per force-week",
       "combatants killed per unit of force applied to located bands", "M2"),
    _p("engagement.harm_rate", 0.003, 0.0, 1.0, "per force-week",
       "civilians killed per unit of indiscriminate force in a populated cell", "M2"),
    _p("engagement.atrocity_rate", 0.08, 0.0, 1.0, "per unit-week",
       "chance scale of a mass-atrocity operation by a unit without discipline", "M2"),
    _p("engagement.atrocity_min", 10.0, 1.0, 1e4, "deaths",
       "smallest toll counted as a mass-atrocity event (Pareto x_min)", "M2"),
    _p("engagement.atrocity_max", 1500.0, 1.0, 1e5, "deaths",
       "largest toll of one mass-atrocity event (and at most half the community)", "M2"),
    _p("engagement.atrocity_alpha", 1.2, 0.5, 5.0, "-",
       "tail exponent of mass-atrocity tolls: lower is fatter", "M2"),
    # --- insurgents ------------------------------------------------------------------------
    _p("insurgents.bands", 40, 0, 10_000, "bands", "armed-group cells at the start"),
    _p("insurgents.strength", 120.0, 0.0, 10_000.0, "fighters", "fighters per band at the start"),
    _p("insurgents.rival_share", 0.35, 0.0, 1.0, "share",
       "share of bands that belong to the second, rival armed group"),
    _p("insurgents.recruitment", 0.0004, 0.0, 0.1, "1/week",
       "recruits per week per aggrieved, supportive resident in a band's area", "M5"),
    _p("insurgents.concealment", 0.4, 0.0, 1.0, "0-1",
       "base ability of bands to hide among communities", "M5"),
    _p("insurgents.coercion", 0.002, 0.0, 1.0, "deaths/fighter-week",
       "violence of bands against communities that cooperate with the state", "M4"),
    _p("insurgents.lethality", 0.004, 0.0, 1.0, "deaths/fighter-week",
       "combat power of a fighter against forces and rivals"),
    _p("insurgents.reach", 2, 0, 256, "cells/week", "mobility of bands"),
    _p("insurgents.cross_border", 0.3, 0.0, 1.0, "0-1",
       "reach of bands across borders: sanctuary and inflow from neighbours", "M11"),
    _p("insurgents.deterrence", 0.0, 0.0, 1.0, "0-1",
       "how much fear of force suppresses recruitment and attacks for a while (Lyall)", "M5"),
    _p("insurgents.attrition", 0.005, 0.0, 0.5, "1/week", "desertion and losses outside combat"),
    # --- communities -----------------------------------------------------------------------
    _p("community.cooperation", 0.5, 0.0, 1.0, "0-1", "initial cooperation with the state", "M3"),
    _p("community.grievance", 0.25, 0.0, 1.0, "0-1", "initial grievance", "M8"),
    _p("community.hardship", 0.45, 0.0, 1.0, "0-1", "economic hardship H of Epstein's G=H(1-L)",
       "M8"),
    _p("community.adaptation", 0.04, 0.0, 1.0, "1/week",
       "speed at which attitudes move towards their target", "M4"),
    _p("community.harm_sensitivity", 400.0, 0.0, 1e5, "per death-share",
       "weight of a community's own civilian deaths (per resident) on its memory of abuses",
       "M4"),
    _p("community.news", 0.5, 0.0, 1.0, "0-1",
       "how strongly news of abuses travels to communities of the same social group", "M4"),
    _p("community.memory_decay", 0.02, 0.0, 1.0, "1/week", "fading of the memory of abuses",
       "M4"),
    _p("community.displacement", 80.0, 0.0, 1e5, "per death-share",
       "share of residents who flee per unit of local violence (deaths per resident)", "M12"),
    _p("community.insecurity_flight", 0.0005, 0.0, 1.0, "1/week",
       "share fleeing per week where armed groups dominate", "M12"),
    _p("community.return", 0.004, 0.0, 1.0, "1/week", "share of displaced who return each week",
       "M12"),
    # --- partners --------------------------------------------------------------------------
    _p("partner.present", False, None, None, "-", "foreign military partner deployed at start"),
    _p("partner.units", 8, 0, 10_000, "units", "partner units"),
    _p("partner.strength", 500.0, 0.0, 10_000.0, "personnel", "personnel per partner unit"),
    _p("partner.firepower", 1.5, 0.0, 10.0, "relative", "force per person", "M2"),
    _p("partner.discrimination", 0.85, 0.0, 1.0, "share", "share of force that reaches combatants",
       "M2"),
    _p("partner.discipline", 0.9, 0.0, 1.0, "0-1", "restraint of partner units", "M2"),
    _p("partner.reach", 8, 0, 256, "cells/week", "mobility (helicopters)", "M1"),
    _p("partner.intelligence", 0.3, 0.0, 1.0, "0-1", "intelligence support to all forces", "M3"),
    _p("partner.monitoring", 0.5, 0.0, 1.0, "probability",
       "chance the partner documents an abuse", "M6"),
    _p("partner.training", 0.002, 0.0, 0.1, "1/week",
       "gain in state discrimination per week of partner training", "M13"),
    _p("partner.relationship", 0.8, 0.0, 1.0, "0-1", "initial relationship with the host", "M9"),
    _p("partner.exit_threshold", 0.3, 0.0, 1.0, "0-1", "relationship below which it withdraws",
       "M9"),
    _p("un.present", False, None, None, "-", "UN mission deployed at start"),
    _p("un.monitoring", 0.4, 0.0, 1.0, "probability", "chance the UN documents an abuse", "M6"),
    _p("un.mediation", 0.3, 0.0, 1.0, "0-1", "mediation between groups: lowers grievance", "M13"),
    _p("un.protection", 0.3, 0.0, 1.0, "0-1", "protection of towns against insurgent violence"),
    _p("un.relationship", 0.7, 0.0, 1.0, "0-1", "initial relationship with the host", "M9"),
    _p("un.exit_threshold", 0.2, 0.0, 1.0, "0-1", "relationship below which it is asked to leave",
       "M9"),
    _p("relations.abuse_penalty", 0.001, 0.0, 1.0, "per abuse",
       "relationship lost per documented abuse by host-side forces", "M9"),
    _p("relations.contractor_penalty", 0.006, 0.0, 1.0, "1/week",
       "relationship lost per week while a contractor is deployed", "M9"),
    _p("relations.recovery", 0.01, 0.0, 1.0, "1/week", "relationship regained towards its start",
       "M9"),
    # --- oversight -------------------------------------------------------------------------
    _p("oversight.press", 0.1, 0.0, 1.0, "probability",
       "chance the press or local NGOs document an abuse", "M6"),
    _p("oversight.independent", 0.0, 0.0, 1.0, "probability",
       "chance an independent national commission documents an abuse", "M6"),
    _p("oversight.investigation", 0.4, 0.0, 1.0, "probability",
       "chance a documented abuse is investigated", "M6"),
    _p("oversight.punishment", 0.4, 0.0, 1.0, "probability",
       "chance an investigated abuse is punished", "M6"),
    _p("oversight.deterrence", 0.05, 0.0, 1.0, "per punishment",
       "discipline gained by a unit's force per punishment", "M6"),
    _p("oversight.impunity_cost", 0.0005, 0.0, 1.0, "per abuse",
       "legitimacy lost per documented but unpunished abuse", "M8"),
    _p("oversight.justice_gain", 0.001, 0.0, 1.0, "per abuse",
       "legitimacy regained per punished abuse", "M8"),
    # --- government ------------------------------------------------------------------------
    _p("government.legitimacy", 0.5, 0.0, 1.0, "0-1", "initial legitimacy L", "M8"),
    _p("government.budget", 300.0, -1e6, 1e6, "MUSD", "security budget at the start"),
    _p("government.revenue", 12.0, 0.0, 1e4, "MUSD/week", "revenue allotted to security"),
    _p("government.mining_revenue", 1.0, 0.0, 1e3, "MUSD/week per mine",
       "state revenue from each mining site not under concession", "M7"),
    _p("government.legitimacy_speed", 0.01, 0.0, 1.0, "1/week",
       "speed at which legitimacy moves towards its target", "M8"),
    _p("government.protection_weight", 0.3, 0.0, 1.0, "0-1",
       "weight of unprotected harm (insurgent violence) on legitimacy", "M8"),
    # --- sanctions -------------------------------------------------------------------------
    _p("sanctions.level", 0.0, 0.0, 1.0, "0-1", "targeted sanctions in force at the start", "M10"),
    _p("sanctions.propensity", 0.0, 0.0, 1.0, "per abuse",
       "chance a documented abuse by a contractor raises sanctions a step", "M10"),
    _p("sanctions.pressure", 0.5, 0.0, 1.0, "share",
       "share of contractor revenue cut at full sanctions", "M10"),
    _p("sanctions.blowback", 0.15, 0.0, 1.0, "share",
       "share of host revenue cut at full sanctions", "M10"),
    # --- region ----------------------------------------------------------------------------
    _p("region.diffusion", 0.01, 0.0, 1.0, "1/week",
       "base chance per week that an unstable neighbour copies the contractor model", "M11"),
    _p("region.spillover", 0.005, 0.0, 1.0, "1/week",
       "instability passed to neighbours by violence near their border", "M11"),
    _p("region.inflow", 1.0, 0.0, 100.0, "fighters/week per instability",
       "fighters and arms crossing into border bands from unstable neighbours", "M11"),
    # --- engagement and regional levers ------------------------------------------------------
    _p("levers.justice", 0.0, 0.0, 1.0, "0-1", "justice mechanisms: raise punishment", "M13"),
    _p("levers.training", 0.0, 0.0, 1.0, "0-1",
       "human-rights training: raises discrimination of state units", "M13"),
    _p("levers.reconciliation", 0.0, 0.0, 1.0, "0-1",
       "reconciliation: lowers grievance between groups", "M13"),
    _p("levers.services", 0.0, 0.0, 1.0, "0-1",
       "basic services: raise legitimacy and cooperation", "M13"),
    _p("levers.arms_tracking", 0.0, 0.0, 1.0, "0-1", "cuts cross-border flows of arms and fighters",
       "M14"),
    _p("levers.financial_enforcement", 0.0, 0.0, 1.0, "0-1",
       "cuts contractor rents and illicit financing", "M14"),
    _p("levers.humanitarian_access", 0.0, 0.0, 1.0, "0-1",
       "lowers the harm of displacement", "M14"),
    _p("levers.cost", 3.0, 0.0, 1e3, "MUSD/week",
       "cost of one lever at full level (shared by the donors and the host)", "M13"),
)

BY_NAME: dict[str, Param] = {p.name: p for p in PARAMETERS}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(p.name.split(".")[0] for p in PARAMETERS))


def defaults() -> dict[str, Any]:
    """A fresh flat mapping ``{"section.key": default}`` of every parameter."""
    return {p.name: p.default for p in PARAMETERS}
