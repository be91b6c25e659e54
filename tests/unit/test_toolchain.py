"""Finding Terraform, refusing old versions, and the CLI config it runs with."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deployer import toolchain
from deployer.errors import ToolchainError
from tests.unit.fake_terraform import write_fake_terraform
from tests.validation_mutants import seed_lock_file


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
    found = toolchain.resolve_mirror("/somewhere/else", tmp_path)
    assert found.path == env_mirror
    assert found.source == f"from {toolchain.MIRROR_ENV}"


def test_mirror_env_none_means_the_registry_without_searching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(toolchain.MIRROR_ENV, "none")

    def no_search(version: str | None, platform: str) -> Path | None:
        raise AssertionError("searched although DEPLOYER_PROVIDER_MIRROR=none")

    found = toolchain.resolve_mirror("vendor/providers", tmp_path, tmp_path, search=no_search)
    assert found.path is None and "registry" in found.source


def test_mirror_config_key_is_relative_to_project(tmp_path: Path) -> None:
    (tmp_path / "vendor" / "providers").mkdir(parents=True)
    assert toolchain.resolve_mirror("vendor/providers", tmp_path).path == (
        tmp_path / "vendor" / "providers"
    )


def test_mirror_that_is_not_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError) as info:
        toolchain.resolve_mirror("/no/such/mirror", tmp_path)
    assert "provider mirror '/no/such/mirror'" in info.value.message
    assert "terraform providers mirror" in str(info.value.hint)


# -- discovery: what bin/_bootstrap.sh used to do in bash, now for every entry point --------
PLATFORM = toolchain.platform_name()


def make_mirror(folder: Path, version: str) -> Path:
    binary = folder / toolchain.AWS_PROVIDER / version / PLATFORM
    binary.mkdir(parents=True)
    (binary / f"terraform-provider-aws_v{version}_x5").write_text("")
    return folder


def lock_project(root: Path, version: str) -> Path:
    stack = root / "environments" / "stacks" / "runtime"
    stack.mkdir(parents=True)
    (stack / ".terraform.lock.hcl").write_text(
        f'provider "{toolchain.AWS_PROVIDER}" {{\n  version     = "{version}"\n}}\n'
    )
    return root


def no_search(version: str | None, platform: str) -> Path | None:
    raise AssertionError("the filesystem was searched")


def test_the_locked_version_is_read_from_the_stacks() -> None:
    root = Path(__file__).resolve().parents[2]
    version = toolchain.locked_provider_version(root)
    assert version is not None and version.count(".") == 2


def test_a_usual_place_holding_the_locked_version_is_found_and_cached(tmp_path: Path) -> None:
    root = lock_project(tmp_path / "project", "5.100.0")
    wrong = make_mirror(tmp_path / "old", "5.1.0")
    right = make_mirror(tmp_path / "right", "5.100.0")
    state = tmp_path / "state"
    usual = (str(tmp_path / "absent"), str(wrong), str(right))
    found = toolchain.resolve_mirror(None, root, state, usual=usual, search=no_search)
    assert found.path == right and found.source == "found in a usual place"
    # The next run trusts the cache, even with no usual place left.
    again = toolchain.resolve_mirror(None, root, state, usual=(), search=no_search)
    assert again.path == right and "cached" in again.source


def test_the_cache_is_not_trusted_once_it_no_longer_holds_the_locked_version(
    tmp_path: Path,
) -> None:
    root = lock_project(tmp_path / "project", "5.100.0")
    first = make_mirror(tmp_path / "first", "5.100.0")
    state = tmp_path / "state"
    assert toolchain.resolve_mirror(None, root, state, usual=(str(first),)).path == first
    shutil.rmtree(first)
    second = make_mirror(tmp_path / "second", "5.100.0")
    assert toolchain.resolve_mirror(None, root, state, usual=(str(second),)).path == second


def test_the_filesystem_search_finds_a_mirror_within_its_depth(tmp_path: Path) -> None:
    make_mirror(tmp_path / "srv" / "images" / "tf", "5.100.0")
    make_mirror(tmp_path / "srv" / "other", "4.0.0")  # not the locked version
    assert toolchain.search_mirror("5.100.0", PLATFORM, top=tmp_path, skip=()) == (
        tmp_path / "srv" / "images" / "tf"
    )
    assert toolchain.search_mirror("5.100.0", PLATFORM, top=tmp_path, skip=(), max_depth=2) is None
    skipped = (str(tmp_path / "srv"),)
    assert toolchain.search_mirror("5.100.0", PLATFORM, top=tmp_path, skip=skipped) is None


def test_nothing_found_is_cached_and_said(tmp_path: Path) -> None:
    root = lock_project(tmp_path / "project", "5.100.0")
    state = tmp_path / "state"
    said: list[str] = []
    found = toolchain.resolve_mirror(
        None, root, state, usual=(), search=lambda v, p: None, progress=said.append
    )
    assert found.path is None
    assert said and "hashicorp/aws 5.100.0" in said[0] and toolchain.MIRROR_ENV in said[0]
    again = toolchain.resolve_mirror(None, root, state, usual=(), search=no_search)
    assert again.path is None and str(state) in again.source


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


def test_the_version_is_read_once_per_binary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bin").mkdir()
    fake = write_fake_terraform(tmp_path / "bin", version="1.11.4")
    cache = tmp_path / "state" / "version.json"
    record = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_TF_RECORD", str(record))
    assert toolchain.cached_version(fake, cache) == (1, 11, 4)
    assert toolchain.cached_version(fake, cache) == (1, 11, 4)
    assert len(record.read_text().splitlines()) == 1  # one `terraform version`, then the cache
    # Another binary in the same place (an upgrade): read again.
    write_fake_terraform(tmp_path / "bin", version="1.12.0")
    assert toolchain.cached_version(fake, cache) == (1, 12, 0)
    assert len(record.read_text().splitlines()) == 2


@pytest.mark.terraform
def test_a_seeded_module_copy_links_the_cached_provider_instead_of_replacing_it(
    tmp_path: Path,
) -> None:
    """Without a lock file, init reinstalls the provider into the shared cache, removing
    the folder a running ``terraform test`` of another copy links to (a CI failure:
    "there is no package ... cached in .terraform/providers"). Seeded, it links it."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    tc = toolchain.prepare(tmp_path / "state", root)
    version = toolchain.locked_provider_version(root)
    cached = tc.plugin_cache / toolchain.AWS_PROVIDER / str(version) / PLATFORM

    def entry() -> tuple[int, int]:  # a replaced entry may reuse the inode, not the time
        status = cached.lstat()
        return status.st_ino, status.st_mtime_ns

    def init(folder: Path, seed: bool) -> None:
        folder.mkdir()
        (folder / "main.tf").write_text(
            "terraform {\n  required_providers {\n"
            '    aws = { source = "hashicorp/aws", version = ">= 5.0" }\n  }\n}\n'
        )
        if seed:
            seed_lock_file(root, folder)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **tc.environ()}
        done = subprocess.run(
            [str(tc.binary), f"-chdir={folder}", "init", "-backend=false", "-no-color"],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    init(tmp_path / "first", seed=False)
    before = entry()
    init(tmp_path / "unseeded", seed=False)
    assert entry() != before, "the unseeded init no longer replaces the cache entry"
    before = entry()
    init(tmp_path / "seeded", seed=True)
    assert entry() == before


def test_seeding_without_a_stack_lock_file_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match=r"no stack under .*environments/stacks"):
        seed_lock_file(tmp_path, tmp_path)
