"""A minimal AWS CodeStar Notifications backend for moto (not in moto 5.2.5).

Notification rules with their targets and tags: Create, Describe, Update,
Delete and List notification rules; Tag, Untag and ListTagsForResource;
Subscribe, Unsubscribe, ListTargets and DeleteTarget. Registered with moto's
server by :mod:`deployer.emulator.patches.codestar_notifications`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.common_models import BaseModel
from moto.core.exceptions import JsonRESTError
from moto.core.responses import BaseResponse
from moto.core.utils import unix_time
from moto.utilities.utils import get_partition

SERVICE = "codestar-notifications"

url_bases = [r"https?://codestar-notifications\.(.+)\.amazonaws\.com"]
#: The service's URL patterns (``{0}``: a URL base); ``url_paths`` at the end maps
#: each to the response class's dispatcher, as a moto service module does.
_URL_PATTERNS = (
    "{0}/untagResource/(?P<resourceArn>.+)$",
    "{0}/(?P<operation>[A-Za-z]+)$",
)


class ResourceNotFoundException(JsonRESTError):
    code = 404

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


class ResourceAlreadyExistsException(JsonRESTError):
    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ResourceAlreadyExistsException", message)


class ValidationException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


def _event_type(event_type_id: str) -> dict[str, str]:
    # "codepipeline-pipeline-pipeline-execution-failed" ->
    # service CodePipeline, resource Pipeline, name "Pipeline execution: Failed"
    service, _, rest = event_type_id.partition("-")
    resource, _, name = rest.partition("-")
    services = {
        "codepipeline": "CodePipeline",
        "codebuild": "CodeBuild",
        "codecommit": "CodeCommit",
        "codedeploy": "CodeDeploy",
        "codestar": "CodeStar",
    }
    return {
        "EventTypeId": event_type_id,
        "ServiceName": services.get(service, service),
        "EventTypeName": name.replace("-", " ").capitalize(),
        "ResourceType": resource.capitalize(),
    }


class NotificationRule(BaseModel):
    def __init__(
        self,
        account_id: str,
        region: str,
        name: str,
        resource: str,
        event_type_ids: list[str],
        targets: list[dict[str, str]],
        detail_type: str,
        status: str,
        tags: dict[str, str],
    ) -> None:
        digest = hashlib.sha1(f"{account_id}/{region}/{name}".encode()).hexdigest()
        self.arn = (
            f"arn:{get_partition(region)}:codestar-notifications:{region}:{account_id}:"
            f"notificationrule/{digest}"
        )
        self.name = name
        self.resource = resource
        self.event_type_ids = list(event_type_ids)
        self.targets = [self._target(t) for t in targets]
        self.detail_type = detail_type
        self.status = status or "ENABLED"
        self.tags = dict(tags)
        self.created_by = f"arn:{get_partition(region)}:iam::{account_id}:root"
        self.created = unix_time()
        self.last_modified = self.created

    @staticmethod
    def _target(target: dict[str, str]) -> dict[str, str]:
        return {
            "TargetAddress": target["TargetAddress"],
            "TargetType": target.get("TargetType", "SNS"),
            "TargetStatus": "ACTIVE",
        }

    def update(
        self,
        name: str | None,
        status: str | None,
        event_type_ids: list[str] | None,
        targets: list[dict[str, str]] | None,
        detail_type: str | None,
    ) -> None:
        if name:
            self.name = name
        if status:
            self.status = status
        if event_type_ids is not None:
            self.event_type_ids = list(event_type_ids)
        if targets is not None:
            self.targets = [self._target(t) for t in targets]
        if detail_type:
            self.detail_type = detail_type
        self.last_modified = unix_time()

    def describe(self) -> dict[str, Any]:
        return {
            "Arn": self.arn,
            "Name": self.name,
            "EventTypes": [_event_type(e) for e in self.event_type_ids],
            "Resource": self.resource,
            "Targets": self.targets,
            "DetailType": self.detail_type,
            "CreatedBy": self.created_by,
            "Status": self.status,
            "CreatedTimestamp": self.created,
            "LastModifiedTimestamp": self.last_modified,
            "Tags": self.tags,
        }


class CodeStarNotificationsBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.rules: dict[str, NotificationRule] = {}

    @property
    def _url_module(self) -> Any:
        return sys.modules[__name__]

    def _get(self, arn: str) -> NotificationRule:
        rule = self.rules.get(arn)
        if rule is None:
            raise ResourceNotFoundException(f"Notification rule {arn} does not exist.")
        return rule

    def create_notification_rule(self, **kwargs: Any) -> NotificationRule:
        if any(r.name == kwargs["name"] for r in self.rules.values()):
            raise ResourceAlreadyExistsException(
                f"A notification rule with the name {kwargs['name']} already exists."
            )
        if not kwargs["targets"]:
            raise ValidationException("At least one target is required.")
        rule = NotificationRule(self.account_id, self.region_name, **kwargs)
        self.rules[rule.arn] = rule
        return rule


codestarnotifications_backends = BackendDict(CodeStarNotificationsBackend, SERVICE)


class CodeStarNotificationsResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name=SERVICE)
        self.automated_parameter_parsing = True

    @property
    def backend(self) -> CodeStarNotificationsBackend:
        return codestarnotifications_backends[self.current_account][self.region]

    def create_notification_rule(self) -> str:
        rule = self.backend.create_notification_rule(
            name=self._get_param("Name"),
            resource=self._get_param("Resource"),
            event_type_ids=self._get_param("EventTypeIds") or [],
            targets=self._get_param("Targets") or [],
            detail_type=self._get_param("DetailType"),
            status=self._get_param("Status"),
            tags=self._get_param("Tags") or {},
        )
        return json.dumps({"Arn": rule.arn})

    def describe_notification_rule(self) -> str:
        return json.dumps(self.backend._get(self._get_param("Arn")).describe())

    def update_notification_rule(self) -> str:
        self.backend._get(self._get_param("Arn")).update(
            name=self._get_param("Name"),
            status=self._get_param("Status"),
            event_type_ids=self._get_param("EventTypeIds"),
            targets=self._get_param("Targets"),
            detail_type=self._get_param("DetailType"),
        )
        return "{}"

    def delete_notification_rule(self) -> str:
        arn = self._get_param("Arn")
        self.backend.rules.pop(arn, None)
        return json.dumps({"Arn": arn})

    def list_notification_rules(self) -> str:
        filters = self._get_param("Filters") or []
        rules = list(self.backend.rules.values())
        for f in filters:
            name, value = f.get("Name"), f.get("Value")
            if name == "RESOURCE":
                rules = [r for r in rules if r.resource == value]
            elif name == "TARGET_ADDRESS":
                rules = [r for r in rules if any(t["TargetAddress"] == value for t in r.targets)]
            elif name == "EVENT_TYPE_ID":
                rules = [r for r in rules if value in r.event_type_ids]
            elif name == "CREATED_BY":
                rules = [r for r in rules if r.created_by == value]
        return json.dumps(
            {"NotificationRules": [{"Id": r.arn.rsplit("/", 1)[-1], "Arn": r.arn} for r in rules]}
        )

    def subscribe(self) -> str:
        rule = self.backend._get(self._get_param("Arn"))
        target = self._get_param("Target") or {}
        if all(t["TargetAddress"] != target.get("TargetAddress") for t in rule.targets):
            rule.targets.append(rule._target(target))
        return json.dumps({"Arn": rule.arn})

    def unsubscribe(self) -> str:
        rule = self.backend._get(self._get_param("Arn"))
        address = self._get_param("TargetAddress")
        rule.targets = [t for t in rule.targets if t["TargetAddress"] != address]
        return json.dumps({"Arn": rule.arn})

    def list_targets(self) -> str:
        seen: dict[str, dict[str, str]] = {}
        for rule in self.backend.rules.values():
            for target in rule.targets:
                seen[target["TargetAddress"]] = target
        return json.dumps({"Targets": list(seen.values())})

    def delete_target(self) -> str:
        address = self._get_param("TargetAddress")
        if self._get_param("ForceUnsubscribeAll"):
            for rule in self.backend.rules.values():
                rule.targets = [t for t in rule.targets if t["TargetAddress"] != address]
        return "{}"

    def tag_resource(self) -> str:
        rule = self.backend._get(self._get_param("Arn"))
        rule.tags.update(self._get_param("Tags") or {})
        return json.dumps({"Tags": rule.tags})

    def untag_resource(self) -> str:
        from urllib.parse import unquote

        arn = self._get_param("Arn") or unquote(self._get_param("resourceArn") or "")
        rule = self.backend._get(arn)
        keys = self._get_param("TagKeys") or self.querystring.get("tagKeys") or []
        for key in keys:
            rule.tags.pop(key, None)
        return "{}"

    def list_tags_for_resource(self) -> str:
        return json.dumps({"Tags": self.backend._get(self._get_param("Arn")).tags})


url_paths: dict[str, Callable[..., Any]] = {
    path: CodeStarNotificationsResponse.dispatch for path in _URL_PATTERNS
}
