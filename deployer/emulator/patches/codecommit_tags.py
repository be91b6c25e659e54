"""CodeCommit: repository tags (CreateRepository tags, Tag/Untag/ListTags).

AWS CodeCommit takes ``tags`` on CreateRepository and has TagResource,
UntagResource and ListTagsForResource on a repository ARN. moto 5.2.5 ignores
the tags and has none of the three actions, so ``aws_codecommit_repository``
(which lists tags after every read, and always with provider ``default_tags``)
fails with a 500 for an unknown action.
"""

from __future__ import annotations

import json
from typing import Any

from ._util import add_method, replace

GAP = (
    "CodeCommit has no TagResource/UntagResource/ListTagsForResource and drops "
    "CreateRepository tags."
)


def _tags(backend: Any) -> dict[str, dict[str, str]]:
    store: dict[str, dict[str, str]] | None = getattr(backend, "_deployer_tags", None)
    if store is None:
        store = {}
        backend._deployer_tags = store
    return store


def _repository_arn(backend: Any, arn: str) -> str:
    from moto.codecommit.exceptions import RepositoryDoesNotExistException

    for repository in backend.repositories.values():
        if repository.repository_metadata["Arn"] == arn:
            return arn
    raise RepositoryDoesNotExistException(arn.rsplit(":", 1)[-1])


def apply() -> None:
    from moto.codecommit.responses import CodeCommitResponse

    def create_factory(original: Any) -> Any:
        def create_repository(self: Any) -> str:
            body = original(self)
            tags = self._get_param("tags") or {}
            if tags:
                arn = json.loads(body)["repositoryMetadata"]["Arn"]
                _tags(self.codecommit_backend).setdefault(arn, {}).update(tags)
            return body

        return create_repository

    def delete_factory(original: Any) -> Any:
        def delete_repository(self: Any) -> str:
            backend = self.codecommit_backend
            repository = backend.repositories.get(self._get_param("repositoryName"))
            if repository is not None:
                _tags(backend).pop(repository.repository_metadata["Arn"], None)
            return original(self)

        return delete_repository

    def tag_resource(self: Any) -> str:
        backend = self.codecommit_backend
        arn = _repository_arn(backend, self._get_param("resourceArn"))
        _tags(backend).setdefault(arn, {}).update(self._get_param("tags") or {})
        return "{}"

    def untag_resource(self: Any) -> str:
        backend = self.codecommit_backend
        arn = _repository_arn(backend, self._get_param("resourceArn"))
        current = _tags(backend).setdefault(arn, {})
        for key in self._get_param("tagKeys") or []:
            current.pop(key, None)
        return "{}"

    def list_tags_for_resource(self: Any) -> str:
        backend = self.codecommit_backend
        arn = _repository_arn(backend, self._get_param("resourceArn"))
        return json.dumps({"tags": dict(_tags(backend).get(arn, {}))})

    replace(CodeCommitResponse, "create_repository", create_factory)
    replace(CodeCommitResponse, "delete_repository", delete_factory)
    add_method(CodeCommitResponse, "tag_resource", tag_resource)
    add_method(CodeCommitResponse, "untag_resource", untag_resource)
    add_method(CodeCommitResponse, "list_tags_for_resource", list_tags_for_resource)
