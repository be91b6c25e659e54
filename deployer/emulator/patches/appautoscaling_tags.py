"""Application Auto Scaling: scalable target tags.

AWS takes ``Tags`` on RegisterScalableTarget and has TagResource,
UntagResource and ListTagsForResource for scalable-target ARNs. moto 5.2.5 has
none of the three actions (HTTP 500), so ``aws_appautoscaling_target``, which
lists its tags after every read (and always with provider ``default_tags``),
cannot be created, and ``aws_appautoscaling_policy`` that depends on it fails
in turn.
"""

from __future__ import annotations

import json
from typing import Any

from ._util import add_method, replace

GAP = (
    "Application Auto Scaling has no ListTagsForResource/TagResource/"
    "UntagResource (HTTP 500) and drops RegisterScalableTarget tags."
)


def _tags(backend: Any) -> dict[str, dict[str, str]]:
    store: dict[str, dict[str, str]] | None = getattr(backend, "_deployer_tags", None)
    if store is None:
        store = {}
        backend._deployer_tags = store
    return store


def _target_arn(backend: Any, arn: str) -> str:
    from moto.core.exceptions import JsonRESTError

    for targets in backend.targets.values():
        for target in targets.values():
            if target.arn == arn:
                return arn
    raise JsonRESTError("ResourceNotFoundException", f"Resource {arn} does not exist.")


def apply() -> None:
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    def register_factory(original: Any) -> Any:
        def register_scalable_target(self: Any) -> str:
            body = original(self)
            tags = self._get_param("Tags") or {}
            if tags:
                arn = json.loads(body)["ScalableTargetARN"]
                _tags(self.applicationautoscaling_backend).setdefault(arn, {}).update(tags)
            return body

        return register_scalable_target

    def tag_resource(self: Any) -> str:
        backend = self.applicationautoscaling_backend
        arn = _target_arn(backend, self._get_param("ResourceARN"))
        _tags(backend).setdefault(arn, {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self: Any) -> str:
        backend = self.applicationautoscaling_backend
        arn = _target_arn(backend, self._get_param("ResourceARN"))
        current = _tags(backend).setdefault(arn, {})
        for key in self._get_param("TagKeys") or []:
            current.pop(key, None)
        return "{}"

    def list_tags_for_resource(self: Any) -> str:
        backend = self.applicationautoscaling_backend
        arn = _target_arn(backend, self._get_param("ResourceARN"))
        return json.dumps({"Tags": dict(_tags(backend).get(arn, {}))})

    replace(ApplicationAutoScalingResponse, "register_scalable_target", register_factory)
    add_method(ApplicationAutoScalingResponse, "tag_resource", tag_resource)
    add_method(ApplicationAutoScalingResponse, "untag_resource", untag_resource)
    add_method(ApplicationAutoScalingResponse, "list_tags_for_resource", list_tags_for_resource)
