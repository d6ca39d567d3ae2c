from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def loopback() -> Iterator[None]:
    """The console listening on 127.0.0.1, as `revo up` starts it."""
    previous = st_config.get_option("server.address")
    st_config.set_option("server.address", "127.0.0.1")
    yield
    st_config.set_option("server.address", previous)


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=30)
