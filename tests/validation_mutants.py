"""Does every validation of the modules have a test that breaks exactly that rule?

For each ``validation { ... }`` block in ``modules/*/variables.tf``, make a
temporary copy of the module with that one block deleted and run the module's
terraform tests on it: the validation is *caught* when a run then fails
(a run with ``expect_failures = [var.x]`` whose expected failure went missing),
and *NOT caught* when every run still passes: no test breaks that rule alone
(its input also breaks another rule of the variable, or no test expects the
variable to fail at all).

Usage: ``bin/check-validations [--module NAME]... [--variable NAME]...
[--per-module K] [--jobs N] [--all-runs] [--runs] [--list]``. Prints a table on
stdout (progress on stderr); exits 0 when every validation checked is caught,
1 when one is not (or could not be checked), 2 on a usage error. ``--runs``
answers the question the other way round: for each run expecting a variable
with several validations to fail, which of them its input breaks (keeping one
validation of the variable at a time); it exits 1 when a run breaks more or
fewer than one.

How it runs. Only the runs that can notice a deletion are tried on a mutant:
those listing its variable in ``expect_failures`` (and runs they read outputs
of). Deleting a validation cannot change another run's outcome: a run whose
input broke that rule without expecting it fails already, and one whose input
keeps the rule never reaches it. ``--all-runs`` tries every run instead (slower,
same answer). The mutants of a module are batched into one ``terraform test``
process (a process costs seconds of provider-schema loading; a run a fraction
of one): each mutant is a sibling copy ``modules/<m>--mutant-<i>`` (so its
``../<sibling>`` module calls resolve) and its runs point at it with a
``module { source = ... }`` block, in test files of its own (Terraform skips
the rest of a file after a run errors). The check takes the module's own tests
as passing (``bin/test`` checks that); a run that fails on a mutant for another
reason than the missing expected failure is run again on the unmodified module
to tell the two apart.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from deployer.errors import ToolchainError
from deployer.toolchain import AWS_PROVIDER, Toolchain, prepare

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "modules"
JOB_TIMEOUT = 1800.0

#: A batch (one terraform test process) holds at most this many runs, so that the
#: batches of the big modules spread over the jobs.
BATCH_RUNS = 60

CAUGHT = "caught"
NOT_CAUGHT = "NOT caught"
ERROR = "error"


class HclError(ValueError):
    """The HCL scanner could not make sense of a file."""


# --- A small HCL scanner: blocks and their spans -----------------------------------------

_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")
_BLOCK_HEADER = re.compile(r'^[ \t]*([A-Za-z_][A-Za-z0-9_-]*)((?:[ \t]+"[^"\n]*")*)[ \t]*$')


def seed_lock_file(root: Path, folder: Path) -> None:
    """Give ``folder`` (a module copied for ``terraform test``) the stacks' lock file.

    Terraform (1.4 on) links a cached provider only when the folder's lock file
    records its checksum. With no lock file it installs the provider again *into
    the shared cache*, removing the cached folder first, while other Terraform
    processes of the same cache have ``.terraform/providers`` linked to it; those
    then fail with "there is no package for registry.terraform.io/hashicorp/aws
    ... cached in .terraform/providers".
    """
    for lock in sorted((root / "environments" / "stacks").glob("*/.terraform.lock.hcl")):
        if AWS_PROVIDER in lock.read_text():
            shutil.copyfile(lock, folder / ".terraform.lock.hcl")
            return
    raise ToolchainError(f"no stack under {root / 'environments' / 'stacks'} has a lock file")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _skip_heredoc(text: str, match: re.Match[str]) -> int:
    """The position after the closing delimiter line of the heredoc ``match`` opens."""
    pos = match.end()
    marker = match.group(1)
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        if text[pos:end].strip() == marker:
            return end
        pos = end + 1
    raise HclError(f"line {_line_of(text, match.start())}: heredoc {marker} is not closed")


def _skip_string(text: str, pos: int) -> int:
    """The position after the quoted string (template) that opens at ``pos``."""
    i = pos + 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif c in "$%" and text.startswith(c + c + "{", i):  # $${ and %%{ are literal
            i += 3
        elif c in "$%" and text.startswith(c + "{", i):  # an interpolation or a directive
            i = _scan(text, i + 2, None, nested=True)
        elif c == "\n":
            break
        else:
            i += 1
    raise HclError(f"line {_line_of(text, pos)}: string is not closed")


def _scan(text: str, pos: int, pairs: list[tuple[int, int, int]] | None, *, nested: bool) -> int:
    """Walk code from ``pos``, skipping comments, strings and heredocs.

    Records each brace pair as (open, close, depth) in ``pairs``. ``nested``: the walk
    is inside ``${...}`` and ends after its closing brace (the position returned).
    """
    stack: list[int] = []
    i = pos
    while i < len(text):
        c = text[i]
        if c == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise HclError(f"line {_line_of(text, i)}: comment is not closed")
            i = end + 2
        elif c == '"':
            i = _skip_string(text, i)
        elif c == "<" and (heredoc := _HEREDOC.match(text, i)):
            i = _skip_heredoc(text, heredoc)
        elif c == "{":
            stack.append(i)
            i += 1
        elif c == "}":
            if not stack:
                if nested:
                    return i + 1
                raise HclError(f"line {_line_of(text, i)}: unbalanced closing brace")
            opened = stack.pop()
            if pairs is not None:
                pairs.append((opened, i, len(stack)))
            i += 1
        else:
            i += 1
    if nested or stack:
        raise HclError(f"line {_line_of(text, stack[-1] if stack else pos)}: brace is not closed")
    return i


@dataclass(frozen=True)
class Block:
    """A block (``type "label" ... { body }``): ``start`` is its line's first character,
    ``end`` is just after its line break."""

    type: str
    labels: tuple[str, ...]
    depth: int
    start: int
    open: int
    close: int
    end: int

    def body(self, text: str) -> str:
        return text[self.open + 1 : self.close]


def blocks(text: str) -> list[Block]:
    """Every block of an HCL file, nested ones included, in source order.

    A brace opens a block when everything before it on its line is a block type and
    labels (``validation {``, ``run "x" {``); other braces are object literals.
    """
    pairs: list[tuple[int, int, int]] = []
    _scan(text, 0, pairs, nested=False)
    found = []
    for opened, closed, depth in sorted(pairs):
        line_start = text.rfind("\n", 0, opened) + 1
        header = _BLOCK_HEADER.match(text[line_start:opened])
        if not header:
            continue
        line_end = text.find("\n", closed)
        end = len(text) if line_end < 0 else line_end + 1
        labels = tuple(re.findall(r'"([^"\n]*)"', header.group(2)))
        found.append(Block(header.group(1), labels, depth, line_start, opened, closed, end))
    return found


# --- What there is to check ---------------------------------------------------------------


@dataclass(frozen=True)
class Validation:
    module: str
    variable: str
    #: 1-based, among the variable's validations.
    index: int
    line: int
    start: int
    end: int
    message: str

    @property
    def name(self) -> str:
        return f"{self.module}/{self.variable}#{self.index}"


@dataclass(frozen=True)
class Run:
    file: str
    name: str
    start: int
    open: int
    end: int
    #: Variables of the module named in the run's expect_failures.
    expects: frozenset[str]
    #: Runs whose outputs it reads (run.<name>.<output>).
    needs: frozenset[str]
    #: The run tests another module (it has a module block).
    elsewhere: bool


@dataclass(frozen=True)
class TestFile:
    path: str
    text: str
    runs: tuple[Run, ...]


def _first_message_line(body: str) -> str:
    match = re.search(r"^[ \t]*error_message[ \t]*=[ \t]*(.*)$", body, re.MULTILINE)
    if not match:
        return ""
    value = match.group(1).strip()
    if value.startswith("<<"):  # a heredoc: its first line
        return body[match.end() :].lstrip("\n").split("\n", 1)[0].strip()
    if value.startswith('"'):
        try:
            return value[1 : _skip_string(value, 0) - 1].replace('\\"', '"')
        except HclError:
            return value[1:]
    return value


def parse_validations(module: Path) -> list[Validation]:
    """The validation blocks of ``module/variables.tf``, in source order."""
    path = module / "variables.tf"
    try:
        return parse_validations_text(module.name, path.read_text())
    except HclError as exc:
        raise HclError(f"{path}: {exc}") from None


def parse_validations_text(module: str, text: str) -> list[Validation]:
    found = blocks(text)
    validations = []
    for variable in (b for b in found if b.type == "variable" and b.depth == 0):
        inner = [
            b
            for b in found
            if b.type == "validation" and b.depth == 1 and variable.open < b.open < variable.close
        ]
        for index, block in enumerate(inner, start=1):
            validations.append(
                Validation(
                    module=module,
                    variable=variable.labels[0],
                    index=index,
                    line=_line_of(text, block.open),
                    start=block.start,
                    end=block.end,
                    message=_first_message_line(block.body(text)),
                )
            )
    return validations


def parse_tests(module: Path) -> list[TestFile]:
    """The test files of ``module`` and their run blocks."""
    files = []
    for path in sorted((module / "tests").glob("*.tftest.hcl")):
        text = path.read_text()
        try:
            found = blocks(text)
        except HclError as exc:
            raise HclError(f"{path}: {exc}") from None
        runs = []
        for block in (b for b in found if b.type == "run" and b.depth == 0):
            body = block.body(text)
            expects = re.search(r"^\s*expect_failures\s*=\s*\[([^\]]*)\]", body, re.MULTILINE)
            names = re.findall(
                r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)", expects.group(1) if expects else ""
            )
            elsewhere = any(b.type == "module" and block.open < b.open < block.close for b in found)
            runs.append(
                Run(
                    file=path.name,
                    name=block.labels[0] if block.labels else "",
                    start=block.start,
                    open=block.open,
                    end=block.end,
                    # A run with a module block tests another module: its var.x are not ours.
                    expects=frozenset(() if elsewhere else names),
                    needs=frozenset(re.findall(r"\brun\.([A-Za-z_][A-Za-z0-9_-]*)\.", body)),
                    elsewhere=elsewhere,
                )
            )
        files.append(TestFile(path.name, text, tuple(runs)))
    return files


def discover(modules: Path = MODULES) -> list[Validation]:
    """Every validation of every module, by module then source order."""
    found = []
    for module in sorted(p.parent for p in modules.glob("*/variables.tf")):
        found.extend(parse_validations(module))
    return found


def spread(validations: Sequence[Validation], per_module: int) -> list[Validation]:
    """A deterministic sample: ``per_module`` validations of each module, evenly spaced
    through its variables.tf (the middle of each of ``per_module`` equal slices)."""
    by_module: dict[str, list[Validation]] = {}
    for validation in validations:
        by_module.setdefault(validation.module, []).append(validation)
    sample: list[Validation] = []
    for items in by_module.values():
        count = min(per_module, len(items))
        picks = sorted({math.floor((j + 0.5) * len(items) / count) for j in range(count)})
        sample.extend(items[p] for p in picks)
    return sample


def runs_for(test: TestFile, variable: str | None) -> list[Run]:
    """The runs of ``test`` that expect ``variable`` to fail, and the runs those read
    outputs of; ``None``: every run."""
    if variable is None:
        return list(test.runs)
    keep = {r.name for r in test.runs if variable in r.expects}
    while more := {n for r in test.runs if r.name in keep for n in r.needs} - keep:
        keep |= more
    return [r for r in test.runs if r.name in keep]


def render(test: TestFile, keep: Sequence[Run], source: str) -> str:
    """``test`` with only the runs in ``keep``, each pointed at the module in ``source``."""
    kept = {r.name for r in keep}
    pieces, pos = [], 0
    for run in test.runs:
        pieces.append(test.text[pos : run.start])
        if run.name in kept:
            head = test.text[run.start : run.open + 1]
            module = "" if run.elsewhere else f'\n  module {{\n    source = "{source}"\n  }}\n'
            pieces.append(head + module + test.text[run.open + 1 : run.end])
        pos = run.end
    pieces.append(test.text[pos:])
    return "".join(pieces)


# --- Mutants and running them ---------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """A copy of a module with some validations deleted, and the runs to try on it.

    ``separate``: each run in a test file of its own, so that one run's failure does not
    skip the runs after it (Terraform skips the rest of a file after a run errors).
    """

    module: str
    variable: str
    deleted: tuple[Validation, ...]
    runs: tuple[Run, ...]
    separate: bool = False


@dataclass(frozen=True)
class RunResult:
    status: str  # pass, fail, error, skip
    diagnostics: tuple[str, ...]

    def missed(self, variable: str) -> bool:
        """The run failed because ``var.<variable>`` no longer failed as expected."""
        return any(
            d.startswith("Missing expected failure:") and f"var.{variable}," in d
            for d in self.diagnostics
        )


@dataclass
class MutantResult:
    mutant: Mutant
    #: (test file, run) -> result; a run missing here did not report (Terraform failed).
    runs: dict[tuple[str, str], RunResult]
    seconds: float
    output: str = ""

    @property
    def complete(self) -> bool:
        return len(self.runs) == len(self.mutant.runs)


def _timestamp(event: dict[str, object]) -> float:
    stamp = str(event.get("@timestamp", ""))
    try:
        return float(datetime.fromisoformat(stamp).timestamp())
    except ValueError:
        return 0.0


class Processes:
    """The Terraform processes running now, so that an interrupted check ends them.

    Each runs in a process group of its own with its provider plugins: ending the group
    ends the plugins too (a terminated Terraform can leave them behind).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[str]] = set()
        self.stopping = False

    def run(self, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        with self._lock:
            if self.stopping:
                raise KeyboardInterrupt
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                start_new_session=True,
            )
            self._running.add(proc)
        try:
            # communicate() reads stdout and stderr together: a full pipe never blocks.
            out, err = proc.communicate(timeout=JOB_TIMEOUT)
        except subprocess.TimeoutExpired:
            _end_group(proc)
            out, err = proc.communicate()
            err += f"\n(killed after {JOB_TIMEOUT:.0f} s)"
        finally:
            with self._lock:
                self._running.discard(proc)
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)

    def stop(self) -> None:
        with self._lock:
            self.stopping = True
            running = list(self._running)
        for proc in running:
            _end_group(proc)


