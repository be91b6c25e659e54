"""Every validation of the modules has a test that breaks exactly its rule.

The house rule: deleting a validation makes one of its module's terraform tests
fail. ``bin/check-validations`` (tests/validation_mutants.py) checks it by
deleting each validation in turn. All 263 took about 7 minutes module by module
(``--module`` each, 2 jobs, on a 2-core machine shared with other work; 219 took
about 4 minutes at once on a quiet one, about 6 CPU-minutes), too long for every
run of the suite (one validation per module already cost 80 CPU-seconds). A run
may break one rule of each of several variables (the modules' validation tests
merge runs so, for CI time: 314 runs became 121); the check and ``--runs`` look
at each variable on its own. So the terraform test here checks every
validation of the two variables the full check once found uncaught
(ecs-service's ``microservice``, whose short-name test also broke the
32-character rule; pipeline's ``artifact_stores``, whose region-key test also
broke the key-region and deploy-region rules), and the quick tests below check
that every validation has a run expecting its variable to fail. Run
``bin/check-validations`` for all of them after changing a module's
validations, ``bin/check-validations --runs`` to see which rules each run's
input breaks.

The other tests need no Terraform: the scanner finds every validation block,
every validation has a run that expects its variable to fail, and the verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import pytest

from deployer.toolchain import Toolchain
from tests import validation_mutants as vm

ROOT = Path(__file__).resolve().parents[2]

#: The variables the full check once found uncaught, checked whole on every run.
ALWAYS = {("ecs-service", "microservice"), ("pipeline", "artifact_stores")}


def test_the_scanner_finds_every_validation_block() -> None:
    found = vm.discover()
    for path in sorted((ROOT / "modules").glob("*/variables.tf")):
        text = path.read_text()
        mine = [v for v in found if v.module == path.parent.name]
        assert len(mine) == len(re.findall(r"^\s*validation\s*\{", text, re.MULTILINE)), path
        for v in mine:
            block = text[v.start : v.end]
            assert block.lstrip().startswith("validation {") and block.rstrip().endswith("}")
            assert "condition" in block and v.message, v.name
            vm.blocks(text[: v.start] + text[v.end :])  # what is left still parses
    assert len(found) > 200


def test_the_scanner_skips_braces_in_strings_heredocs_and_comments() -> None:
    text = """
variable "a" {
  description = <<-EOT
    An unbalanced } brace { in a heredoc.
  EOT
  # validation { in a comment
  default = "${jsonencode({ x = "}" })} $${literal"

  validation {
    condition     = can(regex("^[a-z]{2}$", var.a)) /* } */
    error_message = "The a must be \\"two\\" letters {."
  }

  validation {
    condition     = length(var.a) < 3 // }
    error_message = "Short."
  }
}
"""
    validations = vm.parse_validations_text("m", text)
    assert [(v.variable, v.index, v.message) for v in validations] == [
        ("a", 1, 'The a must be "two" letters {.'),
        ("a", 2, "Short."),
    ]


def test_every_validation_has_a_run_that_expects_its_variable_to_fail() -> None:
    missing = []
    for v in vm.discover():
        tests = vm.parse_tests(ROOT / "modules" / v.module)
        if not any(vm.runs_for(t, v.variable) for t in tests):
            missing.append(v.name)
    assert not missing, f"no run has expect_failures = [var.x] for: {missing}"


def test_the_sample_is_spread_and_stable() -> None:
    validations = vm.discover()
    sample = vm.spread(validations, 2)
    modules = {v.module for v in validations}
    assert {v.module for v in sample} == modules
    assert all(sum(v.module == m for v in sample) <= 2 for m in modules)
    assert sample == vm.spread(validations, 2)


def _run(name: str, variable: str) -> vm.Run:
    return vm.Run("validation.tftest.hcl", name, 0, 0, 0, frozenset({variable}), frozenset(), False)


def _validation() -> vm.Validation:
    return vm.Validation("m", "x", 1, 1, 0, 0, "The x must be short.")


def test_a_missing_expected_failure_is_caught_and_all_passing_is_not() -> None:
    runs = (_run("x_long", "x"), _run("x_bad", "x"))
    mutant = vm.Mutant("m", "x", (_validation(),), runs)
    missing = "Missing expected failure: The checkable object, var.x, was expected to ..."
    failed = vm.MutantResult(
        mutant,
        {
            ("validation.tftest.hcl", "x_long"): vm.RunResult("error", (missing,)),
            ("validation.tftest.hcl", "x_bad"): vm.RunResult("skip", ()),
        },
        1.0,
    )
    assert vm.judge(mutant, failed).status == vm.CAUGHT
    assert vm.judge(mutant, failed).detail == "x_long"
    passed = vm.MutantResult(
        mutant, {(r.file, r.name): vm.RunResult("pass", ()) for r in runs}, 1.0
    )
    assert vm.judge(mutant, passed).status == vm.NOT_CAUGHT
    incomplete = vm.MutantResult(mutant, {}, 0.0, "terraform test exited 1")
    assert vm.judge(mutant, incomplete).status == vm.ERROR


def test_another_failure_counts_only_if_the_run_passes_unmodified(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = _run("x_bad", "x")
    mutant = vm.Mutant("m", "x", (_validation(),), (run,))
    status = {"mutant": "fail", "unmodified": "pass"}

    def run_mutants(
        toolchain: Toolchain, mutants: Sequence[vm.Mutant], **_: object
    ) -> dict[vm.Mutant, vm.MutantResult]:
        found = status["mutant" if mutants[0].deleted else "unmodified"]
        result = vm.RunResult(found, ("Invalid function argument: ...",) if found != "pass" else ())
        return {m: vm.MutantResult(m, {(run.file, run.name): result}, 0.0) for m in mutants}

    monkeypatch.setattr(vm, "deletion_mutants", lambda *_, **__: [mutant])
    monkeypatch.setattr(vm, "run_mutants", run_mutants)
    toolchain = cast(Toolchain, None)
    assert vm.check(toolchain, mutant.deleted)[0].status == vm.CAUGHT
    status["unmodified"] = "fail"
    outcome = vm.check(toolchain, mutant.deleted)[0]
    assert outcome.status == vm.ERROR
    assert "fails with the module unmodified too" in outcome.detail


@pytest.mark.terraform
def test_each_sampled_validation_is_caught_by_a_test(toolchain: Toolchain) -> None:
    validations = vm.discover()
    sample = [v for v in validations if (v.module, v.variable) in ALWAYS]
    assert len({(v.module, v.variable) for v in sample}) == len(ALWAYS)
    outcomes = vm.check(toolchain, sample, jobs=2)
    assert len(outcomes) == len(sample)
    bad = [
        f"{o.validation.name} ({o.validation.message}): {o.status}: {o.detail}"
        for o in outcomes
        if o.status != vm.CAUGHT
    ]
    assert not bad, (
        "deleting these validations makes no test fail: give each a run whose input breaks "
        "exactly that rule (bin/check-validations --runs shows which rules each run breaks)\n"
        + "\n".join(bad)
    )
