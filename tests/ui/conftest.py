from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.apptest import APP


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=30)
