"""docs/ARCHITECTURE.md against the registries it describes."""

from __future__ import annotations

from conftest import ROOT

from sim.core.outcomes import OUTCOMES


def test_every_report_an_outcome_is_shown_in_is_named():
    """The registries' paragraph names each report that reads the outcome registry by
    ``shown(...)``: an outcome declared for a report the document does not name is listed
    somewhere a reader of the document would not look."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    reports = {report for o in OUTCOMES for report in o.shown}
    missing = sorted(r for r in reports if f'shown("{r}")' not in text)
    assert not missing, f"reports not named in ARCHITECTURE.md: {missing}"