def _end_group(proc: subprocess.Popen[str]) -> None:
    """Interrupt Terraform (it stops its plugins), then kill what is left of its group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_batch(
    toolchain: Toolchain,
    processes: Processes,
    work: Path,
    module: str,
    mutants: Sequence[Mutant],
    modules: Path = MODULES,
) -> list[MutantResult]:
    """Run ``mutants`` (all of ``module``) in one ``terraform test`` process.

    In a copy of ``modules/``, each mutant is a sibling copy of the module
    (``<module>--mutant-<i>``, so that its ``../<sibling>`` module calls still resolve);
    the module's own test files are replaced by one file per mutant and original file,
    whose runs test that copy (a ``module { source = ... }`` block).
    """
    copy = work / "modules"
    shutil.copytree(modules, copy, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    root = copy / module
    originals = {t.path: t for t in parse_tests(root)}
    for stale in list((root / "tests").glob("*.tftest.hcl")):
        stale.unlink()
    owner: dict[str, int] = {}  # written test file -> mutant
    for i, mutant in enumerate(mutants):
        target = copy / f"{module}--mutant-{i}"
        shutil.copytree(root, target, ignore=shutil.ignore_patterns("tests"))
        variables = target / "variables.tf"
        text = variables.read_text()
        for gone in sorted(mutant.deleted, key=lambda v: v.start, reverse=True):
            text = text[: gone.start] + text[gone.end :]
        variables.write_text(text)
        for path, original in originals.items():
            mine = [r for r in mutant.runs if r.file == path]
            # Runs reading another run's outputs stay in one file with it.
            alone = mutant.separate and not any(r.needs for r in mine)
            groups = [[r] for r in mine] if alone else [mine] if mine else []
            for j, group in enumerate(groups):
                name = f"mutant-{i}-{j}-{path}"
                (root / "tests" / name).write_text(render(original, group, f"../{target.name}"))
                owner[f"tests/{name}"] = i
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), **toolchain.environ()}
    binary = str(toolchain.binary)
    seed_lock_file(ROOT, root)  # else init replaces the cached provider a running batch uses
    with toolchain.init_lock():  # the shared plugin cache has one writer at a time
        init = processes.run(
            [binary, f"-chdir={root}", "init", "-backend=false", "-input=false", "-no-color"], env
        )
    if init.returncode != 0:
        output = f"terraform init failed:\n{init.stderr[-3000:]}"
        return [MutantResult(m, {}, 0.0, output) for m in mutants]
    test = processes.run([binary, f"-chdir={root}", "test", "-json", "-no-color"], env)
    results = [MutantResult(m, {}, 0.0) for m in mutants]
    diagnostics: dict[tuple[str, str], list[str]] = {}  # (written file, run) -> errors
    started: dict[str, float] = {}
    for line in test.stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        written = str(event.get("@testfile", ""))
        if written not in owner:
            continue
        result = results[owner[written]]
        from_file = written.split("-", 3)[3]  # tests/mutant-<i>-<j>-<original file>
        key = (from_file, str(event.get("@testrun", "")))
        kind = event.get("type")
        if kind == "test_file":
            progress = event.get("test_file", {}).get("progress")
            if progress == "starting":
                started[written] = _timestamp(event)
            elif progress == "complete" and written in started:
                result.seconds += _timestamp(event) - started[written]
        elif kind == "test_run" and event.get("test_run", {}).get("progress") == "complete":
            status = str(event["test_run"].get("status", ""))
            result.runs[key] = RunResult(status, tuple(diagnostics.get((written, key[1]), [])))
        elif kind == "diagnostic" and event.get("@level") == "error":
            diagnostic = event.get("diagnostic", {})
            text = f"{diagnostic.get('summary', '')}: {diagnostic.get('detail', '')}"
            diagnostics.setdefault((written, key[1]), []).append(text)
            if key in result.runs:  # reported after the run's status
                reported = result.runs[key]
                result.runs[key] = RunResult(reported.status, (*reported.diagnostics, text))
    tail = (test.stdout[-2000:] + test.stderr[-2000:]).strip()
    for result in results:
        if not result.complete:
            result.output = f"terraform test exited {test.returncode}:\n{tail}"
    return results


def batches(mutants: Sequence[Mutant], max_runs: int = BATCH_RUNS) -> list[list[Mutant]]:
    """The mutants grouped by module into batches of at most ``max_runs`` runs (one
    mutant may exceed it alone), biggest first: one Terraform process a batch."""
    by_module: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_module.setdefault(mutant.module, []).append(mutant)
    groups: list[list[Mutant]] = []
    for items in by_module.values():
        current: list[Mutant] = []
        for mutant in items:
            if current and sum(len(m.runs) for m in current) + len(mutant.runs) > max_runs:
                groups.append(current)
                current = []
            current.append(mutant)
        groups.append(current)
    return sorted(groups, key=lambda g: -sum(len(m.runs) for m in g))


def run_mutants(
    toolchain: Toolchain,
    mutants: Sequence[Mutant],
    *,
    jobs: int = 2,
    progress: Callable[[str], None] | None = None,
    modules: Path = MODULES,
) -> dict[Mutant, MutantResult]:
    """Run every mutant, at most ``jobs`` Terraform processes at a time."""
    say = progress or (lambda _: None)
    runnable = [m for m in mutants if m.runs]
    results = {m: MutantResult(m, {}, 0.0) for m in mutants if not m.runs}
    groups = batches(runnable)
    processes = Processes()
    counter = iter(range(1, len(groups) + 1))
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="validation-mutants-") as tmp:

        def job(number: int, group: list[Mutant]) -> list[MutantResult]:
            start = time.monotonic()
            work = Path(tmp) / str(number)
            try:
                done = run_batch(toolchain, processes, work, group[0].module, group, modules)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            if processes.stopping:
                return done
            with lock:
                finished = next(counter)
            runs = sum(len(m.runs) for m in group)
            say(
                f"[{finished}/{len(groups)}] {group[0].module}: {len(group)} mutants, "
                f"{runs} runs ({time.monotonic() - start:.0f} s)"
            )
            return done

        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            futures = [pool.submit(job, n, g) for n, g in enumerate(groups)]
            for future in futures:
                for result in future.result():
                    results[result.mutant] = result
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            processes.stop()
            raise
        finally:
            pool.shutdown(wait=True)
    return results


# --- The checks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    validation: Validation
    status: str
    seconds: float
    runs: int
    detail: str
    #: Runs that failed for another reason than the missing expected failure.
    unexplained: tuple[Run, ...] = ()


def deletion_mutants(
    validations: Sequence[Validation], *, all_runs: bool = False, modules: Path = MODULES
) -> list[Mutant]:
    tests = {m: parse_tests(modules / m) for m in {v.module for v in validations}}
    return [
        Mutant(
            module=v.module,
            variable=v.variable,
            deleted=(v,),
            runs=tuple(
                r for t in tests[v.module] for r in runs_for(t, None if all_runs else v.variable)
            ),
        )
        for v in validations
    ]


def judge(mutant: Mutant, result: MutantResult) -> Outcome:
    """Whether deleting ``mutant.deleted[0]`` made a run fail."""
    validation = mutant.deleted[0]
    count = len(mutant.runs)
    if not mutant.runs:
        detail = f"no run expects var.{mutant.variable} to fail"
        return Outcome(validation, NOT_CAUGHT, 0.0, 0, detail)
    if not result.complete:
        return Outcome(validation, ERROR, result.seconds, count, result.output)
    failed = [r for r in mutant.runs if result.runs[(r.file, r.name)].status in ("fail", "error")]
    if not failed:
        return Outcome(validation, NOT_CAUGHT, result.seconds, count, "every run passed")
    for run in failed:
        if result.runs[(run.file, run.name)].missed(mutant.variable):
            return Outcome(validation, CAUGHT, result.seconds, count, run.name)
    # Failed, but not (only) because var.x no longer failed: caught if these runs pass on
    # the unmodified module (see check).
    first = result.runs[(failed[0].file, failed[0].name)]
    detail = f"{failed[0].file} run {failed[0].name!r} failed: " + " | ".join(first.diagnostics)
    return Outcome(validation, ERROR, result.seconds, count, detail, tuple(failed))


def check(
    toolchain: Toolchain,
    validations: Sequence[Validation],
    *,
    jobs: int = 2,
    all_runs: bool = False,
    progress: Callable[[str], None] | None = None,
    modules: Path = MODULES,
) -> list[Outcome]:
    """Delete each of ``validations`` in turn: one Outcome each, in the order given."""
    mutants = deletion_mutants(validations, all_runs=all_runs, modules=modules)
    results = run_mutants(toolchain, mutants, jobs=jobs, progress=progress, modules=modules)
    outcomes = [judge(m, results[m]) for m in mutants]
    # A run that failed without a missing expected failure (the plan went further and
    # failed elsewhere, say) still counts if it passes with the module unmodified.
    suspects = {
        o: Mutant(o.validation.module, o.validation.variable, (), o.unexplained, separate=True)
        for o in outcomes
        if o.unexplained
    }
    if suspects:
        baseline = run_mutants(
            toolchain, list(suspects.values()), jobs=jobs, progress=progress, modules=modules
        )
        for i, outcome in enumerate(outcomes):
            if outcome not in suspects:
                continue
            result = baseline[suspects[outcome]]
            unmodified = {key: r.status for key, r in result.runs.items()}
            passing = [r for r in outcome.unexplained if unmodified.get((r.file, r.name)) == "pass"]
            if passing:
                outcomes[i] = replace(outcome, status=CAUGHT, detail=passing[0].name)
            else:
                detail = "fails with the module unmodified too: " + outcome.detail
                outcomes[i] = replace(outcome, detail=detail)
    return outcomes


@dataclass(frozen=True)
class RunRules:
    """Which rules of ``variable`` the input of ``run`` breaks (validation indexes)."""

    module: str
    variable: str
    run: Run
    broken: tuple[int, ...]
    errors: tuple[str, ...]


def isolate(
    toolchain: Toolchain,
    validations: Sequence[Validation],
    *,
    jobs: int = 2,
    progress: Callable[[str], None] | None = None,
    modules: Path = MODULES,
) -> list[RunRules]:
    """For each run expecting a variable with several of ``validations`` to fail: which of
    them its input breaks, found by keeping one validation of the variable at a time (the
    run passes when the kept one fails)."""
    by_variable: dict[tuple[str, str], list[Validation]] = {}
    for v in validations:
        by_variable.setdefault((v.module, v.variable), []).append(v)
    everything = {m: parse_validations(modules / m) for m in {v.module for v in validations}}
    tests = {m: parse_tests(modules / m) for m in everything}
    mutants: list[tuple[Validation, Mutant]] = []
    for (module, variable), chosen in by_variable.items():
        siblings = [v for v in everything[module] if v.variable == variable]
        if len(siblings) < 2:
            continue
        runs = tuple(r for t in tests[module] for r in runs_for(t, variable))
        for kept in chosen:
            others = tuple(v for v in siblings if v != kept)
            mutants.append((kept, Mutant(module, variable, others, runs, separate=True)))
    results = run_mutants(
        toolchain, [m for _, m in mutants], jobs=jobs, progress=progress, modules=modules
    )
    broken: dict[tuple[str, str, str, str], list[int]] = {}
    errors: dict[tuple[str, str, str, str], list[str]] = {}
    tried: dict[tuple[str, str, str, str], Run] = {}
    for kept, mutant in mutants:
        result = results[mutant]
        for run in mutant.runs:
            variable_key = (mutant.module, mutant.variable, run.file, run.name)
            tried[variable_key] = run
            broken.setdefault(variable_key, [])
            outcome = result.runs.get((run.file, run.name))
            if outcome is None:
                errors.setdefault(variable_key, []).append(f"#{kept.index}: {result.output}")
            elif outcome.status == "pass":
                broken[variable_key].append(kept.index)
            elif not outcome.missed(mutant.variable):
                detail = " | ".join(outcome.diagnostics) or outcome.status
                errors.setdefault(variable_key, []).append(f"#{kept.index}: {detail}")
    return [
        RunRules(key[0], key[1], run, tuple(sorted(broken[key])), tuple(errors.get(key, [])))
        for key, run in tried.items()
    ]


# --- Command line ---------------------------------------------------------------------------


def _columns(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def table(outcomes: Sequence[Outcome]) -> str:
    rows = [("module", "variable", "#", "result", "secs", "runs", "error_message  [caught by]")]
    for o in outcomes:
        v = o.validation
        note = f"{v.message[:70]}  [{o.detail}]" if o.status == CAUGHT else v.message
        if o.status != CAUGHT and o.detail:
            note += f"  [{o.detail.splitlines()[0][:200]}]"
        row = (v.module, v.variable, str(v.index), o.status, f"{o.seconds:.1f}", str(o.runs), note)
        rows.append(row)
    return _columns(rows)


def rules_table(found: Sequence[RunRules]) -> str:
    rows = [("module", "variable", "run", "rules broken", "")]
    for r in found:
        note = "" if len(r.broken) == 1 and not r.errors else "<- not exactly one"
        if r.errors:
            note = "error: " + r.errors[0].splitlines()[0][:200]
        rules = ", ".join(f"#{i}" for i in r.broken) or "none"
        rows.append((r.module, r.variable, r.run.name, rules, note))
    return _columns(rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bin/check-validations",
        description=(
            "Delete each validation of modules/*/variables.tf in a temporary copy and run the "
            "module's terraform tests: a validation no test catches has no test that breaks "
            "exactly its rule."
        ),
    )
    parser.add_argument("--module", action="append", default=[], metavar="NAME",
                        help="check only this module's validations (repeatable)")  # fmt: skip
    parser.add_argument("--variable", action="append", default=[], metavar="NAME",
                        help="check only the validations of variables of this name "
                        "(repeatable)")  # fmt: skip
    parser.add_argument("--per-module", type=int, metavar="K",
                        help="check a deterministic sample: K validations of each module, "
                        "evenly spaced through its variables.tf")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=2, metavar="N",
                        help="Terraform processes at a time (default 2)")  # fmt: skip
    parser.add_argument("--all-runs", action="store_true",
                        help="try every run of the module on each mutant, not only the runs "
                        "that expect its variable to fail (slower; same answer)")  # fmt: skip
    parser.add_argument("--runs", action="store_true",
                        help="instead: for each run expecting a variable with several "
                        "validations to fail, show which of them its input breaks")  # fmt: skip
    parser.add_argument("--list", action="store_true",
                        help="list the validations that would be checked, run nothing")  # fmt: skip
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.per_module is not None and args.per_module < 1:
        parser.error("--per-module must be at least 1")
    known = {p.parent.name for p in MODULES.glob("*/variables.tf")}
    unknown = sorted(set(args.module) - known)
    if unknown:
        parser.error(f"no such module: {', '.join(unknown)} (modules: {', '.join(sorted(known))})")
    return args


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        validations = discover()
        for module in sorted({v.module for v in validations}):
            parse_tests(MODULES / module)
    except HclError as exc:
        print(f"check-validations: {exc}", file=sys.stderr)
        return 2
    if args.module:
        validations = [v for v in validations if v.module in args.module]
    if args.variable:
        validations = [v for v in validations if v.variable in args.variable]
    if args.per_module:
        validations = spread(validations, args.per_module)
    if not validations:
        print("check-validations: no validation matches", file=sys.stderr)
        return 2
    if args.list:
        for v in validations:
            print(f"{v.module}\t{v.variable}\t#{v.index}\tline {v.line}\t{v.message}")
        return 0

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    signal.signal(signal.SIGTERM, _interrupt)  # end the Terraform processes on SIGTERM too
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="check-validations-state-") as state:
        toolchain = prepare(Path(state), ROOT)
        modules = len({v.module for v in validations})
        say(
            f"checking {len(validations)} validations of {modules} modules, "
            f"{args.jobs} Terraform processes at a time ({toolchain.binary} "
            f"{toolchain.version_string})"
        )
        try:
            if args.runs:
                found = isolate(toolchain, validations, jobs=args.jobs, progress=say)
            else:
                outcomes = check(
                    toolchain, validations, jobs=args.jobs, all_runs=args.all_runs, progress=say
                )
        except KeyboardInterrupt:
            say("check-validations: interrupted")
            return 130
    elapsed = time.monotonic() - start
    if args.runs:
        print(rules_table(found))
        bad_runs = [r for r in found if len(r.broken) != 1 or r.errors]
        print(
            f"\n{len(found)} runs: {len(found) - len(bad_runs)} break exactly one rule of "
            f"their variable, {len(bad_runs)} do not; {elapsed:.0f} s with {args.jobs} jobs"
        )
        return 1 if bad_runs else 0
    print(table(outcomes))
    for o in outcomes:
        if o.status == ERROR:
            print(f"\n{o.validation.name}: {o.detail}", file=sys.stderr)
    caught = sum(o.status == CAUGHT for o in outcomes)
    missed = sum(o.status == NOT_CAUGHT for o in outcomes)
    errors = len(outcomes) - caught - missed
    print(
        f"\n{len(outcomes)} validations: {caught} caught, {missed} NOT caught"
        + (f", {errors} could not be checked" if errors else "")
        + f"; {elapsed:.0f} s with {args.jobs} jobs"
    )
    return 0 if caught == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
