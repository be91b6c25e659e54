"""The emulator's block of the hosts file: added, extended, removed; nothing else touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deployer.emulator import hosts

ORIGINAL = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n# a comment of the owner"


@pytest.fixture
def hosts_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "hosts"
    path.write_text(ORIGINAL)  # no final newline: the block still starts on a line of its own
    monkeypatch.setenv(hosts.HOSTS_ENV, str(path))
    return path


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


def test_add_extend_and_remove(hosts_file: Path) -> None:
    mine = hosts.HostsFile("/state/emulator-runtime")
    mine.add(["111111111111.dkr.ecr.us-east-1.amazonaws.com"], "127.0.0.1")
    mine.add(["111111111111.dkr.ecr.us-west-2.amazonaws.com"], "127.0.0.1")
    text = hosts_file.read_text()
    assert text.startswith(ORIGINAL + "\n")
    assert text[len(ORIGINAL) + 1 :] == (
        f"# >>> deployer emulator {mine.pid} /state/emulator-runtime\n"
        "127.0.0.1 111111111111.dkr.ecr.us-east-1.amazonaws.com\n"
        "127.0.0.1 111111111111.dkr.ecr.us-west-2.amazonaws.com\n"
        f"# <<< deployer emulator {mine.pid}\n"
    )
    assert hosts.owned_blocks()[mine.pid] == [
        "111111111111.dkr.ecr.us-east-1.amazonaws.com",
        "111111111111.dkr.ecr.us-west-2.amazonaws.com",
    ]
    mine.remove()
    assert hosts_file.read_text() == ORIGINAL + "\n"
    assert hosts.owned_blocks() == {}


def test_blocks_of_emulators_that_are_gone_are_removed_and_live_ones_kept(
    hosts_file: Path,
) -> None:
    gone = hosts.HostsFile("/old", pid=dead_pid())
    gone.add(["a.example"], "127.0.0.1")
    assert set(hosts.owned_blocks()) == {gone.pid}
    alive = hosts.HostsFile("/other", pid=1)  # pid 1 is always alive
    alive.add(["b.example"], "127.0.0.1")  # the next edit drops the dead one's block
    assert set(hosts.owned_blocks()) == {1}
    mine = hosts.HostsFile("/mine")
    mine.add(["c.example"], "127.0.0.1")
    assert set(hosts.owned_blocks()) == {1, mine.pid}
    hosts.remove_blocks([mine.pid])
    assert set(hosts.owned_blocks()) == {1}
    assert "b.example" in hosts_file.read_text() and ORIGINAL in hosts_file.read_text()


def test_an_unwritable_file_is_a_hosts_error(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "hosts"
    with pytest.raises(hosts.HostsError, match="cannot write"):
        hosts.HostsFile("/x", path=target).add(["a.example"], "127.0.0.1")


def test_names_another_live_emulator_holds_are_not_added(hosts_file: Path) -> None:
    # Emulators run side by side with other accounts' names; the same name twice would be
    # ambiguous (the resolver takes the first line), so the second one gets none of them.
    other = hosts.HostsFile("/other", pid=1)  # pid 1 is always alive
    other.add(["111111111111.dkr.ecr.us-east-1.amazonaws.com"], "127.0.0.1")
    mine = hosts.HostsFile("/mine")
    mine.add(["171717171717.dkr.ecr.us-east-1.amazonaws.com"], "127.77.0.1")
    with pytest.raises(hosts.NamesTaken) as taken:
        mine.add(
            ["111111111111.dkr.ecr.us-east-1.amazonaws.com", "222.dkr.ecr.us-east-1.amazonaws.com"],
            "127.77.0.1",
        )
    assert taken.value.pid == 1
    assert str(taken.value).startswith(
        "the emulator with pid 1 serves ECR's registry names "
        "(111111111111.dkr.ecr.us-east-1.amazonaws.com, ...)"
    )
    assert hosts.owned_blocks() == {
        1: ["111111111111.dkr.ecr.us-east-1.amazonaws.com"],
        mine.pid: ["171717171717.dkr.ecr.us-east-1.amazonaws.com"],
    }
    assert mine.names() == {"171717171717.dkr.ecr.us-east-1.amazonaws.com": "127.77.0.1"}
