"""CodeCommit: repository dates must be epoch numbers, not ISO strings.

CodeCommit is a JSON 1.1 protocol; ``creationDate`` and ``lastModifiedDate`` of
``repositoryMetadata`` are timestamps, which that protocol encodes as epoch
seconds (JSON numbers). moto 5.2.5 writes ISO 8601 strings, and the Go SDK
refuses the CreateRepository/GetRepository answer: "expected CreationDate to
be a JSON Number, got string instead", so ``aws_codecommit_repository`` can be
neither created nor read.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "CodeCommit repository metadata carries ISO date strings where the Go SDK "
    "wants epoch numbers: 'expected LastModifiedDate to be a JSON Number'."
)


def apply() -> None:
    from moto.codecommit.models import CodeCommit
    from moto.core.utils import unix_time

    def init_factory(original: Any) -> Any:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            now = unix_time()
            self.repository_metadata["creationDate"] = now
            self.repository_metadata["lastModifiedDate"] = now

        return __init__

    replace(CodeCommit, "__init__", init_factory)
