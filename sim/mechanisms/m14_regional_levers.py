"""M14 Regional coordination levers: arms tracking and financial enforcement cut cross-border
flows and contractor rents; humanitarian access lowers the harm of displacement.

The levers have no step of their own: arms tracking acts in recruitment (M5) and regional
spill-over (M11), financial enforcement in rent (M7) and sanctions (M10), humanitarian access in
displacement (M12) and grievance (M8).  Their cost is paid in M7.
"""

from __future__ import annotations

from sim.core.registry import Mechanism, Param

PARAMETERS = (
    Param("levers.arms_tracking", 0.0, 0.0, 1.0, "0-1",
          "cuts cross-border flows of arms and fighters", kind="institution"),
    Param("levers.financial_enforcement", 0.0, 0.0, 1.0, "0-1",
          "cuts contractor rents and illicit financing", kind="institution"),
    Param("levers.humanitarian_access", 0.0, 0.0, 1.0, "0-1", "lowers the harm of displacement",
          kind="institution"),
)

MECHANISM = Mechanism("M14", "regional coordination levers", PARAMETERS)
