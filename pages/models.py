"""Models (admin): what the configured server has, pull in the background, delete, try one,
and each model's recent speed from the recorded calls."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.session import current_user
from services.llm import model_admin, model_pulls

user = current_user()
actor = user.actor
st.title("Models")
if flash := st.session_state.pop("models_flash", None):
    st.success(plain(flash))

with service_errors():
    server = model_admin.server_models(actor=actor)
st.caption(
    plain(f"{'Ollama' if server.kind == 'ollama' else 'OpenAI-compatible server'} at {server.url}")
)
if server.cannot:
    st.info(
        "This server speaks only the OpenAI API (as llama.cpp's server does). It lists model "
        "names and answers prompts; it cannot tell or do: " + ", ".join(server.cannot) + "."
    )


def _size(n: int | None) -> str:
    return "—" if n is None else f"{n / 1e9:.2f} GB"


st.dataframe(
    [
        {"Model": m.name, "Size": _size(m.size_bytes), "Family": m.family or "—",
         "Parameters": m.parameter_size or "—", "Quantisation": m.quantization or "—",
         "Loaded": "—" if m.loaded is None else ("yes" if m.loaded else "no")}
        for m in server.models
    ],
    hide_index=True,
)  # fmt: skip
names = [m.name for m in server.models]

if server.kind == "ollama":
    pull_col, delete_col = st.columns(2)
    with pull_col.form("pull_model", clear_on_submit=True):
        wanted = st.text_input("Pull a model", placeholder="qwen2.5:7b")
        if st.form_submit_button("Pull"):
            with service_errors():
                model_pulls.start_pull(actor=actor, name=wanted, now=datetime.now(UTC))
            st.rerun()
    with delete_col.form("delete_model"):
        doomed = st.selectbox("Delete a model", names)
        sure = st.checkbox("Yes, delete it from the server")
        if st.form_submit_button("Delete") and doomed:
            if not sure:
                st.error("Tick the box to confirm the deletion.")
            else:
                with service_errors():
                    model_admin.delete_model(actor=actor, name=doomed)
                st.session_state["models_flash"] = f"Deleted {doomed}."
                st.rerun()


@st.fragment(run_every=1)
def pulls() -> None:
    """Pulls run in the console process, so they go on when you leave this page."""
    with service_errors():
        jobs = model_pulls.pull_jobs(actor=actor)
    for job in jobs:
        label = f"{job.model}: {job.error or job.status}"
        if job.done and job.error:
            st.error(plain(label))
        else:
            st.progress(job.fraction or 0.0, text=plain(label))


pulls()

st.subheader("Try it")
with st.form("try_model"):
    model = st.selectbox("Model", names)
    prompt = st.text_area("Prompt", "Say hello in five words.", max_chars=model_admin.MAX_PROMPT)
    if st.form_submit_button("Send") and model:
        with service_errors():
            result = model_admin.try_model(actor=actor, name=model, prompt=prompt)
        speed = (
            f"{result.tokens_per_second:.1f} tokens/s"
            if result.tokens_per_second
            else "tokens/s unknown"
        )
        load = f" · load {result.load_ms} ms" if result.load_ms is not None else ""
        st.markdown(f"**{result.latency_ms} ms** · {speed}{load}")
        st.text(result.text)

st.subheader("Recent calls (7 days)")
with service_errors():
    usage = model_admin.model_usage(actor=actor, now=datetime.now(UTC))


def _load(u: model_admin.ModelUsage) -> str:
    if not u.loads or u.median_load_ms is None:
        return "no loads recorded"
    return f"median {u.median_load_ms:,.0f} ms · last {u.last_load_ms:,} ms ({u.loads} loads)"


st.dataframe(
    [
        {"Model": u.model, "Calls": u.calls,
         "Tokens/s": None if u.tokens_per_second is None else round(u.tokens_per_second, 1),
         "Mean latency (ms)": None if u.mean_latency_ms is None else round(u.mean_latency_ms),
         "Load time": _load(u)}
        for u in usage
    ],
    hide_index=True,
)  # fmt: skip
if server.kind == "openai":
    st.caption(
        "This server does not report load time (it speaks only the OpenAI API), so no loads are "
        "measured here; loads recorded earlier against Ollama still show."
    )
else:
    st.caption(
        "Load time is measured when a call finds its model not loaded: the console loads it "
        "first through Ollama's /api/generate. A model that stays loaded records no loads."
    )
