"""modules/naming and deployer/names.py give the same names, key for key and value for value.

The Terraform module names what the stacks create; the deployer computes the same names
in Python (the drill, ``params``, configuration checks). Both are rendered here for a set
of configurations (hand-picked edges, the sample project as each stack sees it, and
seeded random ones), the Terraform side in one ``terraform apply`` of a root module that
calls modules/naming once per configuration. Any difference is listed by its path.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from deployer.aws import LOCAL, Target
from deployer.config import AWS_REGIONS, Config, load
from deployer.names import (
    EnvironmentInput,
    LoadBalancerNames,
    Names,
    NamingInputs,
    config_inputs,
    name_prefix,
    naming,
)
from deployer.tfvars import delivery_variables
from deployer.toolchain import find_binary

pytestmark = pytest.mark.terraform

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "modules" / "naming"
SAMPLE = load(ROOT)
SAMPLE_MICROSERVICES = {m.name: m.short_name for m in SAMPLE.microservices}
REGIONS = sorted(AWS_REGIONS)
MAX_ELB_NAME = 32


# ---------------------------------------------------------------------------
# The configurations
# ---------------------------------------------------------------------------
def delivery_stack_inputs(config: Config) -> NamingInputs:
    """The naming inputs environments/stacks/delivery passes, from the variables it gets."""
    env = config.delivery
    v = delivery_variables(config, env, env.primary_region, Target(LOCAL, "http://127.0.0.1:1"))
    return {
        "company": v["company"],
        "service": v["service"],
        "delivery": {
            "environment": v["environment"],
            "account_id": v["account_id"],
            "region": v["region"],
        },
        "microservices": {name: m["short_name"] for name, m in v["microservices"].items()},
        "environments": {
            name: {"account_id": e["account_id"], "regions": e["regions"]}
            for name, e in v["environments"].items()
        },
    }


def runtime_stack_inputs(config: Config, environment: str) -> NamingInputs:
    """What environments/stacks/runtime passes: only its own environment."""
    inputs = config_inputs(config)
    inputs["environments"] = {environment: inputs["environments"][environment]}
    return inputs


def case(
    company: str,
    service: str,
    environments: dict[str, EnvironmentInput],
    microservices: dict[str, str],
    delivery_region: str = "us-east-1",
    delivery_environment: str = "delivery",
) -> NamingInputs:
    return {
        "company": company,
        "service": service,
        "delivery": {
            "environment": delivery_environment,
            "account_id": "111111111111",
            "region": delivery_region,
        },
        "microservices": microservices,
        "environments": environments,
    }


def runtime(digit: str, *regions: str) -> EnvironmentInput:
    """A runtime environment in account ``digit * 12``."""
    return {"account_id": digit * 12, "regions": list(regions)}


# "acmecorp-shop-staging-auth-green" is exactly 32 characters.
BOUNDARY = case(
    "acmecorp",
    "shop",
    {"staging": runtime("3", "us-east-1"), "prod": runtime("4", "us-east-1", "us-west-2")},
    {"auth-service": "auth", "api-service": "api"},
)

HAND_PICKED: dict[str, NamingInputs] = {
    "sample-delivery": delivery_stack_inputs(SAMPLE),
    **{
        f"sample-runtime-{e.name}": runtime_stack_inputs(SAMPLE, e.name)
        for e in SAMPLE.environments.values()
        if e.stack == "runtime"
    },
    "boundary-32": BOUNDARY,
    "nothing": case("acme", "shop", {}, {}),
    "no-microservices": case("acme", "shop", {"dev": runtime("2", "eu-west-1")}, {}),
    "one-region": case("acme", "shop", {"dev": runtime("2", "us-east-1")}, SAMPLE_MICROSERVICES),
    # A primary region that sorts after its DR region; a delivery region no environment uses.
    "regions-reordered": case(
        "a1",
        "b-2",
        {"prod": runtime("4", "us-west-2", "us-east-1"), "dev": runtime("2", "eu-central-1")},
        {"x": "x", "web-front": "web-f"},
        delivery_region="eu-north-1",
    ),
    # Two environments in one account: the account is listed once.
    "shared-account": case(
        "acme",
        "shop",
        {"qa": runtime("5", "ap-south-1"), "uat": runtime("5", "ap-south-1", "ap-southeast-2")},
        SAMPLE_MICROSERVICES,
        delivery_environment="tools",
    ),
}


def _token(rng: random.Random, low: int, high: int, hyphen: bool = False) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    length = rng.randint(low, high)
    body = rng.choice(letters) + "".join(
        rng.choice(letters + "0123456789") for _ in range(length - 1)
    )
    if hyphen and length > 2 and rng.random() < 0.3:
        cut = rng.randint(1, length - 2)
        body = f"{body[:cut]}-{body[cut + 1 :]}"
    return body


def random_case(rng: random.Random) -> NamingInputs:
    accounts = [f"{rng.randrange(10**12):012d}" for _ in range(3)]
    environments: dict[str, EnvironmentInput] = {}
    for _ in range(rng.randint(1, 4)):
        regions = rng.sample(REGIONS, rng.choice((1, 1, 2)))
        environments[_token(rng, 2, 12)] = {"account_id": rng.choice(accounts), "regions": regions}
    pool = dict(SAMPLE_MICROSERVICES)
    for _ in range(3):
        pool[_token(rng, 1, 20, hyphen=True)] = _token(rng, 1, 12, hyphen=True)
    microservices = dict(rng.sample(sorted(pool.items()), rng.randint(1, len(pool))))
    return case(
        _token(rng, 1, 8, hyphen=True),
        _token(rng, 1, 8, hyphen=True),
        environments,
        microservices,
        delivery_region=rng.choice(REGIONS),
        delivery_environment=_token(rng, 2, 12),
    )


_rng = random.Random(20240611)
CASES: dict[str, NamingInputs] = {
    **HAND_PICKED,
    **{f"random-{i:02d}": random_case(_rng) for i in range(40)},
}


# ---------------------------------------------------------------------------
# Terraform: every configuration in one run
# ---------------------------------------------------------------------------
ROOT_MODULE = """
variable "cases" {
  type = map(object({
    company       = string
    service       = string
    delivery      = object({ environment = string, account_id = string, region = string })
    microservices = map(object({ short_name = string }))
    environments  = map(object({ account_id = string, regions = list(string) }))
  }))
}

