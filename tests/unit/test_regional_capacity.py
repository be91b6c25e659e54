"""Per-region capacity: ``regions[].desired_count``, ``standby_count`` and ``serving``.

Validated with file, field and reason; each region's workspace gets both counts and the
configuration's serving region in its tfvars (``sizing``), and runs its desired count when
it serves, its standby count otherwise (the stack decides, serving.tf, so that a serving
record of ``deployer dr failover`` can name another region). Without the new keys nothing
changes (the sample configuration's counts are what they were).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from deployer import config
from deployer.aws import LOCAL, Target
from deployer.tfvars import runtime_variables
from tests.unit.test_config import BASE_ENVS, problems, write_tree

ROOT = Path(__file__).resolve().parents[2]
TARGET = Target(LOCAL, "http://127.0.0.1:1")
EAST, WEST = "us-east-1", "us-west-2"


def prod_with(
    east: dict[str, Any] | None = None, west: dict[str, Any] | None = None, **top: Any
) -> dict[str, Any]:
    """The sample configuration with prod's regions (us-east-1 then us-west-2) and top-level
    keys changed (sizing.desired_count is 3 in the sample)."""
    envs = copy.deepcopy(BASE_ENVS)
    regions = envs["prod"]["regions"]
    regions[0].update(east or {})
    regions[1].update(west or {})
    envs["prod"].update(top)
    return envs


def prod_problems(tmp_path: Path, envs: dict[str, Any]) -> list[str]:
    return [p for p in problems(tmp_path, envs=envs) if p.startswith("environments/prod.yaml")]


def counts(tmp_path: Path, envs: dict[str, Any]) -> dict[str, int]:
    """What each prod workspace's tfvars tell the runtime stack to run without a serving
    record (environments/stacks/runtime/serving.tf): its desired count when the serving
    region is its own, else its standby count."""
    loaded = config.load(write_tree(tmp_path, envs=envs))
    prod = loaded.environment("prod")
    found = {}
    for region in (EAST, WEST):
        sizing = runtime_variables(loaded, prod, region, TARGET, package=False)["sizing"]
        serves = sizing["serving_region"] == region
        found[region] = sizing["desired_count"] if serves else sizing["standby_count"]
        assert found[region] == prod.running_count(region)
    return found


def test_without_per_region_counts_every_region_runs_sizing_desired_count() -> None:
    loaded = config.load(ROOT)
    prod = loaded.environment("prod")
    assert prod.serving_region == EAST
    for region in (EAST, WEST):
        assert prod.running_count(region) == 3
        variables = runtime_variables(loaded, prod, region, TARGET, package=False)
        assert variables["sizing"] == {
            "cpu": 512, "memory": 1024, "desired_count": 3, "standby_count": 3,
            "serving_region": EAST,
        }  # fmt: skip


def test_the_dr_region_runs_its_standby_count_while_the_primary_serves(tmp_path: Path) -> None:
    assert counts(tmp_path, prod_with(west={"standby_count": 1})) == {EAST: 3, WEST: 1}


def test_serving_the_dr_region_runs_its_desired_count_and_the_primary_its_standby(
    tmp_path: Path,
) -> None:
    envs = prod_with(
        east={"desired_count": 4, "standby_count": 2},
        west={"desired_count": 5, "standby_count": 1},
        serving=WEST,
    )
    assert counts(tmp_path, envs) == {EAST: 2, WEST: 5}
    # failing back: serving the primary again (or leaving serving out) flips the counts
    envs["prod"]["serving"] = EAST
    assert counts(tmp_path, envs) == {EAST: 4, WEST: 1}


def test_a_region_desired_count_overrides_sizing_and_is_its_default_standby(
    tmp_path: Path,
) -> None:
    # Without standby_count a region stands by at its own desired count: a smaller
    # desired_count than sizing's is never "below standby".
    envs = prod_with(west={"desired_count": 1})
    assert counts(tmp_path, envs) == {EAST: 3, WEST: 1}


@pytest.mark.parametrize(
    ("east", "west", "top", "expected"),
    [
        ({}, {"standby_count": 0}, {},
         "environments/prod.yaml: regions[1].standby_count: must be at least 1, got 0"),
        ({}, {"standby_count": 101}, {},
         "environments/prod.yaml: regions[1].standby_count: must be at most 100, got 101"),
        ({}, {"standby_count": "two"}, {},
         "environments/prod.yaml: regions[1].standby_count: must be an integer, got a string "
         "'two'"),
        ({"desired_count": 0}, {}, {},
         "environments/prod.yaml: regions[0].desired_count: must be at least 1, got 0"),
        ({}, {"desired_count": 101}, {},
         "environments/prod.yaml: regions[1].desired_count: must be at most 100, got 101"),
        # sizing.desired_count (3) is the region's desired count when it sets none
        ({}, {"standby_count": 4}, {},
         "environments/prod.yaml: regions[1].standby_count: 4 is more than the region's "
         "desired count (3): a region standing by runs at most what it runs while serving"),
        ({}, {"desired_count": 2, "standby_count": 3}, {},
         "environments/prod.yaml: regions[1].standby_count: 3 is more than the region's "
         "desired count (2): a region standing by runs at most what it runs while serving"),
        ({}, {}, {"serving": "eu-west-1"},
         "environments/prod.yaml: serving: 'eu-west-1' is not one of the environment's "
         "regions (us-east-1, us-west-2)"),
        ({}, {}, {"serving": 2},
         "environments/prod.yaml: serving: must be a string, got an integer 2"),
    ],
)  # fmt: skip
def test_capacity_rules(
    tmp_path: Path,
    east: dict[str, Any],
    west: dict[str, Any],
    top: dict[str, Any],
    expected: str,
) -> None:
    assert prod_problems(tmp_path, prod_with(east, west, **top)) == [expected]


def test_a_single_region_environment_has_no_standby(tmp_path: Path) -> None:
    envs = copy.deepcopy(BASE_ENVS)
    envs["staging"]["regions"][0]["standby_count"] = 1
    found = [p for p in problems(tmp_path, envs=envs) if p.startswith("environments/staging")]
    assert found == [
        "environments/staging.yaml: regions[0].standby_count: only a region of a two-region "
        "environment stands by (no other region serves while this one is the only one)"
    ]
