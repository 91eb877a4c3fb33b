"""Score an agent against its golden set."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import app, console, err_console, fail, reported_errors
from core.settings import get_settings


@app.command("eval")
def eval_cmd(
    agent: Annotated[str, typer.Option(help="retrieval | contractnli | nda_facts | nda_review | account_brief | "
                                            "escalation_drafter | chat | chat_kam | claims")] = "retrieval",
    model: Annotated[str | None, typer.Option(help="LLM model name (LLM suites).")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint (LLM suites).")] = None,
    cassette: Annotated[str, typer.Option(help="LLM suites: off (live), replay (recorded, offline) or record.")
                        ] = "off",
    split: Annotated[str, typer.Option(help="Cases: all, dev (for tuning), holdout (unseen while tuning) or holdout-v1 "
                                     "(a first holdout that was used while tuning).")] = "all",
    llm: Annotated[str, typer.Option(help="nda_review, contractnli, account_brief: off (deterministic), uncertain or "
                                          "all (what the LLM reads or writes); escalation_drafter: off, sentence or "
                                          "mail. On the configured or embedded endpoint.")] = "off",
    concurrency: Annotated[int, typer.Option(min=1, max=16, help="Cases run at once.")] = 2,
    update_baseline: Annotated[bool, typer.Option(help="Write this run's metrics as the new baseline.")] = False,
) -> None:
    """Score an agent against its golden set; exits 1 when a metric regressed beyond the baseline tolerance."""
    from rich.progress import Progress

    from evals.registry import DEFAULT_LLM_MODES, DETERMINISTIC, LLM, LLM_MODES, PLANNED, baseline_name, build_suite
    from evals.runner import run_eval, write_baseline
    from evals.suites import SPLITS

    if model:
        os.environ["KAM_LLM_MODEL"] = model
    if base_url:
        os.environ["KAM_LLM_BASE_URL"] = base_url
    get_settings.cache_clear()
    if cassette not in ("off", "replay", "record"):
        fail("--cassette must be off, replay or record")
    if split not in ("all", *SPLITS):
        fail(f"--split must be all, {', '.join(SPLITS)}")
    modes = LLM_MODES.get(agent, DEFAULT_LLM_MODES)
    if llm not in modes:
        fail(f"--llm for {agent} must be {', '.join(modes)}")
    if update_baseline and (split != "all" or cassette == "replay"):
        fail("--update-baseline needs a live run over all cases (--split all, --cassette off or record)")
    if agent not in (*DETERMINISTIC, *LLM):
        known = ", ".join([*DETERMINISTIC, *LLM, *PLANNED])
        reason = f"{PLANNED[agent]} is not built yet, so it has no eval suite" if agent in PLANNED else "unknown agent"
        fail(f"{agent}: {reason} (agents: {known})")
    settings = get_settings()
    with reported_errors():
        try:
            suite = build_suite(agent, settings.data_dir / "evals" / "work" / agent, settings, cassette,  # type: ignore[arg-type]
                                llm_mode=llm)
        except (FileNotFoundError, ValueError) as exc:
            fail(str(exc))
        try:
            cases = [c for c in suite.cases() if split == "all" or c.split == split]
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task(f"eval {agent}", total=len(cases))
                run = run_eval(baseline_name(agent, llm), suite, settings.data_dir / "evals", concurrency=concurrency,
                               cases=cases,
                               on_case=lambda _r: progress.advance(task), split=split,
                               compare_baseline=cassette != "replay")
        finally:
            suite.close()
    table = Table(title=f"{agent} ({split}): {len(run.results)} cases in {run.wall_s:.1f}s")
    for column in ("metric", "value", "trivial baseline", "committed baseline"):
        table.add_column(column)
    base = run.baseline_metrics
    for name, value in sorted(run.metrics.items()):
        trivial = run.trivial.get(name)
        table.add_row(name, f"{value:.4f}", "–" if trivial is None else f"{trivial:.4f}",
                      f"{base[name].value:.4f}" if name in base else "–")
    console.print(table)
    console.print(f"report: {run.out_dir / 'report.md'}")
    if cassette == "replay":
        console.print("replayed answers: not compared with the baseline (a replay checks parsing, it measures nothing)")
        return
    if update_baseline:
        console.print(f"baseline written: {write_baseline(run)}")
        return
    if run.regressions:
        for r in run.regressions:
            err_console.print(f"[bold red]regression[/] {r}")
        raise typer.Exit(code=1)
