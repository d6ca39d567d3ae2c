"""`revo models`: the models on the Ollama server REVO_LLM_BASE_URL points at."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import TaskID

from cli import progress
from services import maintenance, tenants

models_app = typer.Typer(help="Models on the Ollama server.", no_args_is_help=True)

Tenant = Annotated[str, typer.Option(help="Tenant slug (acts as its admin; the pull is audited).")]


@models_app.command("list")
def list_models(tenant: Tenant) -> None:
    """The models installed on the Ollama server."""
    from services.llm import models as llm_models  # ollama's client is slow to import

    maintenance.connect(url=maintenance.database_url())
    actor = tenants.admin_actor(slug=tenant)
    for model in llm_models.list_models(actor=actor):
        size = f"{model.size_bytes / 1e9:.1f} GB" if model.size_bytes else "?"
        print(f"{model.name:<40} {size:>9}")


@models_app.command("pull")
def pull(
    name: Annotated[str, typer.Argument(help="Model to pull, e.g. llama3.2.")],
    tenant: Tenant,
) -> None:
    """Download a model onto the Ollama server, with a progress bar per layer."""
    from services.llm import models as llm_models

    maintenance.connect(url=maintenance.database_url())
    actor = tenants.admin_actor(slug=tenant)
    with progress.downloads() as bars:
        layers: dict[str, TaskID] = {}
        step = bars.add_task("starting", total=None)
        for part in llm_models.pull_model(actor=actor, name=name):
            if part.total:
                if part.status not in layers:
                    layers[part.status] = bars.add_task(part.status[:40], total=part.total)
                bars.update(layers[part.status], completed=part.completed or 0)
            else:
                bars.update(step, description=part.status)
        bars.update(step, total=1, completed=1)
    print(f"pulled {name.strip()}")
