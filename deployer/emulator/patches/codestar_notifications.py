"""CodeStar Notifications: moto 5.2.5 has no such service; add a minimal one.

``aws_codestarnotifications_notification_rule`` calls the codestar-notifications
REST-JSON API (CreateNotificationRule, DescribeNotificationRule,
UpdateNotificationRule, DeleteNotificationRule, ListNotificationRules, tags).
moto has no backend for it, so its server answers every call with HTTP 500.
This patch registers a small backend
(:mod:`deployer.emulator.patches._codestar_notifications_backend`) as the moto
module ``moto.codestarnotifications`` and routes the service's host to it, the
way moto routes its own services (signing name -> host -> URL pattern).
"""

from __future__ import annotations

import re
import sys

GAP = (
    "moto has no codestar-notifications service: every notification rule call fails with HTTP 500."
)

_MODULE = "moto.codestarnotifications"
_BACKEND = "codestar-notifications"


def apply() -> None:
    import moto.backend_index as backend_index

    from . import _codestar_notifications_backend as backend

    sys.modules.setdefault(_MODULE, backend)
    if all(name != _BACKEND for name, _ in backend_index.backend_url_patterns):
        backend_index.backend_url_patterns.append(
            (_BACKEND, re.compile(r"https?://codestar-notifications\.(.+)\.amazonaws\.com"))
        )
