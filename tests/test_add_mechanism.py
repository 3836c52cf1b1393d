"""A mechanism written outside the package joins the model by an edit of the week's list alone.

The test copies the package, writes a toy mechanism beside the copy (not inside it), adds it
to the copy's ``sim/core/week.py`` and nothing else, and runs a scenario that sets the toy's
parameter: the parameter is accepted and explained, its state is made, its step runs in the
week, its outcome is recorded weekly and summarised.  This is the recipe of CONTRIBUTING.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

from conftest import ROOT

TOY = '''
"""A toy mechanism: rumours of the week's civilian deaths, which fade."""

from sim.core.registry import TOTAL, Mechanism, Outcome, Param, Step

PARAMETERS = (
    Param("rumours.spread", 0.5, 0.0, 1.0, "share", "share of each death that becomes a rumour",
          kind="behaviour"),
)


def setup(model):
    model.rumours = 0.0


def spread(model, week):
    deaths = float(model.communities.dead_step.sum())
    model.rumours = 0.9 * model.rumours + model.p["rumours.spread"] * deaths


def record(model, week):
    week.row["rumours"] = model.rumours


OUTCOMES = (Outcome("rumours", "rumours", "rumours", summary="rumours_total", reduce=TOTAL),)
MECHANISM = Mechanism("M90", "rumours", PARAMETERS, OUTCOMES, setup=setup, record=record)
RUMOURS = Step(MECHANISM, "rumours spread", spread)
'''

RUN = '''
import json
from sim.core.parameters import BY_NAME
from sim.core.scenario import default_scenario, explain
from sim.core.week import describe
import sim

spec = default_scenario().with_overrides(**{"rumours.spread": 1.0, "map.communities": 200,
                                            "run.steps": 4, "state.units": 6,
                                            "insurgents.bands": 8})
s = sim.Sim(spec, agents=False).run()
print(json.dumps({"param": BY_NAME["rumours.spread"].mechanism,
                  "explained": "rumours.spread" in explain(),
                  "week": describe().splitlines()[-1],
                  "series": list(s.results["rumours"]),
                  "deaths": list(s.results["civilian_deaths"]),
                  "summary": s.summary()["rumours_total"]}))
'''


def test_a_mechanism_from_outside_the_package_runs_after_editing_only_the_week(tmp_path):
    shutil.copytree(ROOT / "sim", tmp_path / "sim",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    (tmp_path / "contrib").mkdir()
    (tmp_path / "contrib" / "toy_rumours.py").write_text(textwrap.dedent(TOY))
    week = tmp_path / "sim" / "core" / "week.py"
    text = week.read_text()
    edited = text.replace("from sim.world import deployment, events, geography\n",
                          "from sim.world import deployment, events, geography\n"
                          "from toy_rumours import MECHANISM as RUMOURS, RUMOURS as SPREAD\n")
    edited = edited.replace("    territorial_control.MECHANISM,\n)",
                            "    territorial_control.MECHANISM,\n    RUMOURS,\n)")
    edited = edited.replace("    m11_regional_diffusion.REGION,\n)",
                            "    m11_regional_diffusion.REGION,\n    SPREAD,\n)")
    assert "    RUMOURS,\n)" in edited and "    SPREAD,\n)" in edited
    week.write_text(edited)
    env = os.environ | {"PYTHONPATH": f"{tmp_path}{os.pathsep}{tmp_path / 'contrib'}",
                        "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run([sys.executable, "-c", RUN], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["param"] == "M90" and out["explained"]
    assert out["week"].endswith("M90 rumours: rumours spread")
    rumours = total = 0.0
    for value, deaths in zip(out["series"], out["deaths"], strict=True):
        rumours = 0.9 * rumours + deaths
        total += rumours
        assert value == rumours
    assert out["summary"] == total and total > 0
