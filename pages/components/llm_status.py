"""Says plainly when the language model cannot be used, naming the URL that was tried."""

from __future__ import annotations

import streamlit as st

from pages.components.feedback import plain
from services.actor import Actor
from services.llm import models


def model_notice(actor: Actor) -> None:
    """A warning when the model server is down or lacks the model; nothing when all is well."""
    status = models.model_status(actor=actor)
    if status.reachable and status.present:
        return
    st.warning(
        f"**The language model is not available** ({plain(status.url)}): "
        f"{plain(status.problem or 'unknown problem')} Agent runs wait and retry; "
        "everything else in the console works.",
        icon=":material/cloud_off:",
    )
