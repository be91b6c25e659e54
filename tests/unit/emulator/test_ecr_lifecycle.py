"""The ECR lifecycle engine: which images a policy expires, and the engine on its clock."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from deployer.emulator.engines.ecr_lifecycle import DAY_S, EcrLifecycle, Image, expiring
from deployer.emulator.scheduler import Scheduler

NOW = 1_800_000_000.0
#: The project's policy (modules/ecr): untagged gone after 7 days, the last 10 kept.
PROJECT_POLICY = {
    "rules": [
        {
            "rulePriority": 1,
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 7,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10},
            "action": {"type": "expire"},
        },
    ]
}


def image(name: str, days_ago: float, *tags: str) -> Image:
    return Image(f"sha256:{name}", tags, NOW - days_ago * DAY_S)


def test_the_project_policy() -> None:
    tagged = [image(f"t{k}", k, f"v{k}") for k in range(12)]  # t0 newest ... t11 oldest
    images = [*tagged, image("u-new", 1.5), image("u-old", 8.5)]
    # Youngest first: t0 t1 u-new t2 t3 t4 t5 t6 t7 t8 | u-old t9 t10 t11. u-old is the
    # untagged rule's (8.5 > 7 days); t9..t11 are beyond the 10 the second rule keeps.
    assert expiring(PROJECT_POLICY, images, NOW) == {
        "sha256:u-old": 1,
        "sha256:t9": 2,
        "sha256:t10": 2,
        "sha256:t11": 2,
    }


def test_an_image_a_higher_rule_selects_is_counted_but_not_expired_by_a_lower_one() -> None:
    policy = {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": ["prod"],
                    "countType": "imageCountMoreThan",
                    "countNumber": 5,
                },
            },
            {
                "rulePriority": 2,
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 1,
                },
            },
        ]
    }
    images = [image("p1", 1, "prod-1"), image("p2", 2, "prod-2"), image("d3", 3, "dev-3")]
    # Rule 2 keeps one image (p1) and would expire p2 and d3; p2 is rule 1's.
    assert expiring(policy, images, NOW) == {"sha256:d3": 2}


def test_tag_patterns_and_prefixes_need_every_entry_matched() -> None:
    def rule(**selection: Any) -> dict[str, Any]:
        return {
            "rules": [
                {
                    "rulePriority": 1,
                    "selection": {
                        "tagStatus": "tagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": 1,
                        **selection,
                    },
                }
            ]
        }

    images = [image("a", 2, "prod-1", "blue"), image("b", 2, "prod-2"), image("c", 2)]
    assert set(expiring(rule(tagPatternList=["prod-*"]), images, NOW)) == {"sha256:a", "sha256:b"}
    assert set(expiring(rule(tagPrefixList=["prod", "bl"]), images, NOW)) == {"sha256:a"}
    assert set(expiring(rule(tagPatternList=["*-2"]), images, NOW)) == {"sha256:b"}


MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1},
}


@pytest.fixture
def backends() -> Iterator[Any]:
    with mock_aws():
        from moto.ecr.models import ecr_backends

        yield ecr_backends["123456789012"]


def fill(backend: Any, pushed: list[float], policy: dict[str, Any] | None) -> None:
    backend.create_repository(
        repository_name="acme-api", registry_id=None, encryption_config=None,
        image_scan_config=None, image_tag_mutability=None, tags=None,
    )  # fmt: skip
    for n, at in enumerate(pushed):
        layer = {"mediaType": "x", "size": 1, "digest": f"sha256:{n:064x}"}
        body = json.dumps({**MANIFEST, "layers": [layer]})
        backend.put_image("acme-api", body, f"v{n}").image_pushed_at = at
    if policy:
        backend.put_lifecycle_policy(None, "acme-api", json.dumps(policy))


def wait_for(condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the engine did not act in time"
        time.sleep(0.05)


def test_at_scale_1_each_region_follows_its_own_policy(backends: Any) -> None:
    keep_two = {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 2,
                },
                "action": {"type": "expire"},
            }
        ]
    }
    now = time.time()
    fill(backends["us-east-1"], [now - 40, now - 30, now - 20, now - 10], keep_two)
    fill(backends["us-west-2"], [now - 40, now - 30, now - 20, now - 10], None)  # a replica
    clock = Scheduler(1.0)
    engine = EcrLifecycle(every=0.2)
    clock.register(engine)
    clock.start()
    try:
        east = backends["us-east-1"].repositories["acme-api"]
        wait_for(lambda: len(east.images) == 2, 5)
    finally:
        clock.stop()
    assert sorted(i.image_tags[0] for i in east.images) == ["v2", "v3"]  # the newest two
    assert len(backends["us-west-2"].repositories["acme-api"].images) == 4
    assert engine.status()["expired"] == 2


def test_days_pass_on_the_emulated_clock(backends: Any) -> None:
    clock = Scheduler(86400.0)  # an emulated day a second
    pushed = clock.now()
    fill(backends["us-east-1"], [pushed], PROJECT_POLICY)
    untagged = backends["us-east-1"].repositories["acme-api"].images[0]
    untagged.remove_tag("v0")
    engine = EcrLifecycle()  # every 10 emulated minutes
    clock.register(engine)
    clock.start()
    try:
        images = backends["us-east-1"].repositories["acme-api"].images
        wait_for(lambda: not images, 15)  # 7 emulated days: about 7 s
    finally:
        clock.stop()
    assert clock.now() - pushed > 7 * DAY_S
