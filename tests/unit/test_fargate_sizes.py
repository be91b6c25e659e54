"""Fargate's task sizes are one table for Terraform and one for Python, held equal."""

from __future__ import annotations

import json
from pathlib import Path

from deployer.config import FARGATE_SIZES

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "modules" / "task-definition" / "fargate-sizes.json"


def test_the_deployer_and_the_modules_allow_the_same_sizes() -> None:
    terraform = json.loads(TABLE.read_text())["memory_by_cpu"]
    assert {int(cpu): tuple(memory) for cpu, memory in terraform.items()} == FARGATE_SIZES


def test_both_modules_read_the_one_table() -> None:
    for module in ("task-definition", "ecs-service"):
        text = (ROOT / "modules" / module / "main.tf").read_text()
        assert "fargate-sizes.json" in text, module
        assert "16384" not in text, f"{module} writes Fargate sizes of its own"
