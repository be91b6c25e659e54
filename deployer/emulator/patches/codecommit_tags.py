"""CodeCommit: repository tags (CreateRepository tags, Tag/Untag/ListTags).

AWS CodeCommit takes ``tags`` on CreateRepository and has TagResource,
UntagResource and ListTagsForResource on a repository ARN. moto 5.2.5 ignores
the tags and has none of the three actions, so ``aws_codecommit_repository``
(which lists tags after every read, and always with provider ``default_tags``)
fails with a 500 for an unknown action.
"""

from __future__ import annotations

from typing import Any

from ._tag_store import TagStore
from ._util import replace

GAP = (
    "CodeCommit has no TagResource/UntagResource/ListTagsForResource and drops "
    "CreateRepository tags."
)


def _repository_arn(backend: Any, arn: str) -> str:
    from moto.codecommit.exceptions import RepositoryDoesNotExistException

    for repository in backend.repositories.values():
        if repository.repository_metadata["Arn"] == arn:
            return arn
    raise RepositoryDoesNotExistException(arn.rsplit(":", 1)[-1])


STORE = TagStore(
    backend="codecommit_backend",
    arn_param="resourceArn",
    tags_param="tags",
    tag_keys_param="tagKeys",
    resolve=_repository_arn,
)


def apply() -> None:
    from moto.codecommit.responses import CodeCommitResponse

    # A repository created again under the same name gets a new life: its
    # predecessor's tags go with it.
    def delete_factory(original: Any) -> Any:
        def delete_repository(self: Any) -> str:
            backend = self.codecommit_backend
            repository = backend.repositories.get(self._get_param("repositoryName"))
            if repository is not None:
                STORE.tags(backend).pop(repository.repository_metadata["Arn"], None)
            body: str = original(self)
            return body

        return delete_repository

    STORE.tag_on_create(
        CodeCommitResponse,
        "create_repository",
        lambda answer: str(answer["repositoryMetadata"]["Arn"]),
    )
    replace(CodeCommitResponse, "delete_repository", delete_factory)
    STORE.install(CodeCommitResponse)
