"""`deployer apply delivery` end to end: the pipeline and its outputs, through the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.e2e.conftest import DeployerCLI, account_client

ROOT = Path(__file__).resolve().parents[2]
DELIVERY_ACCOUNT = "111111111111"


def delivery_client(cli: DeployerCLI, service: str) -> Any:
    """A client in the delivery account of the running emulator, through its role."""
    endpoint = cli("emulator", "status", "--json").json()["endpoint"]
    return account_client(endpoint, DELIVERY_ACCOUNT, service, "e2e-release-check")


def test_apply_delivery_and_its_outputs(cli: DeployerCLI, tmp_path: Path) -> None:
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

    # `deployer release --source`: the sample monorepo committed to the pipeline's branch,
    # then a change of one file committed as exactly that change.
    source = tmp_path / "monorepo"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    shutil.copytree(ROOT / "examples" / "monorepo", source, ignore=skip)
    first = cli("release", "--source", str(source), "--message", "the sample monorepo", "--json")
    assert first.returncode == 0, first.stderr[-3000:]
    doc = first.json()
    assert doc["changed"] is True and doc["parent"] is None and doc["branch"] == "main"
    files = sorted(str(p.relative_to(source)) for p in source.rglob("*") if p.is_file())
    assert sorted(doc["added"]) == files
    codecommit = delivery_client(cli, "codecommit")
    folder = codecommit.get_folder(
        repositoryName="acme-shop-delivery-monorepo", folderPath="services/api-service"
    )
    assert {f["relativePath"] for f in folder["files"]} >= {"Dockerfile", "api_service.py"}
    dockerfile = codecommit.get_file(
        repositoryName="acme-shop-delivery-monorepo",
        filePath="services/api-service/Dockerfile",
    )["fileContent"]
    assert dockerfile == (source / "services" / "api-service" / "Dockerfile").read_bytes()
    readme = source / "README.md"
    readme.write_text(readme.read_text() + "\nA change.\n")
    second = cli("release", "--source", str(source), "--json")
    assert second.returncode == 0, second.stderr[-3000:]
    doc2 = second.json()
    assert (doc2["added"], doc2["updated"], doc2["deleted"]) == ([], ["README.md"], [])
    assert doc2["parent"] == doc["commit"]
    differences = codecommit.get_differences(
        repositoryName="acme-shop-delivery-monorepo",
        beforeCommitSpecifier=doc["commit"],
        afterCommitSpecifier=doc2["commit"],
    )["differences"]
    assert [(d["changeType"], d["afterBlob"]["path"]) for d in differences] == [("M", "README.md")]
    unchanged = cli("release", "--source", str(source), "--json").json()
    assert unchanged["changed"] is False and unchanged["commit"] == doc2["commit"]

    # pipeline.source S3 (a copy of the project): the delivery stack plans the versioned
    # source bucket `deployer release` uploads to, and the module takes it as its source.
    copy = tmp_path / "s3-project"
    shutil.copytree(ROOT / "environments", copy / "environments",
                    ignore=shutil.ignore_patterns(".terraform*"))  # fmt: skip
    for name in ("modules", "functions", "examples", "bin", "deployer"):
        (copy / name).symlink_to(ROOT / name)
    settings = copy / "environments" / "project.yaml"
    settings.write_text(settings.read_text().replace("source: CodeCommit", "source: S3"))
    s3_cli = DeployerCLI(cli.state_dir)
    s3_cli.env["DEPLOYER_PROJECT_DIR"] = str(copy)
    planned = s3_cli("plan", "delivery", "--json")
    assert planned.returncode == 0, planned.stderr[-3000:]
    (region,) = planned.json()["regions"]
    assert region["status"] == "planned", region
    # The bucket and its six settings added; the pipeline's source action changed in place.
    assert region["changes"]["add"] >= 7 and region["changes"]["change"] >= 1, region
