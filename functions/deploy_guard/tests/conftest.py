"""Fixtures of the deploy guard's tests: moto in process, and a stage built in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from guard_stage import REGION, Stage
from moto import mock_aws
from moto.codedeploy import responses as codedeploy_responses

from deployer.emulator.patches.codedeploy_alarm_configuration import alarm_configuration


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    # moto 5.2.5 answers GetDeploymentGroup with an empty alarmConfiguration; AWS returns
    # the alarms the group was created with. The emulator's patch for that gap, applied
    # here for the test only.
    original = codedeploy_responses._deployment_group_info

    def with_alarms(group: Any) -> dict[str, Any]:
        info: dict[str, Any] = original(group)
        info["alarmConfiguration"] = alarm_configuration(group.alarm_configuration)
        return info

    with (
        mock.patch.object(codedeploy_responses, "_deployment_group_info", with_alarms),
        mock_aws(),
    ):
        yield


@pytest.fixture
def make_stage(aws: None) -> Iterator[Callable[..., Stage]]:
    stages: list[Stage] = []

    def make(**kwargs: Any) -> Stage:
        stages.append(Stage(**kwargs))
        return stages[-1]

    yield make
    for stage in stages:
        stage.verify()


@pytest.fixture
def stage(make_stage: Callable[..., Stage]) -> Stage:
    return make_stage()
