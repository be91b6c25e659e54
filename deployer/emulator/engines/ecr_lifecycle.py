"""ECR lifecycle policies: images expire as each repository's policy says.

Reproduces, after ECR's "How lifecycle policies work" and "Lifecycle policy
properties":

* every repository with a lifecycle policy, in every account and region, is
  evaluated against its own policy only (a replica in another region follows the
  policy of its own repository there, if any);
* rules apply in ``rulePriority`` order; ``tagStatus`` ``untagged`` selects
  images without tags, ``tagged`` images with a tag matching each entry of
  ``tagPrefixList`` (prefixes) or ``tagPatternList`` (``*`` wildcards), ``any``
  every image;
* ``imageCountMoreThan``: the images a rule selects, youngest first by push
  time, beyond the count expire; ``sinceImagePushed``: those pushed more than
  ``countNumber`` days ago expire;
* an image is expired by one rule or none: once a rule's tag requirements
  select an image, rules of lower priority still count it but cannot expire it;
* expiring deletes the image (its tags and digest) from the repository.

AWS expires images "within 24 hours" of their becoming eligible. The engine
evaluates every 10 emulated minutes, and soon after each push through the
local registry, which is within that window. Push times are emulated time for
images pushed through the registry (``PutImage`` through the API keeps moto's
wall-clock time).

Left out: the lifecycle policy preview APIs (``StartLifecyclePolicyPreview``),
``countUnit`` other than days, archive actions (``transition``), the
``lastRecordedPullTime`` criteria, CloudTrail's ``PolicyExecutionEvent``.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

log = logging.getLogger(__name__)

DAY_S = 86400.0
EVERY_S = 600.0


@dataclass(frozen=True)
class Image:
    digest: str
    tags: tuple[str, ...]
    pushed_at: float


def _selects(rule: dict[str, Any], image: Image) -> bool:
    selection = rule.get("selection", {})
    status = selection.get("tagStatus", "any")
    if status == "untagged":
        return not image.tags
    if status == "tagged":
        if not image.tags:
            return False
        prefixes = selection.get("tagPrefixList") or []
        patterns = selection.get("tagPatternList") or []
        return all(any(t.startswith(p) for t in image.tags) for p in prefixes) and all(
            any(fnmatch.fnmatchcase(t, p) for t in image.tags) for p in patterns
        )
    return True


def _eligible(rule: dict[str, Any], selected: Sequence[Image], now: float) -> list[Image]:
    selection = rule.get("selection", {})
    count = int(selection.get("countNumber", 0))
    if selection.get("countType") == "imageCountMoreThan":
        youngest_first = sorted(selected, key=lambda i: i.pushed_at, reverse=True)
        return youngest_first[count:]
    if selection.get("countType") == "sinceImagePushed":
        return [i for i in selected if i.pushed_at < now - count * DAY_S]
    return []


def expiring(policy: dict[str, Any], images: Sequence[Image], now: float) -> dict[str, int]:
    """The images ``policy`` expires at ``now``: digest -> the rulePriority expiring it."""
    rules = sorted(policy.get("rules", []), key=lambda r: int(r.get("rulePriority", 0)))
    claimed: set[str] = set()
    expired: dict[str, int] = {}
    for rule in rules:
        if rule.get("action", {}).get("type", "expire") != "expire":
            continue
        selected = [i for i in images if _selects(rule, i)]
        for image in _eligible(rule, selected, now):
            if image.digest not in claimed:
                expired[image.digest] = int(rule.get("rulePriority", 0))
        claimed.update(i.digest for i in selected)
    return expired


class EcrLifecycle:
    """The engine (see the module docstring)."""

    name = "ecr-lifecycle"

    def __init__(self, every: float = EVERY_S, lock: Any = BACKEND_LOCK) -> None:
        self.every = every
        self.lock = lock
        self.runs = 0
        self.expired = 0
        self._scheduler: Scheduler | None = None

    def start(self, scheduler: Scheduler) -> None:
        from deployer.emulator import registry

        self._scheduler = scheduler
        scheduler.every(self.every, self.run, name="ecr-lifecycle")
        registry.PUSH_HOOKS.append(self.soon)

    def soon(self) -> None:
        """Evaluate shortly (after a push), without waiting for the next round."""
        if self._scheduler is not None:
            self._scheduler.call_later(1.0, self.run, name="ecr-lifecycle after a push")

    def run(self) -> None:
        from moto.ecr.models import ecr_backends

        now = self._scheduler.now() if self._scheduler else 0.0
        with self.lock:
            for account in list(ecr_backends.keys()):
                for region, backend in list(ecr_backends[account].items()):
                    for repository in list(backend.repositories.values()):
                        self._apply(backend, repository, now, f"{account}/{region}")
            self.runs += 1

    def _apply(self, backend: Any, repository: Any, now: float, where: str) -> None:
        text = repository.lifecycle_policy
        if not text:
            return
        try:
            policy = json.loads(text)
        except ValueError:
            return
        images = [
            Image(
                i.get_image_digest(), tuple(t for t in i.image_tags if t), float(i.image_pushed_at)
            )
            for i in repository.images
        ]
        for digest, priority in expiring(policy, images, now).items():
            backend.batch_delete_image(repository.name, image_ids=[{"imageDigest": digest}])
            self.expired += 1
            log.info(
                "ecr-lifecycle: %s %s: rule %d expired %s", where, repository.name, priority, digest
            )

    def status(self) -> dict[str, Any]:
        return {"every_s": self.every, "runs": self.runs, "expired": self.expired}
