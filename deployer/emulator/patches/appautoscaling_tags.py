"""Application Auto Scaling: scalable target tags.

AWS takes ``Tags`` on RegisterScalableTarget and has TagResource,
UntagResource and ListTagsForResource for scalable-target ARNs. moto 5.2.5 has
none of the three actions (HTTP 500), so ``aws_appautoscaling_target``, which
lists its tags after every read (and always with provider ``default_tags``),
cannot be created, and ``aws_appautoscaling_policy`` that depends on it fails
in turn.
"""

from __future__ import annotations

from typing import Any

from ._tag_store import TagStore

GAP = (
    "Application Auto Scaling has no ListTagsForResource/TagResource/"
    "UntagResource (HTTP 500) and drops RegisterScalableTarget tags."
)


def _target_arn(backend: Any, arn: str) -> str:
    from moto.core.exceptions import JsonRESTError

    for targets in backend.targets.values():
        for target in targets.values():
            if target.arn == arn:
                return arn
    raise JsonRESTError("ResourceNotFoundException", f"Resource {arn} does not exist.")


STORE = TagStore(
    backend="applicationautoscaling_backend",
    arn_param="ResourceARN",
    tags_param="Tags",
    tag_keys_param="TagKeys",
    resolve=_target_arn,
)


def apply() -> None:
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    STORE.tag_on_create(
        ApplicationAutoScalingResponse,
        "register_scalable_target",
        lambda answer: str(answer["ScalableTargetARN"]),
    )
    STORE.install(ApplicationAutoScalingResponse)
