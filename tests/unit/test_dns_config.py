"""dns.zone: validated with file, field and reason; turned into the stacks' variables."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployer import config
from deployer.aws import LOCAL, Target
from deployer.config import Dns
from deployer.tfvars import delivery_variables, dns_role_name, runtime_variables
from tests.unit.test_config import BASE_ENVS, problems, write_tree

ROOT = Path(__file__).resolve().parents[2]
TARGET = Target(LOCAL, "http://127.0.0.1:1")


def prod_with(**changes: Any) -> dict[str, Any]:
    envs = copy.deepcopy(BASE_ENVS)
    for key, value in changes.items():
        if value is None:
            envs["prod"].pop(key, None)
        else:
            envs["prod"][key] = value
    return envs


def env_problems(tmp_path: Path, envs: dict[str, Any], env: str = "prod") -> list[str]:
    """The problems of one environment's file (an invalid environment is left out, so
    the pipeline's reference to it is reported too)."""
    return [p for p in problems(tmp_path, envs=envs) if p.startswith(f"environments/{env}.yaml")]


def load(tmp_path: Path, envs: dict[str, Any]) -> config.Config:
    return config.load(write_tree(tmp_path, envs=envs))


def test_the_sample_configuration_has_no_dns_and_no_names() -> None:
    loaded = config.load(ROOT)
    assert all(env.dns is None for env in loaded.environments.values())
    prod = loaded.environment("prod")
    assert runtime_variables(loaded, prod, "us-east-1", TARGET, package=False)["dns"] is None
    assert delivery_variables(loaded, loaded.delivery, "us-east-1", TARGET)["dns_zones"] == {}


def test_the_dr_example_sets_a_zone_and_passes_validation(tmp_path: Path) -> None:
    envs = {**BASE_ENVS, "dr": yaml.safe_load((ROOT / "examples/environments/dr.yaml").read_text())}
    loaded = load(tmp_path, envs)
    dr = loaded.environment("dr")
    assert dr.dns == Dns("shop.example.com")
    assert [r.name for r in dr.regions] == ["us-east-1", "us-west-2"]


def test_a_zone_is_loaded_without_its_trailing_dot(tmp_path: Path) -> None:
    loaded = load(tmp_path, prod_with(dns={"zone": "shop.example.com."}))
    dns = loaded.environment("prod").dns
    assert dns is not None and dns.zone == "shop.example.com"
    assert dns.record_name("api-service") == "api-service.shop.example.com"


@pytest.mark.parametrize(
    ("dns", "reason"),
    [
        ({"zone": "Shop.Example.com"}, "'Shop.Example.com' must be lower case"),
        ({"zone": "localhost"}, "a zone has two labels at the least"),
        ({"zone": "shop..example.com"}, "'' is not a DNS label"),
        ({"zone": "-shop.example.com"}, "'-shop' is not a DNS label"),
        ({"zone": "shop_1.example.com"}, "'shop_1' is not a DNS label"),
        ({"zone": "shop.example.123"}, "its top-level label is all digits"),
        ({"zone": 42}, "must be a string, got an integer 42"),
        ({}, "is required"),
        ({"zone": "shop.example.com", "ttl": 60}, "unknown key (allowed: zone)"),
        ("shop.example.com", "must be a mapping, got a string"),
    ],
)
def test_a_bad_zone_names_file_field_and_reason(tmp_path: Path, dns: Any, reason: str) -> None:
    found = env_problems(tmp_path, prod_with(dns=dns))
    assert len(found) == 1, found
    (problem,) = found
    assert problem.startswith("environments/prod.yaml: dns"), problem
    assert reason in problem, problem


def test_a_name_longer_than_acms_limit_names_the_service(tmp_path: Path) -> None:
    zone = "a-rather-long-zone-name-for-the-shop-platform.example.com"
    (problem,) = env_problems(tmp_path, prod_with(dns={"zone": zone}))
    assert problem.startswith("environments/prod.yaml: dns.zone: ")
    assert "(microservice api-service) is 69 characters" in problem
    assert "ACM caps a certificate's domain name at 64" in problem


def test_dns_needs_a_runtime_environment_and_a_deploy_role(tmp_path: Path) -> None:
    envs = copy.deepcopy(BASE_ENVS)
    envs["delivery"]["dns"] = {"zone": "shop.example.com"}
    (problem,) = env_problems(tmp_path, envs, "delivery")
    assert problem.startswith("environments/delivery.yaml: dns: only a runtime environment")
    (problem,) = env_problems(
        tmp_path, prod_with(dns={"zone": "shop.example.com"}, deploy_role_name=None)
    )
    assert problem.startswith("environments/prod.yaml: dns: needs deploy_role_name")


def test_two_environments_with_one_zone_are_refused(tmp_path: Path) -> None:
    envs = copy.deepcopy(BASE_ENVS)
    envs["prod"]["dns"] = {"zone": "shop.example.com"}
    envs["staging"]["dns"] = {"zone": "shop.example.com"}
    (problem,) = problems(tmp_path, envs=envs)
    assert problem == (
        "environments/staging.yaml: dns.zone: 'shop.example.com' is also the zone of "
        "environment prod: each environment names its services in a zone of its own"
    )


def test_the_runtime_workspaces_reach_the_zone_through_the_deploy_role_then_its_role(
    tmp_path: Path,
) -> None:
    loaded = load(tmp_path, prod_with(dns={"zone": "shop.example.com"}))
    prod = loaded.environment("prod")
    assert dns_role_name(loaded, prod) == "acme-shop-delivery-dns-prod"
    for region in ("us-east-1", "us-west-2"):
        variables = runtime_variables(loaded, prod, region, TARGET, package=False)
        assert variables["dns"] == {
            "zone_name": "shop.example.com",
            "account_id": "111111111111",
            "assume_role_arns": [
                "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole",
                "arn:aws:iam::111111111111:role/acme-shop-delivery-dns-prod",
            ],
        }
    staging = loaded.environment("staging")
    assert runtime_variables(loaded, staging, "us-east-1", TARGET, package=False)["dns"] is None


def test_read_only_plans_reach_the_zone_through_the_delivery_read_role(tmp_path: Path) -> None:
    loaded = load(tmp_path, prod_with(dns={"zone": "shop.example.com"}))
    prod = loaded.environment("prod")
    read_only = Target(LOCAL, "http://127.0.0.1:1", read_only=True)
    variables = runtime_variables(loaded, prod, "us-west-2", read_only, package=False)
    assert variables["dns"]["assume_role_arns"] == [
        "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-read-us-east-1"
    ]


def test_the_delivery_stack_gets_each_zone_its_names_and_the_trusted_role(
    tmp_path: Path,
) -> None:
    loaded = load(tmp_path, prod_with(dns={"zone": "shop.example.com"}))
    variables = delivery_variables(loaded, loaded.delivery, "us-east-1", TARGET)
    assert variables["dns_zones"] == {
        "prod": {
            "zone_name": "shop.example.com",
            "record_names": [
                "api-service.shop.example.com",
                "auth-service.shop.example.com",
                "notification-service.shop.example.com",
            ],
            "trusted_role_arn": "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole",
        }
    }
