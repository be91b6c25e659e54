"""Region fan-out: plan every region of an environment, gate, confirm, apply.

Each region is a ``Scope``. ``plan`` runs per region in parallel (bounded) and
leaves a plan file per workspace. ``converge`` is the one path of ``apply`` and
``destroy``: plan, the stateful-destroy gate (``deployer.gate``, in protected
environments), the confirmation the environment's policy asks for, then
``apply`` of exactly those plan files, never re-planning behind the user's back.
A region that fails does not hide the result of another.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deployer import gate, tfvars
from deployer.emulator.process import pid_alive
from deployer.errors import DeployerError, PlanRefused, StateLocked, TerraformError, UsageError
from deployer.output import Reporter
from deployer.project import Project
from deployer.scope import Scope
from deployer.state import StateRegionDown, StateStore
from deployer.terraform import Terraform
from deployer.toolchain import Toolchain
from deployer.workspaces import Workspace, backend_settings, render_backend_file, write_if_changed

if TYPE_CHECKING:
    # Imported where used: neither is needed before a plan's Terraform starts.
    from deployer import drift as drift_report
    from deployer import recovery
    from deployer.state_replica import Replica

#: Memory one workspace's run takes at its peak: Terraform, the AWS provider
#: plugin (started up to three times per plan) and their heaps (bench/scale).
WORKSPACE_MEMORY_GIB = 1.0


def default_parallelism(cores: int | None = None, available_gib: float | None = None) -> int:
    """Workspaces run at once when neither --parallelism nor terraform.parallelism says:
    one per core (a plan is CPU-bound), at most one per GiB of available memory, at least 1."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    if available_gib is None:
        available_gib = memory_gib().get("MemAvailable", UNKNOWN_AVAILABLE_GIB)
    return max(1, min(cores, int(available_gib // WORKSPACE_MEMORY_GIB)))


#: Written in a workspace's data directory once `terraform init` ran: what init
#: depended on (see Orchestrator._init_digest); when unchanged, init is skipped.
INIT_STAMP = "init.stamp"

#: A source changed less than this long ago makes the init stamp hold its content
#: digest only (see Orchestrator._init_signature).
RACY_SECONDS = 2

#: Available memory assumed when /proc/meminfo cannot be read: a small machine.
UNKNOWN_AVAILABLE_GIB = 2.0


def memory_gib() -> dict[str, float]:
    """MemTotal and MemAvailable from /proc/meminfo, in GiB (empty when unreadable)."""
    values: dict[str, float] = {}
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                key, _, rest = line.partition(":")
                if key in ("MemTotal", "MemAvailable"):
                    values[key] = int(rest.split()[0]) / (1024 * 1024)
    except OSError:
        pass
    return values


class RunStatus(StrEnum):
    """Where a region's run is (its JSON and table show the value)."""

    PENDING = "pending"
    PLANNED = "planned"
    NO_CHANGES = "no-changes"
    APPLIED = "applied"
    DESTROYED = "destroyed"
    FAILED = "failed"
    OK = "ok"  # outputs read
    DRIFTED = "drifted"
    NO_DRIFT = "no-drift"


#: Asks the user (question, why it is asked); raises when the answer is not yes.
Confirm = Callable[[str, str], None]


@dataclass
class RegionRun:
    scope: Scope
    tf: Terraform | None = None
    plan_file: Path | None = None
    has_changes: bool = False
    summary: dict[str, int] = field(default_factory=dict)
    status: RunStatus = RunStatus.PENDING
    error: DeployerError | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: The changes Terraform streamed while planning: the gate's input.
    changes: list[gate.Change] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    #: What a refresh-only plan found (``deployer drift``).
    drift: list[drift_report.ResourceDrift] = field(default_factory=list)

    @property
    def workspace(self) -> Workspace:
        return self.scope.workspace

    @property
    def region(self) -> str:
        return self.scope.region

    @property
    def failed(self) -> bool:
        return self.status is RunStatus.FAILED

    def to_json(self) -> dict[str, Any]:
        return {
            "workspace": self.workspace.name,
            "stack": self.workspace.stack,
            "region": self.region,
            "status": str(self.status),
            "changes": self.summary,
            "outputs": {k: v.get("value") for k, v in self.outputs.items()} if self.outputs else {},
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "error": str(self.error) if self.error else None,
            "adopted": self.adopted,
        }


def apply_running(lock: dict[str, str] | None) -> bool:
    """Whether Terraform's lock on a workspace's state says a run that changes it is under
    way. A plan's lock does not: plans take the lock too, this one's own included (the state
    checks run while this run's `terraform plan` holds it), and change nothing."""
    return lock is not None and lock.get("Operation") != "OperationTypePlan"


BACKEND_FILE = "backend.tfbackend"
VAR_FILE = "terraform.tfvars.json"


def write_workspace_files(
    scope: Scope, directory: Path, replica: Replica | None = None
) -> tuple[Path, Path]:
    """A workspace's backend settings and variables, as Terraform reads them
    (``init -backend-config=`` and ``plan -var-file=``); rewritten only on change.
    ``replica``: the state's replica stands in for the state bucket (its region is down)."""
    backend_file = directory / BACKEND_FILE
    write_if_changed(
        backend_file,
        render_backend_file(backend_settings(scope.config, scope.target, scope.workspace, replica)),
    )
    var_file = directory / VAR_FILE
    variables = tfvars.variables_for(scope.config, scope.env, scope.region, scope.target)
    write_if_changed(var_file, json.dumps(variables, indent=2, sort_keys=True) + "\n")
    return backend_file, var_file


#: How much nicer than the deployer's other threads its background checks run (Linux).
BACKGROUND_NICENESS = 10


def lower_priority() -> None:
    """Lower the calling thread's CPU priority by BACKGROUND_NICENESS, on Linux only,
    where a nice value belongs to a thread (setpriority(2), "BUGS": the thread ID is
    taken for the process ID). Elsewhere, or when refused, nothing changes."""
    if sys.platform != "linux":
        return
    try:
        thread = threading.get_native_id()
        niceness = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, niceness + BACKGROUND_NICENESS))
    except OSError:
        pass


def plan_path(data_dir: Path, kind: str) -> Path:
    """This process's plan file in a workspace's data directory.

    Per process, because two runs on one workspace share the directory: the
    second must fail on the state lock without touching the plan the first is
    applying. Plan files left by processes that are gone are removed.
    """
    for stale in data_dir.glob("*.tfplan"):
        pid = stale.stem.rpartition("-")[2]
        if not pid.isdigit() or not pid_alive(int(pid)):
            stale.unlink(missing_ok=True)
    return data_dir / f"{kind}-{os.getpid()}.tfplan"


class Orchestrator:
    def __init__(
        self,
        project: Project,
        toolchain: Toolchain,
        reporter: Reporter,
        *,
        parallelism: int | None = None,
        run_id: str | None = None,
        prepare_state: Callable[[], bool] | None = None,
        state_fallback: Callable[[StateRegionDown], Replica] | None = None,
    ) -> None:
        self.project = project
        self.toolchain = toolchain
        self.reporter = reporter
        self.parallelism = parallelism
        self.run_id = run_id or "unknown"
        # The state store's preparation (the state bucket checked, created when
        # missing: True) starts at once, in the background: a warm plan does not
        # need it before Terraform starts, and it costs the deployer's AWS
        # clients (boto3 imported, roles assumed) that Terraform's start-up
        # would otherwise wait for. Every other step waits for it first.
        # It starts when first waited for, or (a warm plan) once Terraform's process
        # has started: not before, where its Python work (botocore's import) would
        # hold the interpreter's lock while the deployer prepares Terraform's files.
        # A command with work of its own before Terraform starts it then (start_state).
        # Its thread runs at a lower CPU priority: the checks (botocore's import and
        # models, a role assumption, two requests: a few hundred ms of CPU) then take
        # the cores Terraform and its provider leave idle rather than theirs.
        self._background = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="state", initializer=lower_priority
        )
        self._prepare_state = prepare_state
        self._state_ready: concurrent.futures.Future[bool] | None = None
        self._state_lock = threading.Lock()
        # When the state bucket's region does not answer (StateRegionDown), the state's
        # replica in the DR region stands in for it, once ``state_fallback`` (it decides
        # whether this command may: deployer/state_replica.py ``fallback``) gives it.
        self._state_fallback = state_fallback
        self.replica: Replica | None = None
        self._replica_lock = threading.Lock()

    def close(self) -> None:
        """Wait for the background work (the state store's preparation) and end its thread.
        The preparation runs even when no step got to start it (a run that failed early)."""
        self.start_state()
        self._background.shutdown(wait=True)

    def start_state(self) -> None:
        """Start the state store's preparation in the background, once (later calls do
        nothing). Called before any background task that waits for it is queued (one
        worker: no deadlock)."""
        with self._state_lock:
            if self._state_ready is None and self._prepare_state is not None:
                self._state_ready = self._background.submit(self._prepare_state)

    def _wait_for_state(self) -> bool:
        """Wait for the state store's preparation (re-raising its error); True when the
        workspaces' backend changed under them: the state bucket was created, or its
        region is down and the replica stands in (``self.replica``)."""
        self.start_state()
        if self._state_ready is None:
            return False
        try:
            return self._state_ready.result()
        except StateRegionDown as down:
            with self._replica_lock:
                if self.replica is None:
                    if self._state_fallback is None:
                        raise
                    self.replica = self._state_fallback(down)
            return True

    def state_of(self, scope: Scope) -> StateStore:
        """The workspace's state store: in the state bucket, or in its replica."""
        if self.replica is None:
            return scope.state
        return StateStore(scope.config, scope.clients, scope.target, scope.workspace, self.replica)

    # -- setup ---------------------------------------------------------------------
    def _prepare(self, scope: Scope, *, overlap: bool = False) -> Terraform:
        """Write the workspace's files, init (serialised), select the workspace.

        ``overlap``: do not wait for the state store's preparation unless `init`
        has to run (a warm plan); the caller waits after Terraform.
        """
        if not overlap:
            self._wait_for_state()
        ws = scope.workspace
        stack_dir = self.project.stack_dir(ws.stack)
        if not (stack_dir / "versions.tf").is_file():
            raise UsageError(f"stack {ws.stack!r} not found at {stack_dir}")
        data_dir = ws.data_dir(self.project)
        data_dir.mkdir(parents=True, exist_ok=True)
        backend_file, _ = write_workspace_files(scope, data_dir, self.replica)
        tf = Terraform(
            self.toolchain, stack_dir, data_dir, scope.target.environ(), workspace=ws.name
        )
        # init and workspace selection cost a Terraform process each; skip them when
        # this data directory is already initialised for exactly this backend,
        # lock file, configuration, toolchain and emulator.
        stamp = data_dir / INIT_STAMP
        initialised = (data_dir / "terraform.tfstate").is_file()
        fresh = self._check_stamp(scope, backend_file, stamp if initialised else None)
        if fresh is not None:
            self._wait_for_state()
            stamp.unlink(missing_ok=True)
            self.reporter.progress("terraform init", scope=ws.name)
            tf.init(backend_file, on_line=lambda line: self.reporter.debug(line, scope=ws.name))
            stamp.write_text(fresh)
        else:
            self.reporter.detail("already initialised", scope=ws.name)
        selected = data_dir / "environment"
        if selected.is_file() and selected.read_text().strip() == ws.name:
            tf.workspace = ws.name
        else:
            tf.select_workspace(ws.name)
        return tf

    def _init_sources(self, scope: Scope) -> list[Path]:
        """The files `terraform init` reads: the stack's, its lock file, the modules'."""
        stack_dir = self.project.stack_dir(scope.workspace.stack)
        sources = sorted(stack_dir.glob("*.tf")) + sorted(stack_dir.glob(".terraform.lock.hcl"))
        return sources + sorted((self.project.root / "modules").glob("*/*.tf"))

    def _init_inputs(self, scope: Scope, backend_file: Path) -> hashlib._Hash:
        """The digest's common part: backend file, CLI configuration, toolchain, emulator."""
        digest = hashlib.sha256()
        digest.update(backend_file.read_bytes())
        digest.update(self.toolchain.cli_config.read_bytes())
        digest.update(self.toolchain.version_string.encode())
        digest.update(str(scope.target.endpoint).encode())
        return digest

    def _init_digest(self, scope: Scope, backend_file: Path) -> str:
        """What `terraform init` depends on: when it is unchanged, init is not rerun."""
        digest = self._init_inputs(scope, backend_file)
        for path in self._init_sources(scope):
            digest.update(str(path.relative_to(self.project.root)).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def _init_signature(self, scope: Scope, backend_file: Path) -> str | None:
        """The digest's cheap stand-in: the sources' stat (size, inode, modification and
        change times in ns) instead of their bytes, as git's index does. None when a
        source changed in the last RACY_SECONDS: a file system with coarse timestamps
        could hide a second change of the same size within that time (git's "racy"
        case), so such a stamp holds only the content digest."""
        digest = self._init_inputs(scope, backend_file)
        racy = time.time_ns() - RACY_SECONDS * 1_000_000_000
        for path in self._init_sources(scope):
            info = path.stat()
            if max(info.st_mtime_ns, info.st_ctime_ns) >= racy:
                return None
            digest.update(str(path.relative_to(self.project.root)).encode())
            digest.update(
                f":{info.st_size}:{info.st_ino}:{info.st_mtime_ns}:{info.st_ctime_ns}\n".encode()
            )
        return digest.hexdigest()

    def _check_stamp(self, scope: Scope, backend_file: Path, stamp: Path | None) -> str | None:
        """None when the init stamp holds: its stat signature matches (no source read),
        else its content digest does (the signature is then brought up to date).
        Otherwise the stamp to write once `init` has run, taken before it: the content
        digest, then the stat signature (empty when racy)."""
        signature = self._init_signature(scope, backend_file)
        try:
            recorded = stamp.read_text().splitlines() if stamp is not None else []
        except FileNotFoundError:
            recorded = []
        if recorded and signature is not None and recorded[1:2] == [signature]:
            return None
        digest = self._init_digest(scope, backend_file)
        if recorded[:1] == [digest]:
            if signature is not None and stamp is not None:
                stamp.write_text(f"{digest}\n{signature}\n")
            return None
        return f"{digest}\n{signature or ''}\n"

    def terraform_for(self, scope: Scope) -> Terraform:
        """An initialised runner for one workspace (for unlock and other one-offs)."""
        return self._prepare(scope)

    def _fan_out(self, runs: list[RegionRun], step: Callable[[RegionRun], None]) -> list[RegionRun]:
        def guarded(run: RegionRun) -> RegionRun:
            try:
                step(run)
            except StateLocked as exc:
                ws = run.workspace
                exc.hint = (
                    "wait for that run to finish; if it died, release the lock with "
                    f"`deployer unlock {ws.environment} --region {ws.region}`"
                )
                run.status = RunStatus.FAILED
                run.error = exc
                self.reporter.progress(f"failed: {exc.message}", scope=ws.name)
            except DeployerError as exc:
                run.status = RunStatus.FAILED
                run.error = exc
                self.reporter.progress(
                    f"failed: {exc.message.splitlines()[0]}", scope=run.workspace.name
                )
            return run

        if len(runs) == 1:
            return [guarded(runs[0])]
        config = runs[0].scope.config
        parallelism = self.parallelism or config.terraform.parallelism or default_parallelism()
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=min(parallelism, len(runs)), thread_name_prefix="region"
        ) as pool:
            return list(pool.map(guarded, runs))

    # -- plan ------------------------------------------------------------------------
    def plan(
        self,
        scopes: list[Scope],
        *,
        destroy: bool = False,
        adopt: bool = False,
    ) -> list[RegionRun]:
        """Plan each region. With ``adopt`` (apply), first recover from an earlier
        apply of the workspace that did not finish (see deployer.recovery)."""
        runs = [RegionRun(scope) for scope in scopes]
        # A plan alone only warns about what the state store says (an apply that did
        # not finish): its checks run while Terraform plans. Apply and destroy
        # decide on them first (adopt, or stop on a running apply).
        overlap = not adopt and not destroy

        def checks(run: RegionRun) -> str | None:
            """The state store's word on the workspace: the run ID of an apply that did
            not finish, or None. A marker with the state locked is an apply still
            running, not one that died: StateLocked."""
            from deployer import recovery

            started = time.monotonic()
            unfinished = self.state_of(run.scope).unfinished_run()
            if unfinished:
                lock = self.state_of(run.scope).current_lock()
                if apply_running(lock):
                    ws = run.workspace.name
                    raise StateLocked(["terraform", "plan"], 1, workspace=ws, lock=lock or {})
            else:
                recovery.remove_adoption_root(run.workspace.data_dir(self.project))
            run.seconds["checks"] = time.monotonic() - started
            return unfinished

        def step(run: RegionRun) -> None:
            started = time.monotonic()
            run.tf = self._prepare(run.scope, overlap=overlap)
            run.seconds["init"] = time.monotonic() - started
            if not overlap:
                unfinished = checks(run)
                if unfinished and not destroy:
                    run.tf = self._adopt(run, unfinished)
                self._plan(run, destroy=destroy)
                return
            pending: list[concurrent.futures.Future[tuple[bool, str | None]]] = []

            def start_checks() -> None:
                """Once Terraform runs (or failed to): the state store, then the checks."""
                if not pending:
                    self.start_state()
                    pending.append(
                        self._background.submit(lambda: (self._wait_for_state(), checks(run)))
                    )

            try:
                self._plan(run, destroy=destroy, on_start=start_checks)
            except DeployerError:
                start_checks()
                created, _ = pending[0].result()
                if not created:
                    raise
                # The state bucket was missing (a fresh emulator) and is there now, or
                # its region is down and the replica stands in: the workspace's
                # initialisation is stale. Once more, from init.
                why = "state bucket created" if self.replica is None else "state replica"
                self.reporter.progress(f"{why}: initialising again", scope=run.workspace.name)
                (run.tf.data_dir / INIT_STAMP).unlink(missing_ok=True)
                run.tf = self._prepare(run.scope)
                self._plan(run, destroy=destroy)
            start_checks()
            _, unfinished = pending[0].result()
            if unfinished:
                self.reporter.warn(
                    f"{run.workspace.name}: apply {unfinished} did not finish; the next "
                    f"`deployer apply {run.scope.env.name}` adopts what it left behind"
                )

        return self._fan_out(runs, step)

    def _plan(
        self, run: RegionRun, *, destroy: bool, on_start: Callable[[], None] | None = None
    ) -> None:
        """`terraform plan` into the run's plan file, its changes streamed to the gate.
        ``on_start``: called once Terraform's process has started."""
        ws = run.workspace
        assert run.tf is not None
        data_dir = ws.data_dir(self.project)
        run.plan_file = plan_path(data_dir, "destroy" if destroy else "apply")
        run.plan_file.unlink(missing_ok=True)
        run.changes.clear()
        run.summary = {}
        self.reporter.progress("terraform plan" + (" -destroy" if destroy else ""), scope=ws.name)
        started = time.monotonic()

        def on_message(msg: dict[str, Any]) -> None:
            self._plan_progress(ws, msg, run)

        run.has_changes = run.tf.plan(
            var_file=data_dir / VAR_FILE,
            out=run.plan_file,
            destroy=destroy,
            on_message=on_message,
            on_start=on_start,
        )
        run.seconds["plan"] = time.monotonic() - started
        # The gate reads the changes Terraform streamed while planning (type,
        # address, action), which saves a `terraform show -json` per region.
        if not run.summary:
            run.summary = summarise(run.changes)
        run.status = RunStatus.PLANNED if run.has_changes else RunStatus.NO_CHANGES
        self.reporter.progress(f"plan: {format_summary(run.summary)}", scope=ws.name)

    def _adopt(self, run: RegionRun, unfinished: str) -> Terraform:
        """Find what an interrupted apply created but never recorded; plan its import.

        Returns the runner to plan with: the workspace's own when nothing is to be
        adopted, else one on a copy of the stack with `import` blocks (planned with
        everything else, so the user sees them and exactly that plan is applied).
        """
        from deployer import recovery

        ws = run.workspace
        assert run.tf is not None
        data_dir = ws.data_dir(self.project)
        var_file = data_dir / VAR_FILE
        self.reporter.progress(
            f"apply {unfinished} did not finish here: looking for resources it created "
            "but did not record",
            scope=ws.name,
        )
        adoptions: dict[str, recovery.Adoption] = {}
        tf = run.tf
        # Each adoption can make more identities known (a VPC's id for its subnets).
        for _ in range(5):
            probe = plan_path(data_dir, "adopt")
            tf.plan(var_file=var_file, out=probe)
            plan = tf.show_plan(probe)
            probe.unlink(missing_ok=True)
            found = [a for a in recovery.candidates(plan, run.scope) if a.address not in adoptions]
            if not found:
                break
            for adoption in found:
                self.reporter.progress(
                    f"  will adopt {adoption.address} = {adoption.import_id}", scope=ws.name
                )
                adoptions[adoption.address] = adoption
            tf = self._adoption_runner(run.scope, list(adoptions.values()))
        run.adopted = sorted(adoptions)
        if not adoptions:
            self.reporter.progress("nothing to adopt", scope=ws.name)
        return tf

    def _adoption_runner(self, scope: Scope, adoptions: list[recovery.Adoption]) -> Terraform:
        from deployer import recovery

        ws = scope.workspace
        data_dir = ws.data_dir(self.project)
        root = recovery.adoption_root(
            self.project.root, self.project.stack_dir(ws.stack), data_dir, adoptions
        )
        tf = Terraform(
            self.toolchain, root, data_dir / "adopt-data", scope.target.environ(), workspace=ws.name
        )
        tf.init(data_dir / BACKEND_FILE)
        tf.select_workspace(ws.name)
        return tf

    def _plan_progress(self, ws: Workspace, msg: dict[str, Any], run: RegionRun) -> None:
        kind = msg.get("type")
        if kind == "change_summary":
            changes = msg.get("changes", {})
            run.summary = {
                "add": int(changes.get("add", 0)),
                "change": int(changes.get("change", 0)),
                "destroy": int(changes.get("remove", 0)),
            }
            if changes.get("import"):
                run.summary["import"] = int(changes["import"])
        elif kind == "planned_change":
            change = msg.get("change", {})
            resource = change.get("resource", {})
            address = resource.get("addr", "?")
            action = str(change.get("action", "?"))
            run.changes.append(
                gate.Change(
                    address, resource.get("resource_type", "?"), _ACTIONS.get(action, (action,))
                )
            )
            self.reporter.detail(f"  {action:8} {address}", scope=ws.name)
        elif kind == "diagnostic" and msg.get("diagnostic", {}).get("severity") == "warning":
            self.reporter.debug(f"warning: {msg['diagnostic'].get('summary')}", scope=ws.name)

    # -- gate and confirmation ------------------------------------------------------
    def gate(self, runs: list[RegionRun], allow_destroy: list[str]) -> None:
        """Refuse plans that delete or replace stateful resources in protected scopes."""
        refused = {
            run.workspace.name: bad
            for run in runs
            if run.scope.protected and (bad := gate.refused(run.changes, allow_destroy))
        }
        if not refused:
            return
        env = runs[0].scope.env.name
        lines = [
            f"refusing to apply: the plan would delete or replace stateful resources in {env}:"
        ]
        lines += [
            f"  {ws}: {c.verb} {c.address}" for ws, changes in refused.items() for c in changes
        ]
        allow = " ".join(f"--allow-destroy {c.address}" for cs in refused.values() for c in cs)
        raise PlanRefused("\n".join(lines), hint=f"if this is intended, re-run with {allow}")

    def converge(
        self,
        scopes: list[Scope],
        *,
        destroy: bool = False,
        allow_destroy: list[str] | None = None,
        confirm: Confirm,
    ) -> list[RegionRun]:
        """The one path of apply and destroy: plan, gate, confirm, apply those plans.

        An apply asks when the environment's policy says so (``approval``); a
        destroy always asks. ``confirm`` raises when the answer is not yes.
        """
        runs = self.plan(scopes, destroy=destroy, adopt=not destroy)
        planned = [r for r in runs if not r.failed]
        if not planned:
            return runs
        self.gate(planned, allow_destroy or [])
        if any(r.has_changes for r in planned):
            scope = planned[0].scope
            if destroy:
                confirm(f"Destroy everything in {scope.env.name}?", "destroy needs approval")
            elif scope.approval_required:
                where = scope.env.name if scope.target.is_local else "AWS"
                summary = "; ".join(
                    f"{r.workspace.name}: {format_summary(r.summary)}" for r in planned
                )
                confirm(
                    f"Apply to {scope.env.name} ({summary})?", f"applying to {where} needs approval"
                )
        applied = self.apply(planned)
        if destroy:
            for run in applied:
                if run.status is RunStatus.APPLIED:
                    run.status = RunStatus.DESTROYED
        return [r for r in runs if r.failed] + applied

    # -- apply ------------------------------------------------------------------------
    def apply(self, runs: list[RegionRun]) -> list[RegionRun]:
        """Apply each region's saved plan file (regions without changes are skipped)."""

        def step(run: RegionRun) -> None:
            ws = run.workspace
            if run.failed:
                return
            assert run.tf is not None and run.plan_file is not None
            if not run.has_changes:
                run.status = RunStatus.NO_CHANGES
                run.outputs = run.tf.output()
                return
            self.reporter.progress("terraform apply (saved plan)", scope=ws.name)
            started = time.monotonic()
            # Until this apply succeeds, the next one checks for what it left behind.
            self.state_of(run.scope).mark_inflight(self.run_id)
            try:
                run.tf.apply(run.plan_file, on_message=lambda m: self._apply_progress(ws, m))
            except StateLocked:
                raise
            except TerraformError as exc:
                # The marker stays: the next apply adopts what this one created but
                # could not record, so a rerun converges instead of duplicating.
                exc.hint = exc.hint or (
                    "what this apply created is kept: fix the cause (or retry, if it was "
                    "transient) and run "
                    f"`deployer apply {ws.environment} --region {ws.region}` again"
                )
                raise
            self.state_of(run.scope).clear_inflight()
            run.seconds["apply"] = time.monotonic() - started
            run.plan_file.unlink(missing_ok=True)
            run.outputs = run.tf.output()
            if run.adopted:
                from deployer import recovery

                recovery.remove_adoption_root(ws.data_dir(self.project))
            run.status = RunStatus.APPLIED
            self.reporter.progress(f"applied in {run.seconds['apply']:.0f}s", scope=ws.name)

        return self._fan_out(runs, step)

    def _apply_progress(self, ws: Workspace, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        hook = msg.get("hook", {})
        address = hook.get("resource", {}).get("addr", "")
        if kind == "apply_complete":
            verb = {"create": "created", "update": "updated", "delete": "destroyed"}.get(
                hook.get("action", ""), hook.get("action", "done")
            )
            elapsed = hook.get("elapsed_seconds", 0)
            self.reporter.progress(f"  {verb} {address} ({elapsed}s)", scope=ws.name)
        elif kind == "apply_progress":
            self.reporter.detail(
                f"  still working on {address} ({hook.get('elapsed_seconds', 0)}s)", scope=ws.name
            )
        elif kind == "apply_errored":
            self.reporter.progress(f"  error on {address}", scope=ws.name)

    # -- drift ------------------------------------------------------------------------
    def drift(self, scopes: list[Scope]) -> list[RegionRun]:
        """A refresh-only plan per workspace, read into a drift report (deployer.drift)."""
        from deployer import drift as drift_report

        runs = [RegionRun(scope) for scope in scopes]

        def step(run: RegionRun) -> None:
            ws = run.workspace
            run.tf = self._prepare(run.scope)
            data_dir = ws.data_dir(self.project)
            plan_file = plan_path(data_dir, "drift")
            self.reporter.progress("terraform plan -refresh-only", scope=ws.name)
            started = time.monotonic()
            try:
                run.tf.plan(var_file=data_dir / VAR_FILE, out=plan_file, refresh_only=True)
                document = run.tf.show_plan(plan_file)
            finally:
                plan_file.unlink(missing_ok=True)
            run.seconds["refresh"] = time.monotonic() - started
            run.drift = drift_report.analyse(document, self.project.stack_dir(ws.stack))
            found = drift_report.drifted(run.drift)
            run.status = RunStatus.DRIFTED if found else RunStatus.NO_DRIFT
            self.reporter.progress(
                f"{len(found)} resource(s) drifted" if found else "no drift", scope=ws.name
            )

        return self._fan_out(runs, step)

    # -- outputs ----------------------------------------------------------------------
    def outputs(self, scopes: list[Scope]) -> list[RegionRun]:
        runs = [RegionRun(scope) for scope in scopes]

        def step(run: RegionRun) -> None:
            run.tf = self._prepare(run.scope)
            run.outputs = run.tf.output()
            run.status = RunStatus.OK

        return self._fan_out(runs, step)


#: Terraform's streamed plan actions as the action lists of `terraform show -json`.
_ACTIONS: dict[str, tuple[str, ...]] = {
    "create": ("create",),
    "update": ("update",),
    "delete": ("delete",),
    "replace": ("delete", "create"),
    "noop": ("no-op",),
    "read": ("read",),
    "remove": ("forget",),
}


def summarise(changes: list[gate.Change]) -> dict[str, int]:
    """add / change / destroy counts, as Terraform's summary gives them."""
    summary = {"add": 0, "change": 0, "destroy": 0}
    for change in changes:
        if change.verb == "replace":
            summary["add"] += 1
            summary["destroy"] += 1
        elif change.verb == "create":
            summary["add"] += 1
        elif change.verb == "delete":
            summary["destroy"] += 1
        elif change.verb == "update":
            summary["change"] += 1
    return summary


def format_summary(summary: dict[str, int]) -> str:
    if not any(summary.values()):
        return "no changes"
    text = (
        f"{summary.get('add', 0)} to add, {summary.get('change', 0)} to change, "
        f"{summary.get('destroy', 0)} to destroy"
    )
    if summary.get("import"):
        text = f"{summary['import']} to import, " + text
    return text