module "n" {
  source   = "%s"
  for_each = var.cases

  company       = each.value.company
  service       = each.value.service
  delivery      = each.value.delivery
  microservices = each.value.microservices
  environments  = each.value.environments
}

output "names" {
  value = module.n
}
"""


def _terraform_cases() -> dict[str, Any]:
    """The cases as the module takes them (``microservices``: name -> {short_name})."""
    return {
        key: {
            **inputs,
            "microservices": {n: {"short_name": s} for n, s in inputs["microservices"].items()},
        }
        for key, inputs in CASES.items()
    }


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``module.n`` after one apply: the three outputs of each configuration, by case."""
    work = tmp_path_factory.mktemp("naming-parity")
    (work / "main.tf").write_text(ROOT_MODULE % MODULE)
    (work / "terraform.tfvars.json").write_text(json.dumps({"cases": _terraform_cases()}))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "TF_DATA_DIR": str(work / ".terraform"),
        "TF_CLI_CONFIG_FILE": "/dev/null",
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
    }
    binary = str(find_binary(SAMPLE.terraform.binary))

    def tf(*args: str) -> str:
        result = subprocess.run(
            [binary, f"-chdir={work}", *args, "-no-color"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"terraform {args[0]}:\n{result.stderr[-4000:]}"
        return result.stdout

    tf("init", "-input=false")
    tf("apply", "-auto-approve", "-input=false")
    names: dict[str, Any] = json.loads(tf("output", "-json", "names"))
    return names


def differences(terraform: Any, python: Any, path: str) -> list[str]:
    """Every path at which the two differ: keys on one side only, or different values."""
    if isinstance(terraform, dict) and isinstance(python, dict):
        found = [f"{path}.{k}: only in Terraform" for k in sorted(terraform.keys() - python)]
        found += [f"{path}.{k}: only in Python" for k in sorted(python.keys() - terraform)]
        for k in sorted(terraform.keys() & python.keys()):
            found += differences(terraform[k], python[k], f"{path}.{k}")
        return found
    if isinstance(terraform, list) and isinstance(python, list) and len(terraform) == len(python):
        found = []
        for i, (t, p) in enumerate(zip(terraform, python, strict=True)):
            found += differences(t, p, f"{path}[{i}]")
        return found
    if type(terraform) is not type(python) or terraform != python:
        return [f"{path}: Terraform {terraform!r} != Python {python!r}"]
    return []


def report(found: list[str], limit: int = 60) -> str:
    more = f"\n... and {len(found) - limit} more" if len(found) > limit else ""
    return f"{len(found)} differences:\n" + "\n".join(found[:limit]) + more


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------
def test_the_cases_reach_the_edges() -> None:
    """The configurations hold what the comparison is meant to cover."""
    boundary = Names.build(**BOUNDARY)
    capped = [
        name
        for target in boundary.targets.values()
        for s in target.services.values()
        for name in (s.alb_name, s.target_group_names.blue, s.target_group_names.green)
    ]
    assert max(map(len, capped)) == MAX_ELB_NAME
    assert LoadBalancerNames.of("acmecorp-shop-staging", "auth").all() == (
        "acmecorp-shop-staging-auth-alb",
        "acmecorp-shop-staging-auth-blue",
        "acmecorp-shop-staging-auth-green",
    )
    region_counts = {len(e["regions"]) for c in CASES.values() for e in c["environments"].values()}
    assert {1, 2} <= region_counts
    assert any(len(c["environments"]) > 2 for c in CASES.values())
    assert any(len(c["microservices"]) > 3 for c in CASES.values())
    for microservice, short_name in SAMPLE_MICROSERVICES.items():
        assert sum(c["microservices"].get(microservice) == short_name for c in CASES.values()) > 5


def test_python_gives_the_names_terraform_gives(rendered: dict[str, Any]) -> None:
    assert sorted(rendered) == sorted(CASES)
    found: list[str] = []
    for key, inputs in CASES.items():
        found += differences(rendered[key], naming(**inputs), key)
    assert not found, report(found)


def test_the_sample_configuration_names_as_the_delivery_stack(rendered: dict[str, Any]) -> None:
    names = Names.from_config(SAMPLE)
    assert config_inputs(SAMPLE) == delivery_stack_inputs(SAMPLE)
    found = differences(names.outputs(), naming(**delivery_stack_inputs(SAMPLE)), "python")
    found += differences(rendered["sample-delivery"], names.outputs(), "sample-delivery")
    assert not found, report(found)


def test_the_typed_names_of_the_sample_configuration() -> None:
    names = Names.from_config(SAMPLE)
    prod = SAMPLE.environment("prod")
    assert names.target("prod", prod.regions[1].name).is_primary is False
    api = names.service("prod", "us-west-2", "api-service")
    prefix = name_prefix(SAMPLE.company, SAMPLE.service, "prod")
    assert api.deployment_group_name == f"{prefix}-api-service"
    assert api.target_group_names.green == f"{prefix}-api-green"
    assert names.target("prod", "us-west-2").parameters_kms_alias == f"alias/{prefix}-parameters"
    assert names.delivery.state_bucket == SAMPLE.state.bucket
    with pytest.raises(KeyError, match="prod-eu-west-1"):
        names.target("prod", "eu-west-1")
