"""What the pipeline's e2e test and bench/release share: the project as they use it (a copy
with registry names of its own and staging's and prod's timing knobs at AWS's minimums),
the sample monorepo at a version of one's choosing, and the pipeline read through the API;
and what the DR e2e (tests/runtime/test_region_outage.py) and bench/dr share: prod's
edits for a region outage (``dr_prod``) and the recovery bounds' constants."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from deployer.config import Config
from deployer.config import load as load_config

from .conftest import ROOT, Local, docker, wait_until

if TYPE_CHECKING:
    from tests.e2e.conftest import DeployerCLI

COMPANY = "zeta"
#: The project's sample account IDs -> the copy's (registry names are per account).
ACCOUNTS = {
    "111111111111": "171717171717",
    "222222222222": "272727272727",
    "333333333333": "373737373737",
    "444444444444": "474747474747",
}
#: Health checks at AWS's minimums, as in examples/environments/e2e.yaml.
MINIMUM_HEALTH_CHECKS = {
    "interval_seconds": 5,
    "timeout_seconds": 2,
    "healthy_threshold": 2,
    "unhealthy_threshold": 2,
    "deregistration_delay_seconds": 0,
}
SERVICES = ("api-service", "auth-service", "notification-service")
ENDED = ("Succeeded", "Failed", "Stopped", "Superseded", "Cancelled")
SOURCES = {
    "api-service": "api_service.py",
    "auth-service": "auth_service.py",
    "notification-service": "notification_service.py",
}

#: The DR e2e's and bench/dr's project: one microservice, prod served under this zone.
DR_SERVICE = "api-service"
DR_ZONE = "shop.example.com"
#: Emulated seconds between two evaluations of a calculated or CLOUDWATCH_METRIC health
#: check (deployer/emulator/engines/route53_health.py).
CALCULATED_EVERY_S = 10
#: Real seconds the recovery bounds allow beyond the emulated waits (commands, requests).
DR_SLACK_S = 10.0


def dr_prod(prod: dict[str, Any]) -> None:
    """prod.yaml's document, edited for a region outage: the service's name in DR_ZONE,
    target group health checks at AWS's minimums, no termination wait, one NAT gateway,
    two tasks where it serves and one standing by in each region."""
    prod["dns"] = {"zone": DR_ZONE}
    prod["health_checks"] = dict(MINIMUM_HEALTH_CHECKS)
    prod["deployments"] = {"termination_wait_minutes": 0}
    prod["network"] = {"nat_gateways": "single"}
    prod["sizing"]["desired_count"] = 2
    for region in prod["regions"]:
        region["standby_count"] = 1


def own_registry_names(
    environments: Path,
    company: str,
    accounts: Mapping[str, str],
    edit: Callable[[str, dict[str, Any]], None] | None = None,
) -> None:
    """Each environment file under ``environments`` with the sample's account IDs replaced
    (``accounts``: old -> new) and project.yaml's company and state bucket renamed, so that
    a test's registry host names, load balancers and buckets are its own; ``edit(stem,
    document)`` changes each document further before it is written."""
    for path in environments.glob("*.yaml"):
        text = path.read_text()
        for old, new in accounts.items():
            text = text.replace(old, new)
        document = yaml.safe_load(text)
        if path.name == "project.yaml":
            document["company"] = company
            state = document["terraform"]["state"]
            state["bucket"] = state["bucket"].replace("acme-", f"{company}-", 1)
        if edit is not None:
            edit(path.stem, document)
        path.write_text(yaml.safe_dump(document, sort_keys=False))


@contextmanager
def deployer_on(local: Local, root: Path) -> Iterator[tuple[DeployerCLI, Config]]:
    """The deployer on the project at ``root``, with the emulator's state folder and a
    TMPDIR of its own, and the project's configuration; afterwards the image tags it left
    in the engine (its own registry names, and its build image's) are removed."""
    from tests.e2e.conftest import DeployerCLI

    runner = DeployerCLI(local.state_dir)
    runner.env["DEPLOYER_PROJECT_DIR"] = str(root)
    temp = root.parent / "tmp"
    temp.mkdir()
    runner.env["TMPDIR"] = str(temp)
    config = load_config(root)
    try:
        yield runner, config
    finally:
        host = f"{config.delivery.account_id}.dkr.ecr."
        build_image = f"{config.names.delivery.build_image_repo_name}:"
        left = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
        tags = [t for t in left if t.startswith((host, build_image))]
        if tags:
            docker("rmi", "--no-prune", *tags)


def project_copy(into: Path) -> Path:
    """The project, with its own company and account IDs and fast timing knobs."""
    environments = into / "environments"
    shutil.copytree(
        ROOT / "environments", environments, ignore=shutil.ignore_patterns(".terraform")
    )

    def knobs(stem: str, document: dict[str, Any]) -> None:
        if stem in ("staging", "prod"):
            document["health_checks"] = dict(MINIMUM_HEALTH_CHECKS)
            document["deployments"] = {"termination_wait_minutes": 0}
            document["network"] = {"nat_gateways": "single"}
            document["sizing"]["desired_count"] = 1 if stem == "prod" else 2

    own_registry_names(environments, COMPANY, ACCOUNTS, knobs)
    for name in ("modules", "functions", "bin", "deployer", "images"):
        (into / name).symlink_to(ROOT / name)
    # A copy: a test adds a microservice's folder to its monorepo.
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "test-reports")
    shutil.copytree(ROOT / "examples", into / "examples", ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", into / "pyproject.toml")
    return into


def tree(source: Path, version: str, into: Path) -> Path:
    """The sample monorepo with each service's version set to ``version``."""
    if into.exists():
        shutil.rmtree(into)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "test-reports")
    shutil.copytree(source, into, ignore=skip)
    for service, module in SOURCES.items():
        path = into / "services" / service / module
        text = path.read_text()
        edited = text.replace('os.environ.get("SERVICE_VERSION", "dev")', f'"{version}"')
        assert edited != text, f"{path} no longer reads SERVICE_VERSION with the default dev"
        path.write_text(edited)
    return into


