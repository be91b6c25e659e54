"""EventBridge: events reach the targets of the enabled rules that match them.

After the EventBridge user guide ("Amazon EventBridge events", "Event
patterns", "Amazon EventBridge input transformation", "EventBridge targets",
"Using resource-based policies for Amazon EventBridge") and the PutEvents and
PutTargets API reference. An event put on a bus (PutEvents, or moto's
``EventsBackend.put_events`` called by an engine, such as the alarm engine's
"CloudWatch Alarm State Change" events) is matched against the rules *of that
bus*; each rule that is enabled, has an event pattern (a rule with only a
schedule matches no event) and matches sends the event to each of its targets:

* what a target receives: the event envelope ``version`` ("0"), ``id``,
  ``detail-type``, ``source``, ``account``, ``time`` (ISO 8601, seconds),
  ``region``, ``resources``, ``detail`` as minified JSON; or the target's
  ``Input`` (the constant JSON text, nothing of the event); or what its
  ``InputPath`` selects (JSONPath: ``$``, dot names with dashes, underscores
  and slashes, ``['name']``, array indices, ``*``); or its ``InputTransformer``:
  each ``InputPathsMap`` variable (a path that selects nothing defines no
  variable: its placeholder is left empty) and the reserved
  ``aws.events.rule-arn``, ``aws.events.rule-name``,
  ``aws.events.event.ingestion-time`` (ISO 8601), ``aws.events.event`` (the
  envelope without ``detail``) and ``aws.events.event.json`` (the whole
  envelope) fill the ``<name>`` placeholders of ``InputTemplate``. A template
  that is JSON once filled is sent minified: a placeholder in a value position
  becomes that value as JSON (a string is quoted), one inside a JSON string is
  put in unescaped, an object or array with its quotes removed. A template that
  is not JSON (plain text, one quoted line after another) is sent as text, the
  values put in the same way as inside a string;
* CodePipeline pipelines (``arn:aws:codepipeline:<region>:<account>:<name>``, "Start a
  pipeline on a CodeCommit change"): an execution of the pipeline started, trigger
  ``CloudWatchEvent`` with the rule's ARN (``codepipeline_executions.start_by_event``;
  nothing of the event is passed on, a missing pipeline is a failed invocation);
* SQS queues (SendMessage in the queue's account and region; a FIFO queue takes
  ``SqsParameters.MessageGroupId`` and needs content-based deduplication), SNS
  topics (Publish), EventBridge archives (moto's);
* CloudWatch Logs log groups of the rule's account ("Using resource-based
  policies for Amazon EventBridge", CloudWatch Logs): only if a resource policy
  of the account and region allows ``events.amazonaws.com`` to
  ``logs:CreateLogStream`` and ``logs:PutLogEvents`` on the group's streams
  (conditions on ``aws:SourceArn``, ``aws:SourceAccount``); the text sent (the
  event's JSON, unless Input or a transformer say otherwise) is the message of a
  log event in a new stream, stamped with the event's ``time``;
* event buses of the rule's account or another, in its region or another
  ("Sending and receiving events between AWS accounts in Amazon EventBridge",
  "Permissions for event buses"): the target's role (``RoleArn``), when it has
  one, must trust ``events.amazonaws.com`` (conditions on the rule's
  ``aws:SourceArn`` and ``aws:SourceAccount``) and allow ``events:PutEvents``
  on the bus; a bus of another account must have a policy allowing the rule's
  account (its ID, its root, ``*``, or the role) ``events:PutEvents`` on the
  bus, under its conditions (``aws:SourceArn``, ``aws:SourceAccount``,
  ``aws:PrincipalAccount``, ``events:source``, ``events:detail-type``; an
  explicit Deny wins). The receiving bus's rules then see the event as it was
  sent: its ``id``, ``account``, ``region``, ``time``, ``source``,
  ``detail-type``, ``resources`` and ``detail``. An event that reached its bus
  through a bus target is not sent on to another bus (the guide: not to a third
  account, nor from a second bus to a third);
* Lambda functions, invoked asynchronously (``Invoke`` with InvocationType
  Event): only if the function's resource-based policy allows
  ``events.amazonaws.com`` to call ``lambda:InvokeFunction`` under the
  statement's conditions (``AWS:SourceArn`` matching the rule's ARN,
  ``AWS:SourceAccount`` the rule's account). The invocation runs on a thread
  of its own, outside the emulator's backend lock, so PutEvents does not wait
  for the function (an invoke that reads moto's backends takes the lock itself);
* a delivery that fails (no permission, no such queue, a FIFO queue without
  content-based deduplication, an exception in the target) is a failed invocation: logged and kept
  in :data:`FAILED_INVOCATIONS`; the PutEvents caller sees its entry succeed.

moto 5.2.5 delivers to disabled rules and to rules that only have a schedule,
sends targets an envelope without ``account``, applies neither ``Input`` nor
``InputPath``, fills templates by plain text replacement and fails on one that
is not JSON, and raises NotImplementedError for SNS and Lambda targets, which
fails the whole PutEvents call with HTTP 500; it puts an event sent to another
account's bus under the receiving account and region, whatever that bus's
policy says, and writes to a log group that no resource policy opens to
EventBridge. This patch replaces
``Rule.send_to_targets`` (moto's is kept as its ``__wrapped__``, for the tests
that show the gap); ``events_patterns`` does the matching.

Left out: an ``InputPath`` that selects nothing is a failed invocation here
(the guide does not say what AWS sends); other target kinds (ECS tasks, Step
Functions, Kinesis, Firehose, API destinations, CodeBuild, SSM,
Batch, Redshift, SageMaker, HTTP endpoints): each delivery to them is a failed
invocation; the IAM role of
a target (``RoleArn``) but a bus's and the resource policies of queues and topics
are not checked; a bus of the rule's own account is not asked for its policy;
organisation-wide grants (``aws:PrincipalOrgID``) never hold; log stream names
are random UUIDs, one stream a delivery; no retry policy, dead-letter queue, or
batching; no FailedInvocations or Invocations metrics; an entry without ``Time``
is stamped with the real clock, not the emulated one (engines pass theirs);
deliveries go in the order of rules and targets, synchronously for everything
but Lambda.
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from ._util import replace

GAP = (
    "EventBridge in moto delivers to disabled and schedule-only rules, drops account from the "
    "event, ignores Input and InputPath, and fails PutEvents with an SNS or Lambda target."
)

log = logging.getLogger(__name__)

#: Rule states in which a rule matches events.
ENABLED_STATES = ("ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")

#: The principal EventBridge invokes Lambda functions as.
EVENTS_PRINCIPAL = "events.amazonaws.com"

#: Marks an event that reached its bus through an event bus target (the sending rule's ARN).
FROM_BUS = "deployer:from-bus"

#: The last failed invocations (rule ARN, target id, reason), newest last.
FAILED_INVOCATIONS: deque[dict[str, str]] = deque(maxlen=200)


class Missing:
    """A JSONPath that selects nothing."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


