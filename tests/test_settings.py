"""Settings: one table drives flags, variables and the README."""
from __future__ import annotations

import pytest

from server.errors import SettingsError
from server.settings import SETTINGS, load_settings, settings_table_markdown

from .conftest import ROOT


def test_readme_settings_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    settings_section = readme[readme.index("\n## Settings\n"):]
    assert settings_table_markdown() in settings_section, "regenerate it: python -m server.settings --readme"


def test_environment_then_overrides() -> None:
    s = load_settings({"port": 9000}, environ={"KG_PORT": "8001", "KG_QUERY_TIMEOUT_S": "2.5"})
    assert s.port == 9000 and s.query_timeout_s == 2.5


def test_bad_values_and_names_are_refused() -> None:
    with pytest.raises(SettingsError):
        load_settings(environ={"KG_PORT": "eighty"})
    with pytest.raises(SettingsError):
        load_settings({"no_such_setting": 1})


def test_every_setting_has_help() -> None:
    assert all(len(s.help) > 20 for s in SETTINGS)