class Pipeline:
    """The delivery pipeline, read through the API as a user (or the console) does."""

    def __init__(self, local: Local, config: Config) -> None:
        self.local = local
        self.config = config
        self.account = config.delivery.account_id
        self.region = config.names.delivery.region
        self.name = config.names.delivery.pipeline_name
        self.api = local.client("codepipeline", self.account, self.region)

    def execution_of(self, commit: str, timeout: float = 60) -> str:
        """The execution whose source revision is ``commit``."""

        def found() -> str | None:
            for summary in self.api.list_pipeline_executions(pipelineName=self.name)[
                "pipelineExecutionSummaries"
            ]:
                if any(r.get("revisionId") == commit for r in summary.get("sourceRevisions", [])):
                    return str(summary["pipelineExecutionId"])
            return None

        return str(wait_until(f"an execution of {commit}", found, timeout, every=1))

    def status(self, execution: str) -> str:
        return str(
            self.api.get_pipeline_execution(pipelineName=self.name, pipelineExecutionId=execution)[
                "pipelineExecution"
            ]["status"]
        )

    def actions(self, execution: str) -> dict[str, dict[str, Any]]:
        """Each action's latest execution in ``execution``, by stage/action."""
        details = self.api.list_action_executions(
            pipelineName=self.name, filter={"pipelineExecutionId": execution}
        )["actionExecutionDetails"]
        found: dict[str, dict[str, Any]] = {}
        for detail in sorted(details, key=lambda d: d["startTime"]):
            found[f"{detail['stageName']}/{detail['actionName']}"] = detail
        return found

    def story(self, execution: str) -> str:
        lines = [f"execution {execution}: {self.status(execution)}"]
        for name, detail in self.actions(execution).items():
            summary = detail.get("output", {}).get("executionResult", {})
            lines.append(f"  {name}: {detail['status']} {summary}")
        return "\n".join(lines)

    def waiting_for_approval(self, execution: str) -> str | None:
        """The approval's token once ``execution`` waits for it (fails if it ended)."""
        status = self.status(execution)
        assert status not in ENDED, self.story(execution)
        for stage in self.api.get_pipeline_state(name=self.name)["stageStates"]:
            for action in stage.get("actionStates", []):
                latest = action.get("latestExecution", {})
                if (
                    action["actionName"] == "Approve"
                    and latest.get("status") == "InProgress"
                    and stage.get("latestExecution", {}).get("pipelineExecutionId") == execution
                ):
                    return str(latest["token"])
        return None

    def until_approval(self, execution: str, timeout: float = 420) -> str:
        return str(
            wait_until(
                f"{execution} waiting for approval",
                lambda: self.waiting_for_approval(execution),
                timeout,
                every=2,
                show=lambda: self.story(execution),
            )
        )

    def until_ended(self, execution: str, timeout: float = 420) -> str:
        wait_until(
            f"{execution} ended",
            lambda: self.status(execution) in ENDED,
            timeout,
            every=2,
            show=lambda: self.story(execution),
        )
        return self.status(execution)

    def decide(self, token: str, approve: bool, summary: str) -> None:
        self.api.put_approval_result(
            pipelineName=self.name,
            stageName="Production",
            actionName="Approve",
            result={"summary": summary, "status": "Approved" if approve else "Rejected"},
            token=token,
        )


def add_microservice(project: Path, name: str, short_name: str, version: str) -> None:
    """A new microservice, as a team adds one: an entry in project.yaml and a folder in
    the monorepo (here a copy of notification-service under the new name)."""
    path = project / "environments" / "project.yaml"
    document = yaml.safe_load(path.read_text())
    document["microservices"].append(
        {"name": name, "short_name": short_name, "port": 8080, "health_check_path": "/health"}
    )
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    services = project / "examples" / "monorepo" / "services"
    module = name.replace("-", "_")
    shutil.copytree(services / "notification-service", services / name)
    folder = services / name
    (folder / "notification_service.py").rename(folder / f"{module}.py")
    (folder / "tests" / "test_notification_service.py").rename(
        folder / "tests" / f"test_{module}.py"
    )
    for file in [p for p in folder.rglob("*") if p.is_file()]:
        text = file.read_text()
        text = text.replace("notification-service", name).replace("notification_service", module)
        text = text.replace('os.environ.get("SERVICE_VERSION", "dev")', f'"{version}"')
        file.write_text(text)
