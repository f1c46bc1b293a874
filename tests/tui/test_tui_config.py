"""tui.json: saving a setting never loses what the user wrote by hand."""

from __future__ import annotations

import json

import pytest

from workbench.tui.config import broken_path, config_path, load_config, save_config


def test_save_keeps_other_keys():
    save_config(keymap={"accept": "y"})
    save_config(theme="light")
    assert load_config() == {"keymap": {"accept": "y"}, "theme": "light"}


def test_a_broken_file_is_kept_aside_not_overwritten():
    # A trailing comma must not cost the user their keymap when the theme changes.
    text = '{"keymap": {"accept": "y"}, "theme": "light",}\n'
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="tui.json: line 1"):
        load_config()
    save_config(theme="high-contrast")
    assert json.loads(config_path().read_text(encoding="utf-8")) == {"theme": "high-contrast"}
    assert broken_path().read_text(encoding="utf-8") == text
