"""`deployer apply delivery` end to end: the pipeline and its outputs, through the CLI."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DeployerCLI

pytestmark = pytest.mark.e2e


def test_apply_delivery_and_its_outputs(cli: DeployerCLI) -> None:
    applied = cli("apply", "delivery", "--json")
    assert applied.returncode == 0, applied.stderr[-3000:]
    (region,) = applied.json()["regions"]
    assert (region["workspace"], region["status"]) == ("delivery-us-east-1", "applied")

    outputs = cli("output", "delivery", "--json").json()["regions"]["us-east-1"]
    assert outputs["pipeline_url"] == (
        "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        "acme-shop-delivery-pipeline/view?region=us-east-1"
    )
    assert outputs["ecr_repository_urls"] == {
        name: f"111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-{name}"
        for name in ("api-service", "auth-service", "notification-service", "build-image")
    }
    assert set(outputs["deploy_targets"]) == {
        "staging-us-east-1",
        "prod-us-east-1",
        "prod-us-west-2",
    }

    replan = cli("plan", "delivery", "--detailed-exitcode")
    assert replan.returncode == 0, replan.stderr[-3000:]
    history = cli("history", "delivery", "--json").json()["workspaces"]["delivery-us-east-1"]
    assert history[0]["run_id"] == applied.json()["run_id"]

    # The delivery environment is protected (it holds the ECR repositories, the
    # artifact buckets, the keys and the state): destroying it is refused before
    # anything changes, naming each stateful resource. (A destroy that names them
    # all is shown for staging in test_apply_staging; the delivery stack's own
    # destroy is proven by tests/integration/test_delivery_stack.py.)
    refused = cli("destroy", "delivery", "--auto-approve", "--json")
    assert refused.returncode == 1, refused.stderr[-3000:]
    error = refused.json()["error"]
    assert error.startswith("refusing to apply: the plan would delete or replace stateful")
    named = [line.split()[-1] for line in error.splitlines()[1:]]
    assert any(".aws_ecr_repository." in a for a in named)
    assert any(".aws_s3_bucket." in a for a in named)
    assert any(".aws_kms_key." in a for a in named)
    after = cli("plan", "delivery", "--detailed-exitcode")
    assert after.returncode == 0, "the refused destroy changed something"
