"""``deployer ci github``: the GitHub Actions workflows generated from the configuration.

The golden copies in tests/unit/golden/github/ pin the sample configuration's workflows
(environments/ with ``ci.github.repository: acme/shop-platform``). After a deliberate
change to the templates, regenerate them with
``DEPLOYER_UPDATE_GOLDEN=1 bin/test tests/unit/test_ci_github.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployer import ci_github, cli
from deployer.config import load
from deployer.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError
from deployer.summary import MARKER

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GOLDEN = Path(__file__).parent / "golden" / "github"
SAMPLE_CI = {"github": {"repository": "acme/shop-platform"}}


def make_project(root: Path, ci: dict[str, Any] | None = SAMPLE_CI) -> Path:
    """A copy of the sample environments/, with ``ci`` set (or removed) in project.yaml."""
    shutil.copytree(
        ROOT / "environments", root / "environments", ignore=shutil.ignore_patterns("stacks")
    )
    project = root / "environments" / "project.yaml"
    doc = yaml.safe_load(project.read_text())
    doc.pop("ci", None)
    if ci is not None:
        doc["ci"] = ci
    project.write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


def edit_yaml(path: Path, **changes: Any) -> None:
    doc = yaml.safe_load(path.read_text())
    doc.update(changes)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_project(tmp_path / "repo")
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(root))
    monkeypatch.setenv("DEPLOYER_STATE_DIR", str(tmp_path / "state"))
    return root


@pytest.fixture
def renamed(tmp_path: Path) -> Path:
    """Other names for every role: delivery is 'tools', staging 'preprod', production
    'live'; two environments outside the pipeline ('qa', and 'dev' without approval);
    another repository and branch."""
    root = make_project(
        tmp_path / "renamed",
        ci={"github": {"repository": "example-org/platform", "branch": "release"}},
    )
    envs = root / "environments"
    (envs / "delivery.yaml").rename(envs / "tools.yaml")
    (envs / "staging.yaml").rename(envs / "preprod.yaml")
    (envs / "prod.yaml").rename(envs / "live.yaml")
    qa = yaml.safe_load((envs / "dev.yaml").read_text())
    qa["account_id"] = "555555555555"
    qa["regions"] = [{"name": "eu-west-1", "cidr": "10.40.0.0/16"}]
    (envs / "qa.yaml").write_text(yaml.safe_dump(qa, sort_keys=False))
    edit_yaml(envs / "dev.yaml", approval="none")
    doc = yaml.safe_load((envs / "project.yaml").read_text())
    doc["delivery_environment"] = "tools"
    doc["pipeline"].update(staging="preprod", production="live")
    doc["terraform"]["state"]["region"] = "eu-west-1"
    (envs / "project.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


def parse(text: str) -> dict[Any, Any]:
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    doc["on"] = doc.pop(True)  # YAML 1.1 reads the key `on` as true
    return doc


# ---------------------------------------------------------------------------
# What is generated
# ---------------------------------------------------------------------------
def test_the_sample_configuration_gives_the_golden_workflows(tmp_path: Path) -> None:
    files = ci_github.render(load(make_project(tmp_path)))

    if os.environ.get("DEPLOYER_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (GOLDEN / name).write_text(content)
    assert sorted(files) == sorted(p.name for p in GOLDEN.glob("*.yml"))
    for name, content in files.items():
        assert content == (GOLDEN / name).read_text(), (
            f"{name} differs from tests/unit/golden/github/{name}: regenerate with "
            "DEPLOYER_UPDATE_GOLDEN=1 and review the diff"
        )


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    config = load(make_project(tmp_path))
    assert ci_github.render(config) == ci_github.render(config)


def test_every_file_has_the_header_and_pinned_actions(tmp_path: Path) -> None:
    for name, content in ci_github.render(load(make_project(tmp_path))).items():
        assert content.splitlines()[0] == ci_github.HEADER, name
        for line in content.splitlines():
            if "uses:" in line:
                action = line.split("uses:", 1)[1].strip()
                assert action in ci_github.ACTIONS.values(), (name, action)
                assert action.rsplit("@", 1)[1].startswith("v"), (name, action)


@pytest.mark.parametrize("config_name", ["sample", "renamed"])
def test_the_workflows_pass_actionlint_and_shellcheck(
    config_name: str, tmp_path: Path, renamed: Path
) -> None:
    root = renamed if config_name == "renamed" else make_project(tmp_path / "sample")
    files = ci_github.render(load(root))
    out = tmp_path / "lint" / ".github" / "workflows"
    ci_github.write(files, out)
    actionlint, shellcheck = BIN / "actionlint", BIN / "shellcheck"
    assert actionlint.exists() and shellcheck.exists(), "pip install -e '.[test]'"

    result = subprocess.run(
        [
            str(actionlint),
            "-no-color",
            f"-shellcheck={shellcheck}",
            *sorted(map(str, out.iterdir())),
        ],
        cwd=out.parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_plan_workflow_plans_each_selected_workspace_and_comments_once(
    tmp_path: Path,
) -> None:
    doc = parse(ci_github.render(load(make_project(tmp_path)))["deployer-plan.yml"])
    jobs = doc["jobs"]

    assert doc["on"] == {"pull_request": {"branches": ["main"]}}
    select_run = jobs["select"]["steps"][-1]["run"]
    assert 'deployer plan --changed "$BASE_SHA" --matrix' in select_run
    assert jobs["select"]["steps"][-1]["env"]["BASE_SHA"] == (
        "${{ github.event.pull_request.base.sha }}"
    )
    assert jobs["select"]["steps"][0]["with"]["fetch-depth"] == 0

    plan = jobs["plan"]
    assert plan["needs"] == "select"
    assert plan["if"] == "needs.select.outputs.matrix != '[]'"
    assert plan["strategy"] == {
        "fail-fast": False,
        "matrix": {"include": "${{ fromJSON(needs.select.outputs.matrix) }}"},
    }
    assert plan["concurrency"] == {
        "group": "deployer-${{ matrix.workspace }}",
        "cancel-in-progress": False,
    }
    assert plan["permissions"] == {"contents": "read", "id-token": "write"}
    credentials = next(s for s in plan["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert credentials["with"] == {
        "role-to-assume": "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-plan",
        "aws-region": "us-east-1",
    }

    comment = jobs["comment"]
    assert comment["needs"] == ["select", "plan"]
    assert comment["if"] == "always() && needs.select.result == 'success'"
    assert comment["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert MARKER in comment["steps"][-1]["with"]["script"]


def test_the_apply_workflow_runs_the_environments_in_pipeline_order(tmp_path: Path) -> None:
    doc = parse(ci_github.render(load(make_project(tmp_path)))["deployer-apply.yml"])

    assert doc["on"] == {"push": {"branches": ["main"]}}
    assert list(doc["jobs"]) == ["apply-delivery", "apply-dev", "apply-staging", "apply-prod"]
    prod = doc["jobs"]["apply-prod"]
    assert prod["needs"] == "apply-staging"
    assert prod["environment"] == "prod"
    assert prod["concurrency"] == {"group": "deployer-apply-prod", "cancel-in-progress": False}
    assert "deployer apply prod --auto-approve" in prod["steps"][-1]["run"]
    assert "(us-east-1, us-west-2)" in prod["steps"][-1]["run"]
    credentials = next(s for s in prod["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert credentials["with"]["role-to-assume"] == (
        "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-apply"
    )
    # No approval setting: required on AWS, so every job waits in its GitHub Environment.
    assert all(job.get("environment") for job in doc["jobs"].values())


def test_order_and_gating_follow_the_roles_not_the_names(renamed: Path) -> None:
    config = load(renamed)
    files = ci_github.render(config)
    apply = parse(files["deployer-apply.yml"])
    jobs = apply["jobs"]

    # delivery first, the environments outside the pipeline by name, staging, production
    assert list(jobs) == ["apply-tools", "apply-dev", "apply-qa", "apply-preprod", "apply-live"]
    assert [job.get("needs") for job in jobs.values()] == [
        None,
        "apply-tools",
        "apply-dev",
        "apply-qa",
        "apply-preprod",
    ]
    # dev says approval: none; the others need approval on AWS (live by its pipeline role)
    assert "environment" not in jobs["apply-dev"]
    assert {name: job.get("environment") for name, job in jobs.items() if name != "apply-dev"} == {
        "apply-tools": "tools",
        "apply-qa": "qa",
        "apply-preprod": "preprod",
        "apply-live": "live",
    }
    assert "deployer apply live --auto-approve" in jobs["apply-live"]["steps"][-1]["run"]
    assert "deployer apply qa --auto-approve" in jobs["apply-qa"]["steps"][-1]["run"]
    assert "(eu-west-1)" in jobs["apply-qa"]["steps"][-1]["run"]
    assert apply["on"] == {"push": {"branches": ["release"]}}
    credentials = next(
        s for s in jobs["apply-live"]["steps"] if "configure-aws-credentials" in s.get("uses", "")
    )
    assert credentials["with"] == {
        "role-to-assume": "arn:aws:iam::111111111111:role/acme-shop-tools-ci-apply",
        "aws-region": "eu-west-1",
    }
    # the repository guards every workflow (a fork has no OIDC trust)
    for name, content in files.items():
        assert "'example-org/platform'" in content, name
        assert "acme/shop-platform" not in content, name
    plan = parse(files["deployer-plan.yml"])
    assert plan["on"] == {"pull_request": {"branches": ["release"]}}
    drift = parse(files["deployer-drift.yml"])
    assert drift["jobs"]["drift"]["steps"][0]["with"] == {"ref": "release"}


def test_the_drift_workflow_runs_daily_and_on_demand(tmp_path: Path) -> None:
    doc = parse(ci_github.render(load(make_project(tmp_path)))["deployer-drift.yml"])

    assert doc["on"] == {"schedule": [{"cron": ci_github.DRIFT_CRON}], "workflow_dispatch": None}
    job = doc["jobs"]["drift"]
    assert "deployer drift --all --read-only --summary-md drift.md" in job["steps"][-1]["run"]
    credentials = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert credentials["with"]["role-to-assume"].endswith(":role/acme-shop-delivery-ci-plan")


def test_a_branch_that_yaml_would_read_as_a_number_is_quoted(tmp_path: Path) -> None:
    root = make_project(tmp_path, ci={"github": {"repository": "acme/x", "branch": "1.0"}})
    files = ci_github.render(load(root))
    assert parse(files["deployer-apply.yml"])["on"] == {"push": {"branches": ["1.0"]}}
    assert parse(files["deployer-drift.yml"])["jobs"]["drift"]["steps"][0]["with"] == {"ref": "1.0"}


# ---------------------------------------------------------------------------
# The scripts the workflows run, with a stand-in deployer
# ---------------------------------------------------------------------------
def run_step(script: str, tmp_path: Path, deployer: str, env: dict[str, str]) -> tuple[int, Path]:
    """Run a step's script as GitHub runs it (bash -eo pipefail), with `deployer` faked."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    fake = fake_bin / "deployer"
    fake.write_text("#!/usr/bin/env bash\n" + deployer)
    fake.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (work / "step.sh").write_text(script)
    summary = tmp_path / "step-summary.md"
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "step.sh"],
        cwd=work,
        env={
            "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(tmp_path / "output"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, work


def step_run(doc: dict[Any, Any], job: str, name_prefix: str) -> str:
    step = next(s for s in doc["jobs"][job]["steps"] if s.get("name", "").startswith(name_prefix))
    run = step["run"]
    assert isinstance(run, str)
    return run


PLAN_ENV = {
    "ENVIRONMENT": "prod",
    "REGION": "us-west-2",
    "WORKSPACE": "prod-us-west-2",
    "RUN_URL": "https://github.example/run/1",
}


@pytest.mark.parametrize(
    ("deployer_exit", "step_exit"),
    [(0, 0), (3, 0), (4, 4), (1, 1), (2, 2)],
    ids=["no-changes", "changes-pass", "partial-fails", "failure-fails", "usage-fails"],
)
def test_the_plan_step_passes_on_changes_and_fails_on_failures(
    deployer_exit: int, step_exit: int, tmp_path: Path
) -> None:
    doc = parse(ci_github.render(load(make_project(tmp_path / "p")))["deployer-plan.yml"])
    script = step_run(doc, "plan", "deployer plan")
    fake = (
        '[ "$1 $2 $3 $4 $5 $6" = "plan prod --region us-west-2 --read-only --detailed-exitcode" ] '
        "|| exit 99\n"
        f'printf "## plan of %s\\n" "$2" > "$8"\nexit {deployer_exit}\n'
    )

    code, work = run_step(script, tmp_path, fake, PLAN_ENV)

    assert code == step_exit
    assert (work / "result" / "exit-code").read_text().strip() == str(deployer_exit)
    assert (work / "result" / "summary.md").read_text() == "## plan of prod\n"
    assert "## plan of prod" in (tmp_path / "step-summary.md").read_text()


def test_a_plan_that_fails_before_its_summary_still_reports(tmp_path: Path) -> None:
    doc = parse(ci_github.render(load(make_project(tmp_path / "p")))["deployer-plan.yml"])

    code, work = run_step(step_run(doc, "plan", "deployer plan"), tmp_path, "exit 1\n", PLAN_ENV)

    assert code == 1
    summary = (work / "result" / "summary.md").read_text()
    assert "prod-us-west-2" in summary and "exit 1" in summary and PLAN_ENV["RUN_URL"] in summary


@pytest.mark.parametrize("printed", ["[]", '[\n  {"workspace": "dev-us-east-1"}\n]'])
def test_the_select_step_outputs_the_matrix_on_one_line(printed: str, tmp_path: Path) -> None:
    doc = parse(ci_github.render(load(make_project(tmp_path / "p")))["deployer-plan.yml"])
    fake = (
        f'[ "$*" = "plan --changed abc123 --matrix" ] || exit 99\ncat <<\'EOF\'\n{printed}\nEOF\n'
    )

    code, _ = run_step(step_run(doc, "select", "Select"), tmp_path, fake, {"BASE_SHA": "abc123"})

    assert code == 0
    output = (tmp_path / "output").read_text()
    assert output == f"matrix={json.dumps(json.loads(printed), separators=(',', ':'))}\n"


def test_a_failing_selection_fails_the_step(tmp_path: Path) -> None:
    doc = parse(ci_github.render(load(make_project(tmp_path / "p")))["deployer-plan.yml"])
    code, _ = run_step(step_run(doc, "select", "Select"), tmp_path, "exit 2\n", {"BASE_SHA": "x"})
    assert code != 0


@pytest.mark.parametrize(("deployer_exit", "step_exit"), [(0, 0), (3, 3), (1, 1)])
def test_drift_fails_the_drift_job(deployer_exit: int, step_exit: int, tmp_path: Path) -> None:
    doc = parse(ci_github.render(load(make_project(tmp_path / "p")))["deployer-drift.yml"])
    fake = (
        '[ "$1 $2 $3 $4" = "drift --all --read-only --summary-md" ] || exit 99\n'
        f'echo "drift report" > "$5"\nexit {deployer_exit}\n'
    )

    code, _ = run_step(step_run(doc, "drift", "deployer drift"), tmp_path, fake, {})

    assert code == step_exit
    assert "drift report" in (tmp_path / "step-summary.md").read_text()


@pytest.mark.parametrize(("deployer_exit", "step_exit"), [(0, 0), (1, 1), (4, 4)])
def test_the_apply_step_fails_with_the_apply(
    deployer_exit: int, step_exit: int, tmp_path: Path
) -> None:
    doc = parse(ci_github.render(load(make_project(tmp_path / "p")))["deployer-apply.yml"])
    fake = (
        '[ "$*" = "apply staging --auto-approve" ] || exit 99\n'
        f'echo "applied $2"\nexit {deployer_exit}\n'
    )

    code, _ = run_step(step_run(doc, "apply-staging", "deployer apply"), tmp_path, fake, {})

    assert code == step_exit
    assert "applied staging" in (tmp_path / "step-summary.md").read_text()


# ---------------------------------------------------------------------------
# The pull request comment (actions/github-script), run with node and a fake API
# ---------------------------------------------------------------------------
HARNESS = """
const fs = require('fs');
const [scriptFile, stateFile] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const calls = [];
const github = {
  paginate: async (method, args) => { calls.push({ op: 'list', ...args }); return state.comments; },
  rest: { issues: {
    listComments: () => { throw new Error('called through paginate only'); },
    updateComment: async (args) => { calls.push({ op: 'update', ...args }); },
    createComment: async (args) => { calls.push({ op: 'create', ...args }); },
  } },
};
const context = {
  repo: { owner: 'acme', repo: 'shop-platform' },
  payload: { pull_request: { number: 7, head: { sha: '0123456789abcdef' } } },
};
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
new AsyncFunction('github', 'context', 'require', fs.readFileSync(scriptFile, 'utf8'))(
  github, context, require,
).then(() => console.log(JSON.stringify(calls)), (e) => { console.error(e); process.exit(1); });
"""


def run_comment(
    tmp_path: Path,
    matrix: list[dict[str, Any]],
    results: dict[str, tuple[int, str]],
    comments: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (actions/github-script runs the comment on Node)")
    doc = parse(ci_github.render(load(make_project(tmp_path / "p")))["deployer-plan.yml"])
    script = doc["jobs"]["comment"]["steps"][-1]["with"]["script"]
    work = tmp_path / "work"
    for workspace, (code, summary) in results.items():
        artifact = work / "plans" / f"deployer-plan-{workspace}"
        artifact.mkdir(parents=True)
        (artifact / "exit-code").write_text(f"{code}\n")
        (artifact / "summary.md").write_text(summary)
    work.mkdir(exist_ok=True)
    (work / "script.js").write_text(script)
    (work / "harness.js").write_text(HARNESS)
    (work / "state.json").write_text(json.dumps({"comments": comments}))
    result = subprocess.run(
        [node, "harness.js", "script.js", "state.json"],
        cwd=work,
        env={**os.environ, "MATRIX": json.dumps(matrix), "RUN_URL": "https://run/1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    calls: list[dict[str, Any]] = json.loads(result.stdout)
    return calls


def selected(workspace: str, *reasons: str) -> dict[str, Any]:
    env, region = workspace.split("-", 1)
    return {"environment": env, "region": region, "workspace": workspace, "reasons": reasons}


def test_the_comment_tells_each_workspaces_result_and_updates_its_own_comment(
    tmp_path: Path,
) -> None:
    matrix = [
        selected("prod-us-east-1", "environments/prod.yaml: sizing.cpu"),
        selected("prod-us-west-2", "module ecs-service"),
        selected("staging-us-east-1", "stack runtime"),
        selected("dev-us-east-1", "stack runtime"),
        selected("delivery-us-east-1", "stack delivery"),
    ]
    results = {
        "prod-us-east-1": (3, f"{MARKER}\n## plan prod\n2 to change\n"),
        "prod-us-west-2": (0, f"{MARKER}\n## plan prod west\nno changes\n"),
        "staging-us-east-1": (4, "## staging\nfailed\n"),
        "dev-us-east-1": (1, "## dev\nfailed\n"),
        # delivery-us-east-1: no artifact (its job was cancelled)
    }
    ours = {"id": 11, "user": {"type": "Bot"}, "body": f"{MARKER}\nold"}
    quoted = {"id": 10, "user": {"type": "User"}, "body": f"> {MARKER}"}

    calls = run_comment(tmp_path, matrix, results, [quoted, ours])

    assert [c["op"] for c in calls] == ["list", "update"]
    update = calls[1]
    assert update["comment_id"] == 11
    body = update["body"]
    assert body.startswith(f"{MARKER}\n## deployer plan\n")
    assert body.count(MARKER) == 1  # the summaries' own markers are dropped
    assert "5 workspace(s) planned at 0123456" in body and "**3 failed or unfinished**" in body
    assert "| prod-us-east-1 | changes | environments/prod.yaml: sizing.cpu |" in body
    assert "| prod-us-west-2 | no changes | module ecs-service |" in body
    assert "| staging-us-east-1 | failed (exit 4: some regions failed) |" in body
    assert "| dev-us-east-1 | failed (exit 1) |" in body
    assert "| delivery-us-east-1 | no result (the job did not finish) |" in body
    assert "## plan prod\n2 to change" in body


def test_with_nothing_selected_the_comment_says_so(tmp_path: Path) -> None:
    calls = run_comment(tmp_path, [], {}, [])

    assert [c["op"] for c in calls] == ["list", "create"]
    assert calls[1]["issue_number"] == 7
    assert calls[1]["body"].startswith(MARKER)
    assert "Nothing to plan at 0123456" in calls[1]["body"]


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------
def test_without_ci_github_the_command_says_what_to_add(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "repo", ci=None)
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(root))

    assert cli.main(["ci", "github"]) == EXIT_USAGE

    err = capsys.readouterr().err
    assert "ci.github is not configured in environments/project.yaml" in err
    assert "repository: OWNER/REPO" in err
    assert not (root / ".github").exists()
    with pytest.raises(UsageError):
        ci_github.render(load(root))


def test_the_command_writes_the_workflows_and_reports_each(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["ci", "github", "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)

    out = project / ".github" / "workflows"
    assert doc["directory"] == str(out)
    assert doc["files"] == [
        {"path": str(out / name), "status": "written"} for name in ci_github.WORKFLOWS
    ]
    for name in ci_github.WORKFLOWS:
        assert (out / name).read_text() == (GOLDEN / name).read_text()

    assert cli.main(["ci", "github"]) == EXIT_OK
    text = capsys.readouterr().out
    assert text.count("unchanged") == 3


def test_dir_puts_the_workflows_elsewhere(project: Path, tmp_path: Path) -> None:
    assert cli.main(["ci", "github", "--dir", str(tmp_path / "elsewhere")]) == EXIT_OK
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == sorted(ci_github.WORKFLOWS)
    assert not (project / ".github").exists()


def test_check_names_the_files_that_differ_and_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = project / ".github" / "workflows"
    assert cli.main(["ci", "github", "--check"]) == EXIT_FAILURE
    assert "deployer-plan.yml (missing)" in capsys.readouterr().err
    assert not out.exists()

    assert cli.main(["ci", "github"]) == EXIT_OK
    assert cli.main(["ci", "github", "--check"]) == EXIT_OK
    capsys.readouterr()

    edited = out / "deployer-apply.yml"
    edited.write_text(edited.read_text().replace("deployer apply prod", "deployer apply qa"))
    (out / "deployer-drift.yml").unlink()
    assert cli.main(["ci", "github", "--check"]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert f"{edited} (differs)" in err
    assert f"{out / 'deployer-drift.yml'} (missing)" in err
    assert "deployer-plan.yml" not in err
    assert "deployer apply qa" in edited.read_text()  # --check wrote nothing

    # a configuration change makes the committed workflows stale
    assert cli.main(["ci", "github"]) == EXIT_OK
    edit_yaml(project / "environments" / "dev.yaml", approval="none")
    assert cli.main(["ci", "github", "--check"]) == EXIT_FAILURE
    assert "deployer-apply.yml (differs)" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Packaging: `pip install .` (what the workflows run) carries the templates
# ---------------------------------------------------------------------------
def test_the_templates_are_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["deployer"]
    package = ROOT / "deployer"
    templates = sorted(p.relative_to(package).as_posix() for p in ci_github.TEMPLATES.iterdir())
    assert templates, "no templates found"
    for template in templates:
        assert any(fnmatch(template, pattern) for pattern in patterns), template


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["ci", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and "deployer ci github --check" in out
