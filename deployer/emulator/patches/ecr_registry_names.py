"""ECR: tell the local registry when a repository is created (a runtime hook).

Not an AWS fidelity gap. On AWS every ``<account>.dkr.ecr.<region>.amazonaws.com``
resolves; locally the runtime adds a registry's host name to the hosts file
(``deployer.emulator.hosts``) when the first repository there is created, so
that ``docker push`` by a ``repositoryUri`` reaches the emulator's registry. The
hook is a change to moto's classes, so it is a patch like the others and is
listed with them. Without a runtime (``--no-runtime``) no hook is registered and
this changes nothing.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "Not an AWS gap: the hook through which the local registry learns the host name of "
    "each registry that has a repository (ECR's data plane, deployer.emulator.registry)."
)


def apply() -> None:
    from moto.ecr.models import ECRBackend

    def create_factory(original: Any) -> Any:
        def create_repository(self: Any, *args: Any, **kwargs: Any) -> Any:
            from deployer.emulator.registry import REPOSITORY_HOOKS

            repository = original(self, *args, **kwargs)
            for hook in list(REPOSITORY_HOOKS):
                hook(self.account_id, self.region_name)
            return repository

        return create_repository

    replace(ECRBackend, "create_repository", create_factory)