class DeliveryFailed(Exception):
    """The target could not take the event: a failed invocation."""


# --- the event -----------------------------------------------------------------------------------


def iso_time(value: Any) -> str:
    """An event time as EventBridge writes it: ``2015-11-11T21:29:54Z``."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.datetime.fromtimestamp(float(value), datetime.UTC)
    else:
        moment = datetime.datetime.now(datetime.UTC)
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event as EventBridge delivers it, from moto's internal event dict."""
    out: dict[str, Any] = {
        "version": str(event.get("version") or "0"),
        "id": event.get("id", ""),
        "detail-type": event.get("detail-type", ""),
        "source": event.get("source", ""),
        "account": event.get("account", ""),
        "time": iso_time(event.get("time")),
        "region": event.get("region", ""),
        "resources": list(event.get("resources") or []),
        "detail": event.get("detail", {}),
    }
    if event.get("replay-name"):
        out["replay-name"] = event["replay-name"]
    return out


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- JSONPath (the subset EventBridge evaluates) ---------------------------------------------

_SEGMENT = re.compile(r"\.(\*|[^.\[\]]+)|\[\s*(\*|\d+|'[^']*'|\"[^\"]*\")\s*\]")


def select(document: Any, path: str) -> Any:
    """What ``path`` selects in ``document``: a value, a list (with ``*``), or MISSING."""
    path = path.strip()
    if not path.startswith("$"):
        return MISSING
    nodes = [document]
    spread = False
    position = 1
    while position < len(path):
        found = _SEGMENT.match(path, position)
        if found is None:
            return MISSING
        position = found.end()
        name, bracketed = found.group(1), found.group(2)
        following: list[Any] = []
        for node in nodes:
            if (name or bracketed) == "*":
                spread = True
                if isinstance(node, dict):
                    following.extend(node.values())
                elif isinstance(node, list):
                    following.extend(node)
            elif bracketed is not None and bracketed.isdigit():
                if isinstance(node, list) and int(bracketed) < len(node):
                    following.append(node[int(bracketed)])
            else:
                key = name if name is not None else bracketed[1:-1]
                if isinstance(node, dict) and key in node:
                    following.append(node[key])
        nodes = following
    if spread:
        return nodes if nodes else MISSING
    return nodes[0] if nodes else MISSING


