"""Finding Terraform, refusing old versions, and the CLI config it runs with."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer import toolchain
from deployer.errors import ToolchainError
from tests.unit.fake_terraform import write_fake_terraform


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(toolchain.BINARY_ENV, raising=False)
    monkeypatch.delenv(toolchain.MIRROR_ENV, raising=False)


def test_binary_from_env_wins_over_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = write_fake_terraform(tmp_path)
    monkeypatch.setenv(toolchain.BINARY_ENV, str(fake))
    assert toolchain.find_binary("/nonexistent/terraform") == fake.resolve()


def test_configured_binary_that_does_not_exist_is_a_clear_error() -> None:
    with pytest.raises(ToolchainError) as info:
        toolchain.find_binary("/nonexistent/terraform")
    assert "'/nonexistent/terraform' (from terraform.binary in environments/project.yaml)" in str(
        info.value
    )


def test_missing_terraform_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolchainError) as info:
        toolchain.find_binary(None)
    assert "Terraform was not found on PATH" in info.value.message
    assert "install Terraform >= 1.10.0 or set DEPLOYER_TERRAFORM" in str(info.value.hint)


def test_too_old_terraform_is_refused_with_the_fix(tmp_path: Path) -> None:
    fake = write_fake_terraform(tmp_path, version="1.9.8")
    with pytest.raises(ToolchainError) as info:
        toolchain.prepare(tmp_path / "state", tmp_path, configured_binary=str(fake))
    assert "Terraform 1.9.8" in info.value.message
    assert "too old: the stacks need >= 1.10.0 (S3 native state locking" in info.value.message
    assert "install Terraform 1.10.0 or newer" in str(info.value.hint)
    assert info.value.exit_code == 2


def test_new_enough_terraform_is_accepted(tmp_path: Path) -> None:
    fake = write_fake_terraform(tmp_path, version="1.10.0")
    tc = toolchain.prepare(tmp_path / "state", tmp_path, configured_binary=str(fake))
    assert tc.version == (1, 10, 0)


def test_cli_config_has_shared_cache_and_mirror(tmp_path: Path) -> None:
    fake = write_fake_terraform(tmp_path)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    tc = toolchain.prepare(
        tmp_path / "state", tmp_path, configured_binary=str(fake), configured_mirror=str(mirror)
    )
    text = tc.cli_config.read_text()
    assert f'plugin_cache_dir = "{tc.plugin_cache}"' in text
    assert "filesystem_mirror" in text and f'path = "{mirror}"' in text
    # With a mirror, the registry is never consulted (an offline machine must not wait on it).
    assert "direct" not in text
    assert tc.environ()["TF_CLI_CONFIG_FILE"] == str(tc.cli_config)


def test_mirror_env_wins_over_config_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_mirror = tmp_path / "env-mirror"
    env_mirror.mkdir()
    monkeypatch.setenv(toolchain.MIRROR_ENV, str(env_mirror))
    assert toolchain.resolve_mirror("/somewhere/else", tmp_path) == env_mirror


def test_mirror_config_key_is_relative_to_project(tmp_path: Path) -> None:
    (tmp_path / "vendor" / "providers").mkdir(parents=True)
    assert toolchain.resolve_mirror("vendor/providers", tmp_path) == (
        tmp_path / "vendor" / "providers"
    )


def test_mirror_that_is_not_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError) as info:
        toolchain.resolve_mirror("/no/such/mirror", tmp_path)
    assert "provider mirror '/no/such/mirror'" in info.value.message
    assert "terraform providers mirror" in str(info.value.hint)


def test_no_mirror_means_no_provider_installation_block(tmp_path: Path) -> None:
    text = toolchain.render_cli_config(tmp_path / "cache", None)
    assert "provider_installation" not in text


def test_provider_failure_hint_says_how_to_configure_a_mirror() -> None:
    stderr = (
        "Error: Failed to query available provider packages\n"
        "Could not retrieve the list of available versions for provider hashicorp/aws: "
        "could not connect to registry.terraform.io"
    )
    hint = toolchain.provider_failure_hint(stderr, None)
    assert hint is not None
    assert "DEPLOYER_PROVIDER_MIRROR" in hint
    assert toolchain.provider_failure_hint("Error: Unsupported argument", None) is None


def test_init_lock_serialises(tmp_path: Path) -> None:
    import threading
    import time

    fake = write_fake_terraform(tmp_path)
    tc = toolchain.prepare(tmp_path / "state", tmp_path, configured_binary=str(fake))
    inside = 0
    most = 0
    guard = threading.Lock()

    def worker() -> None:
        nonlocal inside, most
        with tc.init_lock():
            with guard:
                inside += 1
                most = max(most, inside)
            time.sleep(0.05)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1
