"""The LLM suites measured live on the embedded model (CI runs these): a prompt or model change shows up
as a measured change against the committed baseline, not as a cassette mismatch."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.e2e


def test_nda_facts_holdout_measured_live_against_its_baseline(settings) -> None:
    from api.cli import app

    result = CliRunner().invoke(app, ["eval", "--agent", "nda_facts", "--split", "holdout", "--concurrency", "1"])
    assert result.exit_code == 0, result.output
    assert "trivial baseline" in result.output