# --- input transformation ------------------------------------------------------------------------


def _as_text(value: Any) -> str:
    """A value put inside a string (or plain text): unescaped, objects without quotes."""
    if value is MISSING:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return compact(value).replace('"', "")
    return compact(value)


def _fill(template: str, variables: Mapping[str, Any], json_values: bool) -> str:
    """``template`` with known ``<name>``s filled; JSON mode: values outside strings as JSON."""
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(template):
        char = template[i]
        if char == "<":
            end = template.find(">", i + 1)
            if end != -1 and template[i + 1 : end] in variables:
                value = variables[template[i + 1 : end]]
                if json_values and not in_string:
                    out.append("" if value is MISSING else compact(value))
                else:
                    out.append(_as_text(value))
                i = end + 1
                continue
        if in_string and char == "\\" and i + 1 < len(template):
            out.append(template[i : i + 2])
            i += 2
            continue
        if char == '"':
            in_string = not in_string
        out.append(char)
        i += 1
    return "".join(out)


def transform(
    transformer: Mapping[str, Any],
    event: Mapping[str, Any],
    rule_arn: str,
    rule_name: str,
    ingestion_time: str,
) -> str:
    """The text an InputTransformer sends for ``event`` (the delivered envelope)."""
    variables: dict[str, Any] = {
        name: select(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    variables.update(
        {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": ingestion_time,
            "aws.events.event": {k: v for k, v in event.items() if k != "detail"},
            "aws.events.event.json": dict(event),
        }
    )
    template = str(transformer.get("InputTemplate") or "")
    filled = _fill(template, variables, json_values=True)
    try:
        return compact(json.loads(filled))
    except ValueError:
        return _fill(template, variables, json_values=False)


def target_input(
    target: Mapping[str, Any],
    event: Mapping[str, Any],
    rule_arn: str,
    rule_name: str,
    ingestion_time: str,
) -> str:
    """What ``target`` receives for ``event``: Input, InputPath, InputTransformer or the event."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        selected = select(event, str(target["InputPath"]))
        if selected is MISSING:
            raise DeliveryFailed(f"InputPath {target['InputPath']} selects nothing in the event")
        return compact(selected)
    if target.get("InputTransformer"):
        return transform(target["InputTransformer"], event, rule_arn, rule_name, ingestion_time)
    return compact(event)


# --- Lambda permission ---------------------------------------------------------------------------


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _action_allows(action: Any) -> bool:
    return any(
        str(a).lower() in ("lambda:invokefunction", "lambda:*", "*") for a in _listed(action)
    )


def _condition_holds(operator: str, key: str, expected: Any, rule_arn: str, account: str) -> bool:
    actual = {"aws:sourcearn": rule_arn, "aws:sourceaccount": account}.get(key.lower())
    if actual is None:
        return False  # a key EventBridge's request does not carry (aws:PrincipalOrgID, ...)
    wanted = [str(e) for e in _listed(expected)]
    if operator in ("ArnLike", "StringLike"):
        return any(fnmatch.fnmatchcase(actual, w) for w in wanted)
    if operator in ("ArnEquals", "StringEquals"):
        return actual in wanted
    return False


def lambda_allows(statements: list[dict[str, Any]], rule_arn: str, account: str) -> bool:
    """Whether a function's policy lets EventBridge invoke it for the rule ``rule_arn``."""
    for statement in statements:
        if statement.get("Effect", "Allow") != "Allow":
            continue
        if not _service_principal(statement.get("Principal"), EVENTS_PRINCIPAL):
            continue
        if not _action_allows(statement.get("Action")):
            continue
        conditions = statement.get("Condition") or {}
        if all(
            _condition_holds(operator, key, expected, rule_arn, account)
            for operator, tests in conditions.items()
            for key, expected in tests.items()
        ):
            return True
    return False


def invoke_async(backend: Any, function_arn: str, payload: str, name: str) -> threading.Thread:
    """Call the Lambda backend's Invoke with InvocationType Event on a thread of its own.

    Not under the backend lock: the function may run for minutes (in a container);
    an invoke that reads moto's backends takes the lock itself, briefly.
    """

    def run() -> None:
        try:
            backend.invoke(
                function_name=function_arn,
                qualifier=None,
                body=payload,
                headers={"x-amz-invocation-type": "Event"},
                response_headers={},
            )
        except Exception as error:  # an asynchronous invocation reports to no caller
            log.warning("EventBridge: invoking %s failed: %s", function_arn, error)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


# --- delivery ------------------------------------------------------------------------------------


def _arn_parts(arn: str) -> tuple[str, str, str, str]:
    """(service, region, account, resource) of an ARN."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise DeliveryFailed(f"{arn} is not an ARN")
    return parts[2], parts[3], parts[4], parts[5]


def _to_sqs(target: Mapping[str, Any], region: str, account: str, queue: str, body: str) -> None:
    from moto.sqs.models import sqs_backends

    backend = sqs_backends[account][region]
    found = backend.queues.get(queue)
    if found is None:
        raise DeliveryFailed(f"no queue {queue} in {account}/{region}")
    group = (target.get("SqsParameters") or {}).get("MessageGroupId")
    if getattr(found, "fifo_queue", False):
        if not group:
            raise DeliveryFailed(f"FIFO queue {queue} needs SqsParameters.MessageGroupId")
        if not getattr(found, "content_based_deduplication", False):
            raise DeliveryFailed(f"FIFO queue {queue} has no content-based deduplication")
        backend.send_message(queue_name=queue, message_body=body, group_id=group)
    else:
        backend.send_message(queue_name=queue, message_body=body)


def _to_sns(region: str, account: str, topic_arn: str, body: str) -> None:
    from moto.sns.models import sns_backends

    backend = sns_backends[account][region]
    if topic_arn not in backend.topics:
        raise DeliveryFailed(f"no topic {topic_arn}")
    backend.publish(message=body, arn=topic_arn)


def _event_millis(event: Mapping[str, Any]) -> int:
    """The event's ``time`` (``2015-11-11T21:29:54Z``) in epoch milliseconds."""
    try:
        moment = datetime.datetime.strptime(str(event.get("time")), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return int(datetime.datetime.now(datetime.UTC).timestamp() * 1000)
    return int(moment.replace(tzinfo=datetime.UTC).timestamp() * 1000)


def _service_principal(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return service in _listed(principal.get("Service", [])) or "*" in _listed(
        principal.get("AWS", [])
    )


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    statements = document.get("Statement") if isinstance(document, dict) else None
    statements = [statements] if isinstance(statements, dict) else statements or []
    return [s for s in statements if isinstance(s, dict)]


def _source_context(rule: Any, event: Mapping[str, Any]) -> dict[str, str]:
    """The request context of a delivery EventBridge makes for ``rule``."""
    return {
        "aws:SourceArn": rule.arn,
        "aws:SourceAccount": rule.account_id,
        "events:source": str(event.get("source", "")),
        "events:detail-type": str(event.get("detail-type", "")),
    }


def _to_logs(
    rule: Any, event: Mapping[str, Any], region: str, account: str, resource: str, body: str
) -> None:
    from moto.logs.models import logs_backends
    from moto.moto_api._internal import mock_random

    from deployer.emulator.authz import ALLOW, decide

    group = resource.split(":", 1)[1] if ":" in resource else resource
    if group.endswith(":*"):
        group = group[:-2]
    if account != rule.account_id:
        raise DeliveryFailed(f"the log group {group} is in account {account}, not the rule's")
    backend = logs_backends[account][region]
    found = backend.groups.get(group)
    if found is None:
        raise DeliveryFailed(f"no log group {group}")
    stream = str(mock_random.uuid4())
    partition = rule.arn.split(":")[1]
    stream_arn = f"arn:{partition}:logs:{region}:{account}:log-group:{group}:log-stream:{stream}"
    policy = [
        {"Statement": [s for s in _statements(p.policy_document)
                       if _service_principal(s.get("Principal"), EVENTS_PRINCIPAL)]}
        for p in backend.resource_policies.values()
    ]  # fmt: skip
    context = _source_context(rule, event)
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        if decide(policy, action, stream_arn, context) != ALLOW:
            raise DeliveryFailed(
                f"no CloudWatch Logs resource policy allows {EVENTS_PRINCIPAL} to {action} "
                f"in {group}"
            )
    found.create_log_stream(stream)
    # The group's own put: the backend's would hold the event's time to moto's wall clock
    # (14 days back, 2 hours ahead), and the emulator's clock runs ahead of it.
    found.put_log_events(stream, [{"timestamp": _event_millis(event), "message": body}])


def _to_lambda(rule: Any, target: Mapping[str, Any], region: str, account: str, body: str) -> None:
    from moto.awslambda.utils import get_backend

    backend = get_backend(account, region)
    try:
        function = backend.get_function(target["Arn"])
    except Exception as error:
        raise DeliveryFailed(f"no function {target['Arn']}: {error}") from error
    if not lambda_allows(list(function.policy.statements), rule.arn, rule.account_id):
        raise DeliveryFailed(
            f"the resource-based policy of {target['Arn']} does not allow {EVENTS_PRINCIPAL} "
            f"to invoke it for {rule.arn}"
        )
    invoke_async(backend, target["Arn"], body, f"events-{rule.name}-{target.get('Id', '')}")


def _account_principal(principal: Any, account: str, partition: str, role: str | None) -> bool:
    """Whether a bus policy's Principal names the sending account (or its role)."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    names = {account, f"arn:{partition}:iam::{account}:root", "*"} | ({role} if role else set())
    return any(str(p) in names for p in _listed(principal.get("AWS", [])))


def _role_may_put(rule: Any, role: str, bus_arn: str, context: Mapping[str, str]) -> None:
    """The target's role: EventBridge may assume it for the rule, and it may PutEvents."""
    from moto.iam.models import iam_backends

    from deployer.emulator.authz import ALLOW, decide, documents

    parts = role.split(":")
    if len(parts) < 6 or parts[4] != rule.account_id:
        raise DeliveryFailed(f"the role {role} is not a role of the rule's account")
    try:
        found = iam_backends[parts[4]][parts[1]].get_role_by_arn(role)
    except Exception as error:
        raise DeliveryFailed(f"no role {role}") from error
    trust = [s for s in _statements(found.assume_role_policy_document)
             if _service_principal(s.get("Principal"), EVENTS_PRINCIPAL)]  # fmt: skip
    if decide([{"Statement": trust}], "sts:AssumeRole", None, context) != ALLOW:
        raise DeliveryFailed(f"{EVENTS_PRINCIPAL} may not assume {role} for {rule.arn}")
    if decide(documents(role), "events:PutEvents", bus_arn, context) != ALLOW:
        raise DeliveryFailed(f"{role} is not allowed events:PutEvents on {bus_arn}")


def _to_bus(
    rule: Any,
    target: Mapping[str, Any],
    event: Mapping[str, Any],
    original: Mapping[str, Any],
    region: str,
    account: str,
    resource: str,
) -> None:
    from moto.events.models import events_backends

    from deployer.emulator.authz import ALLOW, decide

    if original.get(FROM_BUS):
        raise DeliveryFailed("an event that came from another event bus is not sent on again")
    name = resource.split("/", 1)[1]
    bus = events_backends[account][region].event_buses.get(name)
    if bus is None:
        raise DeliveryFailed(f"no event bus {name} in {account}/{region}")
    context = {**_source_context(rule, event), "aws:PrincipalAccount": rule.account_id}
    role = target.get("RoleArn")
    if role:
        _role_may_put(rule, str(role), bus.arn, context)
    if account != rule.account_id:
        partition = rule.arn.split(":")[1]
        admitted = [
            s
            for s in _statements(bus.policy or "{}")
            if _account_principal(s.get("Principal"), rule.account_id, partition, role)
        ]
        if decide([{"Statement": admitted}], "events:PutEvents", bus.arn, context) != ALLOW:
            raise DeliveryFailed(
                f"the policy of {bus.arn} does not allow account {rule.account_id} "
                "events:PutEvents for this event"
            )
    received = {
        "version": event["version"],
        "id": event["id"],
        "detail-type": event["detail-type"],
        "source": event["source"],
        "account": event["account"],
        "time": event["time"],
        "region": event["region"],
        "resources": list(event["resources"]),
        "detail": event["detail"],
        "ingestion-time": datetime.datetime.now(datetime.UTC).timestamp(),
        FROM_BUS: rule.arn,
    }
    for receiver in list(bus.rules.values()):
        receiver.send_to_targets(received)  # type: ignore[arg-type]  # moto's TypedDict


def _to_codepipeline(rule: Any, region: str, account: str, resource: str) -> None:
    from .codepipeline_executions import start_by_event

    start_by_event(account, region, resource, rule.arn)


def deliver(
    rule: Any,
    target: Mapping[str, Any],
    event: dict[str, Any],
    original: Mapping[str, Any],
    ingestion_time: str,
) -> None:
    """Send ``event`` (the envelope) to one target of ``rule``; DeliveryFailed if it cannot."""
    service, region, account, resource = _arn_parts(str(target.get("Arn", "")))
    body = target_input(target, event, rule.arn, rule.name, ingestion_time)
    if service == "sqs":
        _to_sqs(target, region, account, resource, body)
    elif service == "sns":
        _to_sns(region, account, target["Arn"], body)
    elif service == "logs" and resource.startswith("log-group:"):
        _to_logs(rule, event, region, account, resource, body)
    elif service == "lambda" and resource.startswith("function:"):
        _to_lambda(rule, target, region, account, body)
    elif service == "events" and resource.startswith("event-bus/"):
        _to_bus(rule, target, event, original, region, account, resource)
    elif service == "codepipeline":
        _to_codepipeline(rule, region, account, resource)
    elif service == "events" and not resource.strip(":"):  # moto's archive: its own rule's target
        archive_arn = str(json.loads(body)["archive-arn"])
        kept = {k: v for k, v in original.items() if k != FROM_BUS}
        rule._send_to_events_archive(archive_arn.split("/", 1)[1], kept)
    else:
        raise DeliveryFailed(f"EventBridge targets of {service} are not emulated")


def record_failure(rule: Any, target: Mapping[str, Any], reason: str) -> None:
    FAILED_INVOCATIONS.append(
        {"rule": rule.arn, "target": str(target.get("Id", "")), "reason": reason}
    )
    log.warning(
        "EventBridge: failed invocation of %s by %s: %s", target.get("Id"), rule.arn, reason
    )


def send_to_targets(rule: Any, original: Mapping[str, Any]) -> bool:
    """Deliver one event to ``rule``'s targets if the rule takes it; whether it did."""
    if rule.state not in ENABLED_STATES or not rule.event_pattern.get_pattern():
        return False
    event = envelope(original)
    if not rule.event_pattern.matches_event(event):
        return False
    ingestion_time = iso_time(original.get("ingestion-time"))
    for target in list(rule.targets):
        try:
            deliver(rule, target, event, original, ingestion_time)
        except Exception as error:  # a failed invocation, not the caller's error
            record_failure(rule, target, str(error) or type(error).__name__)
    return True


def apply() -> None:
    from moto.events.models import Rule

    def factory(_original: Callable[..., Any]) -> Callable[..., None]:
        def rule_send_to_targets(
            self: Any, original_event: Any, transform_input: bool = True
        ) -> None:
            send_to_targets(self, original_event)

        rule_send_to_targets.__wrapped__ = _original  # type: ignore[attr-defined]
        return rule_send_to_targets

    replace(Rule, "send_to_targets", factory)
