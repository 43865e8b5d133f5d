"""The JSON config store: missing files, bad files, private and atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from adapters.config_store import JsonConfigStore, ensure_private_dir
from domain.errors import ConfigError


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_missing_file_loads_as_empty(tmp_path):
    store = JsonConfigStore(tmp_path / "nope" / "config.json")

    assert store.load() == {}
    assert store.path == str(tmp_path / "nope" / "config.json")


def test_saved_settings_load_back_unchanged(tmp_path):
    store = JsonConfigStore(tmp_path / "config.json")
    settings = {"api_key": "1e5", "model": "claude-opus-4.6", "read_timeout": 30}

    store.save(settings)

    assert store.load() == settings


def test_save_makes_the_file_0600_and_new_directories_0700(tmp_path):
    path = tmp_path / "home" / ".config" / "nexus-claude-api" / "config.json"

    JsonConfigStore(path).save({"api_key": "k"})

    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700


def test_save_leaves_an_existing_directory_mode_alone(tmp_path):
    # In --dev mode the parent is the user's working copy: not ours to lock down.
    tmp_path.chmod(0o755)

    JsonConfigStore(tmp_path / "nexus-claude-api.local.json").save({"api_key": "k"})

    assert mode(tmp_path) == 0o755
    assert mode(tmp_path / "nexus-claude-api.local.json") == 0o600


def test_save_replaces_the_whole_file_and_leaves_no_temporary_files(tmp_path):
    store = JsonConfigStore(tmp_path / "config.json")
    store.save({"api_key": "old", "model": "m"})

    store.save({"api_key": "new"})

    assert store.load() == {"api_key": "new"}
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_a_failed_save_keeps_the_old_file_and_cleans_up(tmp_path, monkeypatch):
    store = JsonConfigStore(tmp_path / "config.json")
    store.save({"api_key": "old"})

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ConfigError, match="cannot write config file .*config.json"):
        store.save({"api_key": "new"})

    monkeypatch.undo()
    assert store.load() == {"api_key": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_invalid_json_names_the_file_but_never_echoes_its_content(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"api_key": "nxk-very-secret-value",')

    with pytest.raises(ConfigError) as caught:
        JsonConfigStore(path).load()

    assert str(path) in caught.value.message
    assert "not valid JSON" in caught.value.message
    assert "secret" not in caught.value.message


@pytest.mark.parametrize("content", ["[1, 2]", '"text"', "42", "null"])
def test_a_file_that_is_not_an_object_is_rejected(tmp_path, content):
    path = tmp_path / "config.json"
    path.write_text(content)

    with pytest.raises(ConfigError, match="must hold a JSON object"):
        JsonConfigStore(path).load()


def test_an_unreadable_path_is_a_config_error(tmp_path):
    (tmp_path / "config.json").mkdir()

    with pytest.raises(ConfigError, match="cannot read config file"):
        JsonConfigStore(tmp_path / "config.json").load()


def test_ensure_private_dir_creates_each_missing_level_0700(tmp_path):
    target = tmp_path / "a" / "b" / "c"

    ensure_private_dir(target)
    ensure_private_dir(target)  # idempotent

    assert [mode(tmp_path / p) for p in ("a", "a/b", "a/b/c")] == [0o700] * 3
