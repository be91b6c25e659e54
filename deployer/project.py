"""Where the project and its local state live.

The project root is the directory holding ``environments/project.yaml``: found
from the current directory upwards, or given by ``DEPLOYER_PROJECT_DIR``. Local
state (emulator record, Terraform data directories, the shared provider cache,
the CLI configuration the deployer writes) lives in ``<root>/.deployer`` or in
``DEPLOYER_STATE_DIR``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from deployer.errors import UsageError

PROJECT_FILE = Path("environments") / "project.yaml"


@dataclass(frozen=True)
class Project:
    root: Path
    state_dir: Path

    @property
    def environments_dir(self) -> Path:
        return self.root / "environments"

    @property
    def stacks_dir(self) -> Path:
        return self.environments_dir / "stacks"

    def stack_dir(self, stack: str) -> Path:
        return self.stacks_dir / stack

    @property
    def terraform_dir(self) -> Path:
        """Per-workspace Terraform data directories and the shared provider cache."""
        return self.state_dir / "terraform"


def find_root(start: Path | None = None) -> Path:
    explicit = os.environ.get("DEPLOYER_PROJECT_DIR")
    if explicit:
        root = Path(explicit).resolve()
        if not (root / PROJECT_FILE).is_file():
            raise UsageError(
                f"DEPLOYER_PROJECT_DIR={explicit} does not hold {PROJECT_FILE}",
                hint="point it at the checkout of this project, or unset it",
            )
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / PROJECT_FILE).is_file():
            return candidate
    raise UsageError(
        f"no {PROJECT_FILE} in {here} or any parent directory",
        hint="run the deployer inside the project checkout, or set DEPLOYER_PROJECT_DIR",
    )


def load_project(start: Path | None = None) -> Project:
    root = find_root(start)
    state = os.environ.get("DEPLOYER_STATE_DIR")
    state_dir = Path(state).resolve() if state else root / ".deployer"
    return Project(root=root, state_dir=state_dir)
