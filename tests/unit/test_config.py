"""Configuration validation: every rule, with the exact file, field and reason."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployer import config
from deployer.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


BASE_PROJECT = _load(ROOT / "environments" / "project.yaml")
BASE_ENVS = {
    p.stem: _load(p) for p in (ROOT / "environments").glob("*.yaml") if p.stem != "project"
}


def write_tree(
    root: Path, project: dict[str, Any] | None = None, envs: dict[str, Any] | None = None
) -> Path:
    env_dir = root / "environments"
    env_dir.mkdir(parents=True, exist_ok=True)
    (env_dir / "project.yaml").write_text(yaml.safe_dump(project or BASE_PROJECT))
    for name, doc in (envs or BASE_ENVS).items():
        text = doc if isinstance(doc, str) else yaml.safe_dump(doc)
        (env_dir / f"{name}.yaml").write_text(text)
    return root


def problems(tmp_path: Path, project: Any = None, envs: Any = None) -> list[str]:
    write_tree(tmp_path, project, envs)
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path)
    assert info.value.exit_code == 2
    return [str(p) for p in info.value.problems]


def env_with(name: str, **changes: Any) -> dict[str, Any]:
    envs = copy.deepcopy(BASE_ENVS)
    for key, value in changes.items():
        if value is None:
            envs[name].pop(key, None)
        else:
            envs[name][key] = value
    return envs


def project_with(**changes: Any) -> dict[str, Any]:
    project = copy.deepcopy(BASE_PROJECT)
    project.update(changes)
    return project


def test_the_shipped_configuration_is_valid() -> None:
    cfg = config.load(ROOT)
    assert set(cfg.environments) == {"delivery", "dev", "staging", "prod"}
    assert cfg.environment("staging").sizing.cpu == 256
    assert cfg.environment("staging").sizing.memory == 512
    assert cfg.environment("prod").sizing.cpu == 512
    assert cfg.environment("prod").sizing.memory == 1024
    assert cfg.environment("prod").primary_region == "us-east-1"
    assert cfg.environment("prod").dr_region == "us-west-2"
    assert len({e.account_id for e in cfg.environments.values()}) == 4  # one account each
    assert cfg.name_prefix("staging") == "acme-shop-staging"


@pytest.mark.parametrize(
    ("env", "changes", "expected"),
    [
        ("staging", {"account_id": 333333333333},
         "environments/staging.yaml: account_id: must be a quoted string of 12 digits "
         "(unquoted, YAML reads it as a number and drops leading zeros)"),
        ("staging", {"account_id": "12345"},
         "environments/staging.yaml: account_id: '12345' is not a 12-digit AWS account id"),
        ("staging", {"stack": "frontend"},
         "environments/staging.yaml: stack: 'frontend' is not a stack "
         "(choose one of: delivery, runtime)"),
        ("staging", {"regions": [{"name": "us-east-9", "cidr": "10.20.0.0/16"}]},
         "environments/staging.yaml: regions[0].name: 'us-east-9' is not a known AWS region"),
        ("staging", {"regions": [{"name": "us-east-1", "cidr": "10.20.0.0/33"}]},
         "environments/staging.yaml: regions[0].cidr: '10.20.0.0/33' is not a valid IPv4 "
         "CIDR block ('33' is not a valid netmask)"),
        ("staging", {"regions": [{"name": "us-east-1", "cidr": "10.20.0.0/28"}]},
         "environments/staging.yaml: regions[0].cidr: '10.20.0.0/28' must have a prefix "
         "length between /16 and /24 (room for 6 subnets)"),
        ("staging", {"regions": [{"name": "us-east-1"}]},
         "environments/staging.yaml: regions[0].cidr: is required for the runtime stack "
         "(the VPC CIDR block)"),
        ("prod", {"regions": [{"name": "us-east-1", "cidr": "10.30.0.0/16"},
                              {"name": "us-west-2", "cidr": "10.30.128.0/17"}]},
         "environments/prod.yaml: regions[1].cidr: 10.30.128.0/17 overlaps 10.30.0.0/16 "
         "of the primary region"),
        ("prod", {"regions": [{"name": "us-east-1", "cidr": "10.30.0.0/16"},
                              {"name": "us-east-1", "cidr": "10.31.0.0/16"}]},
         "environments/prod.yaml: regions[1].name: 'us-east-1' is listed twice"),
        ("staging", {"sizing": {"cpu": 300, "memory": 512}},
         "environments/staging.yaml: sizing.cpu: 300 is not one of 256, 512, 1024, 2048, "
         "4096, 8192, 16384"),
        ("staging", {"sizing": {"cpu": 256, "memory": 4096}},
         "environments/staging.yaml: sizing.memory: 4096 MiB is not a valid Fargate memory "
         "size for 256 CPU units (allowed: 512, 1024, 2048)"),
        ("prod", {"sizing": {"cpu": 512, "memory": 512}},
         "environments/prod.yaml: sizing.memory: 512 MiB is not a valid Fargate memory size "
         "for 512 CPU units (allowed: 1024-4096 in steps of 1024)"),
        ("staging", {"sizing": {"cpu": "256"}},
         "environments/staging.yaml: sizing.cpu: must be an integer, got a string '256'"),
        ("staging", {"log_retention_days": 45},
         "environments/staging.yaml: log_retention_days: 45 is not one of 1, 3, 5, 7, 14, "
         "30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, "
         "3288, 3653"),
        ("staging", {"notification_emails": ["ops-at-example.com"]},
         "environments/staging.yaml: notification_emails[0]: 'ops-at-example.com' is not an "
         "email address"),
        ("staging", {"network": {"nat_gateways": "two"}},
         "environments/staging.yaml: network.nat_gateways: 'two' must be 'single' or 'per_az'"),
        ("staging", {"parameters": {"billing-service": {"A": "b"}}},
         "environments/staging.yaml: parameters.billing-service: unknown key (allowed: "
         "api-service, auth-service, notification-service, shared)"),
        ("staging", {"parameters": {"api-service": {"bad key": "x"}}},
         "environments/staging.yaml: parameters.api-service.bad key: parameter names are "
         "letters, digits, '_', '.', '-'"),
        ("staging", {"secrets": {"auth-service": "JWT"}},
         "environments/staging.yaml: secrets.auth-service: must be a list of secret names, "
         "got a string"),
        ("staging", {"deploy_role_name": "bad role!"},
         "environments/staging.yaml: deploy_role_name: 'bad role!' is not a valid IAM role name"),
        ("staging", {"colour": "blue"},
         "environments/staging.yaml: colour: unknown key (allowed: account_id, alarms, "
         "approval, deploy_role_name, deployments, dns, health_checks, log_retention_days, "
         "network, notification_emails, parameters, protected, regions, secrets, serving, "
         "sizing, stack)"),
        ("staging", {"protected": "yes"},
         "environments/staging.yaml: protected: must be true or false, got a string 'yes'"),
        ("staging", {"approval": "ask"},
         "environments/staging.yaml: approval: 'ask' must be 'required' or 'none'"),
        ("staging", {"alarms": {"http_5xx_rate_percent": 150}},
         "environments/staging.yaml: alarms.http_5xx_rate_percent: 150 must be a percentage "
         "above 0 and at most 100"),
        ("staging", {"alarms": {"running_tasks_min_ratio": 0}},
         "environments/staging.yaml: alarms.running_tasks_min_ratio: 0 must be a number above "
         "0 and at most 1"),
        ("staging", {"alarms": {"period_seconds": 90}},
         "environments/staging.yaml: alarms.period_seconds: 90 must be a multiple of 60"),
        ("staging", {"alarms": {"evaluation_periods": 0}},
         "environments/staging.yaml: alarms.evaluation_periods: must be at least 1, got 0"),
        ("staging", {"health_checks": {"interval_seconds": 4}},
         "environments/staging.yaml: health_checks.interval_seconds: must be at least 5, got 4"),
        ("staging", {"health_checks": {"unhealthy_threshold": 11}},
         "environments/staging.yaml: health_checks.unhealthy_threshold: must be at most 10, "
         "got 11"),
        ("staging", {"health_checks": {"interval_seconds": 5, "timeout_seconds": 5}},
         "environments/staging.yaml: health_checks.timeout_seconds: 5 must be less than "
         "interval_seconds (5): a check must time out before the next one starts"),
        ("staging", {"health_checks": {"deregistration_delay_seconds": -1}},
         "environments/staging.yaml: health_checks.deregistration_delay_seconds: must be at "
         "least 0, got -1"),
        ("staging", {"deployments": {"config": "CodeDeployDefault.AllAtOnce"}},
         "environments/staging.yaml: deployments.config: 'CodeDeployDefault.AllAtOnce' is not "
         "one of CodeDeploy's ECS configurations (CodeDeployDefault.ECSAllAtOnce, "
         "CodeDeployDefault.ECSLinear10PercentEvery1Minutes, "
         "CodeDeployDefault.ECSLinear10PercentEvery3Minutes, "
         "CodeDeployDefault.ECSCanary10Percent5Minutes, "
         "CodeDeployDefault.ECSCanary10Percent15Minutes)"),
        ("staging", {"deployments": {"config": "my config!"}},
         "environments/staging.yaml: deployments.config: 'my config!' is not a deployment "
         "configuration name (1 to 100 letters, digits, '.', '_' or '-')"),
        ("staging", {"deployments": {"termination_wait_minutes": 2881}},
         "environments/staging.yaml: deployments.termination_wait_minutes: must be at most "
         "2880, got 2881"),
        ("staging", {"health_checks": {"interval": 10}},
         "environments/staging.yaml: health_checks.interval: unknown key (allowed: "
         "deregistration_delay_seconds, healthy_threshold, interval_seconds, timeout_seconds, "
         "unhealthy_threshold)"),
        ("staging", {"stack": None},
         "environments/staging.yaml: stack: is required"),
    ],
)  # fmt: skip
def test_environment_rules(
    tmp_path: Path, env: str, changes: dict[str, Any], expected: str
) -> None:
    assert expected in problems(tmp_path, envs=env_with(env, **changes))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"company": "Acme"},
         "environments/project.yaml: company: 'Acme' must be lowercase letters, digits and "
         "single hyphens"),
        ({"microservices": []},
         "environments/project.yaml: microservices: must list at least one microservice"),
        ({"microservices": [{"name": "api-service"}, {"name": "api-service"}]},
         "environments/project.yaml: microservices[1].name: 'api-service' is listed twice"),
        ({"microservices": [{"name": "customer-notification-service"}]},
         "environments/project.yaml: microservices[0].short_name: 'customer-notification' is "
         "longer than 12 characters; set a shorter short_name (it goes into 32-character ALB "
         "and target group names)"),
        ({"microservices": [{"name": "api-service", "port": 70000}]},
         "environments/project.yaml: microservices[0].port: must be at most 65535, got 70000"),
        ({"terraform": {"state": {"bucket": "Bad_Bucket"}}},
         "environments/project.yaml: terraform.state.bucket: 'Bad_Bucket' is not a valid S3 "
         "bucket name"),
        ({"terraform": {"mirror": "/opt"}},
         "environments/project.yaml: terraform.mirror: unknown key (allowed: binary, "
         "parallelism, provider_mirror, state)"),
        ({"pipeline": {"production": "production"}},
         "environments/project.yaml: pipeline.production: names 'production', but there is "
         "no environments/production.yaml"),
        ({"pipeline": {"staging": "delivery"}},
         "environments/project.yaml: pipeline.staging: 'delivery' must be a runtime environment"),
        ({"pipeline": {"source": "GitHub"}},
         "environments/project.yaml: pipeline.source: 'GitHub' must be 'CodeCommit' or 'S3'"),
        ({"pipeline": {"build_image_tag": "bad tag"}},
         "environments/project.yaml: pipeline.build_image_tag: 'bad tag' is not a valid image "
         "tag"),
        ({"delivery_environment": "tools"},
         "environments/project.yaml: delivery_environment: names 'tools', but there is no "
         "environments/tools.yaml"),
    ],
)  # fmt: skip
def test_project_rules(tmp_path: Path, changes: dict[str, Any], expected: str) -> None:
    assert expected in problems(tmp_path, project=project_with(**changes))


def test_name_length_limit_of_albs_and_target_groups(tmp_path: Path) -> None:
    project = project_with(company="acmecorporation", service="webshop")
    found = problems(tmp_path, project=project)
    assert (
        "environments/staging.yaml: (name): 'acmecorporation-webshop-staging-api-alb' is 39 "
        "characters; ALB and target group names are capped at 32: shorten company, service, "
        "the environment name or the microservice short_name"
    ) in found


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    envs = env_with("staging", account_id="1", log_retention_days=45)
    envs["prod"]["sizing"] = {"cpu": 256, "memory": 4096}
    found = problems(tmp_path, project=project_with(company="ACME"), envs=envs)
    files = {p.split(":")[0] for p in found}
    assert files == {
        "environments/project.yaml",
        "environments/staging.yaml",
        "environments/prod.yaml",
    }
    assert len(found) >= 4


def test_invalid_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    envs = dict(BASE_ENVS)
    envs["staging"] = "stack: runtime\naccount_id: [unclosed\n"  # type: ignore[assignment]
    found = problems(tmp_path, envs=envs)
    assert any(
        p.startswith("environments/staging.yaml: line 3, column 1: is not valid YAML")
        for p in found
    )


def test_unknown_environment_is_a_usage_error() -> None:
    from deployer.errors import UsageError

    cfg = config.load(ROOT)
    with pytest.raises(UsageError) as info:
        cfg.environment("qa")
    assert "unknown environment 'qa' (configured: delivery, dev, prod, staging)" in str(info.value)


def test_health_checks_reach_the_runtime_stack(tmp_path: Path) -> None:
    from deployer.aws import LOCAL, Target
    from deployer.tfvars import runtime_variables

    checks = {"interval_seconds": 6, "timeout_seconds": 3, "deregistration_delay_seconds": 0}
    write_tree(tmp_path, envs=env_with("staging", health_checks=checks))
    loaded = config.load(tmp_path)
    env = loaded.environment("staging")
    assert env.health_checks.to_json() == {
        "interval_seconds": 6,
        "timeout_seconds": 3,
        "healthy_threshold": 2,
        "unhealthy_threshold": 3,
        "deregistration_delay_seconds": 0,
    }
    target = Target(LOCAL, "http://127.0.0.1:1")
    variables = runtime_variables(loaded, env, env.regions[0].name, target, package=False)
    assert variables["health_checks"] == env.health_checks.to_json()
    # and the deployments' settings, with CodeDeploy's defaults when none are given
    assert variables["deployments"] == {
        "config": "CodeDeployDefault.ECSAllAtOnce",
        "termination_wait_minutes": 5,
    }
    write_tree(
        tmp_path,
        envs=env_with(
            "staging",
            deployments={
                "config": "CodeDeployDefault.ECSCanary10Percent5Minutes",
                "termination_wait_minutes": 0,
            },
        ),
    )
    loaded = config.load(tmp_path)
    env = loaded.environment("staging")
    variables = runtime_variables(loaded, env, env.regions[0].name, target, package=False)
    assert variables["deployments"] == {
        "config": "CodeDeployDefault.ECSCanary10Percent5Minutes",
        "termination_wait_minutes": 0,
    }


def test_the_sample_e2e_environment_is_valid_and_uses_the_fastest_legal_timings(
    tmp_path: Path,
) -> None:
    sample = _load(ROOT / "examples" / "environments" / "e2e.yaml")
    write_tree(tmp_path, envs={**BASE_ENVS, "e2e": sample})
    env = config.load(tmp_path).environment("e2e")
    assert env.alarms.period_seconds == 60 and env.alarms.evaluation_periods == 1
    assert env.deployments.termination_wait_minutes == 0
    assert env.health_checks.to_json() == {
        "interval_seconds": 5,
        "timeout_seconds": 2,
        "healthy_threshold": 2,
        "unhealthy_threshold": 2,
        "deregistration_delay_seconds": 0,
    }
    # Each knob is at AWS's minimum: one less is refused.
    for key in ("interval_seconds", "timeout_seconds", "healthy_threshold"):
        lower = copy.deepcopy(sample)
        lower["health_checks"][key] -= 1
        found = problems(tmp_path / key, envs={**BASE_ENVS, "e2e": lower})
        assert any(f"health_checks.{key}" in p for p in found), found
