"""Tags by ARN for moto backends that keep none: the three tagging actions.

Some services (Application Auto Scaling, CodeCommit) take tags on create and
have TagResource, UntagResource and ListTagsForResource in AWS, while moto
5.2.5 drops the tags and lacks the actions. The Terraform provider lists a
resource's tags after every read (always, with provider ``default_tags``), so
a missing action fails the resource. :class:`TagStore` keeps the tags on the
backend, keyed by ARN, and installs the actions on the service's response
class; each patch says only how its service spells the parameters and how to
tell whether an ARN names a resource.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._util import add_method, replace

Tags = dict[str, dict[str, str]]

#: Attribute of a backend that holds its tags (one store per backend: per
#: account and region, as moto keeps backends).
_STORE = "_deployer_tags"


@dataclass(frozen=True)
class TagStore:
    """How one service's tagging API reads, and where its tags live.

    ``backend`` is the response's attribute holding the moto backend (for
    example ``"codecommit_backend"``); ``arn_param``, ``tags_param`` and
    ``tag_keys_param`` are the request parameters of the tagging actions as
    the service spells them (``tags_param`` is also the key of the
    ListTagsForResource answer and of the create request's tags);
    ``resolve(backend, arn)`` returns the ARN if it names a resource of the
    backend and raises the service's not-found error otherwise.
    """

    backend: str
    arn_param: str
    tags_param: str
    tag_keys_param: str
    resolve: Callable[[Any, str], str]

    @staticmethod
    def tags(backend: Any) -> Tags:
        """The backend's tags, keyed by ARN (created on first use)."""
        store: Tags | None = getattr(backend, _STORE, None)
        if store is None:
            store = {}
            setattr(backend, _STORE, store)
        return store

    def install(self, response_class: type) -> None:
        """Add TagResource, UntagResource and ListTagsForResource (once)."""
        spec = self

        def target(response: Any) -> tuple[Tags, str]:
            backend = getattr(response, spec.backend)
            arn = spec.resolve(backend, response._get_param(spec.arn_param))
            return spec.tags(backend), arn

        def tag_resource(self: Any) -> str:
            tags, arn = target(self)
            tags.setdefault(arn, {}).update(self._get_param(spec.tags_param) or {})
            return "{}"

        def untag_resource(self: Any) -> str:
            tags, arn = target(self)
            current = tags.setdefault(arn, {})
            for key in self._get_param(spec.tag_keys_param) or []:
                current.pop(key, None)
            return "{}"

        def list_tags_for_resource(self: Any) -> str:
            tags, arn = target(self)
            return json.dumps({spec.tags_param: dict(tags.get(arn, {}))})

        add_method(response_class, "tag_resource", tag_resource)
        add_method(response_class, "untag_resource", untag_resource)
        add_method(response_class, "list_tags_for_resource", list_tags_for_resource)

    def tag_on_create(
        self, response_class: type, action: str, arn_of: Callable[[dict[str, Any]], str]
    ) -> None:
        """Keep the tags a create ``action`` takes; ``arn_of`` reads the ARN from its answer."""
        spec = self

        def factory(original: Any) -> Any:
            def create(self: Any) -> str:
                body: str = original(self)
                tags = self._get_param(spec.tags_param) or {}
                if tags:
                    arn = arn_of(json.loads(body))
                    spec.tags(getattr(self, spec.backend)).setdefault(arn, {}).update(tags)
                return body

            return create

        replace(response_class, action, factory)
