"""IAM: requests signed by an assumed role's session are authorized by its policies.

On AWS every request is evaluated against its caller's identity policies ("Policy
evaluation logic"); a build, an ECS task or a Lambda function that calls an API its
role does not allow gets AccessDenied. moto 5.2.5 evaluates nothing unless
``INITIAL_NO_AUTH_ACTION_COUNT`` is set, and then checks every caller (the
deployer's and Terraform's own account credentials included), against ``*`` for
most services (``IAMPolicyStatement`` ignores Resource but for S3, STS, SQS and IAM)
and with conditions it reads only from the request's query.

This patch replaces moto's hook (``ActionAuthenticatorMixin.
_authenticate_and_authorize_action``, run by every service that goes through
``BaseResponse.call_action`` and by S3): a request whose ``Authorization`` header
names an access key of a session moto's STS issued (AssumeRole, with its
``X-Amz-Security-Token``) is decided by ``deployer.emulator.authz`` for the role:
inline and attached managed policies (AWS managed ones included), Action, Resource
and Condition, explicit Deny first. The resource is the one AWS's "Service
Authorization Reference" names for the action, for the services the delivery
platform's sessions call: S3 (bucket or object, as moto gives it; the IAM action of
operations named otherwise, such as s3:ListBucket for ListObjectsV2 and HeadBucket,
s3:PutObject for multipart uploads and CopyObject's target; Lambda's Invoke as
lambda:InvokeFunction), ECR
(``repository/NAME``; GetAuthorizationToken ``*``), SSM (``parameter/NAME``, each of
GetParameters' names), CloudWatch Logs (``log-group:G``, ``log-group:G:log-stream:S``
for stream calls), KMS (the key's ARN, by id, ARN, alias or, for Decrypt, the
ciphertext), STS AssumeRole (the role), SNS (the topic), CodeBuild (the project; a
report group), ECS RegisterTaskDefinition / DescribeTaskDefinition (``*``: no
resource-level permissions), CodeDeploy (the application, deployment group or
deployment configuration). Context keys: ``aws:RequestedRegion``,
``aws:PrincipalArn``, ``aws:PrincipalAccount``; an ECS RegisterTaskDefinition also
needs ``iam:PassRole`` of its task and execution roles (``iam:PassedToService``
``ecs-tasks.amazonaws.com``), as ECS checks. A refusal is AWS's AccessDenied of the
service's protocol: ``AccessDeniedException`` (JSON services), ``AccessDenied``
(query and REST-XML services, S3), ``AuthorizationError`` (SNS), 403, with AWS's
message ("User: arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION is not authorized to
perform: ACTION on resource: RESOURCE because no identity-based policy allows the
ACTION action"; S3 quotes the resource).

Only the sessions of service roles are checked: a role that exists and whose trust
policy lets an AWS service (a ``Service`` principal) assume it, the roles CodeBuild,
ECS, Lambda, CodePipeline and CodeDeploy act as. Requests with any other credentials
are left to moto's own switch, off by default: unchecked. Those are the account's own
keys, and the sessions of the roles people and CI assume: the deployer and Terraform
reach each account through ``OrganizationAccountAccessRole`` (which moto lets them
assume though it does not exist) or the CI roles (trusting an account or a federated
identity).

Left out: the signature of a session's request is not verified; an expired session
is still accepted; the other services' resources (Lambda, ELB, CloudWatch, EventBridge,
Secrets Manager, ECS but task definitions: an action of theirs is decided on its
Action and Condition alone, whatever the statement's Resource); S3's KMS checks on
SSE-KMS objects (kms:Decrypt and kms:GenerateDataKey as the session are not asked for
an object request); and what ``authz``'s docstring lists (resource policies, key
policies, SCPs, boundaries, session policies).
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

from ._util import replace

GAP = (
    "IAM policies of assumed-role sessions are not evaluated: a build, task or function "
    "whose role lacks a permission is not refused AccessDenied as on AWS."
)

#: Credential scopes (signing names) whose IAM service prefix differs.
PREFIXES = {"monitoring": "cloudwatch", "email": "ses"}
#: Calls AWS never refuses on identity policies.
ALWAYS = frozenset({"sts:GetCallerIdentity"})
#: S3 operations moto names by the API whose IAM action has another name (Amazon S3 user
#: guide, "Required permissions for Amazon S3 API operations").
S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListBuckets": "ListAllMyBuckets",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "CopyObject": "PutObject",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListParts": "ListMultipartUploadParts",
    "DeleteObjects": "DeleteObject",
    "SelectObjectContent": "GetObject",
    "GetBucketCors": "GetBucketCORS",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "GetBucketReplication": "GetReplicationConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
}
#: The same for Lambda ("Actions, resources, and condition keys for AWS Lambda").
LAMBDA_ACTIONS = {
    "Invoke": "InvokeFunction",
    "InvokeAsync": "InvokeFunction",
    "InvokeWithResponseStream": "InvokeFunction",
}
#: Each service's operations whose IAM action has another name.
IAM_ACTIONS = {"s3": S3_ACTIONS, "lambda": LAMBDA_ACTIONS}
#: ECS calls with no resource-level permissions ("*" is their only resource).
TASK_DEFINITION_CALLS = frozenset(
    {
        "RegisterTaskDefinition",
        "DescribeTaskDefinition",
        "ListTaskDefinitions",
        "DeregisterTaskDefinition",
    }
)


def apply() -> None:
    from moto.core.authorization import ActionAuthenticatorMixin

    replace(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", _wrap)


def _wrap(original: Any) -> Any:
    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        session = _session(self)
        if session is None:
            original(self, iam_request_cls, resource)
            return
        _check(self, session, resource)

    return authorize


def _scope(headers: Any) -> list[str]:
    """The Authorization header's credential scope: key, date, region, service."""
    header = str(headers.get("Authorization") or "")
    return header.partition("Credential=")[2].partition(",")[0].split("/")


def _session(response: Any) -> Any:
    """The authz Session the request is signed with, or None (not a session of moto's
    STS: the account's own credentials, unchecked)."""
    from moto.sts.models import sts_backends

    from deployer.emulator.authz import Session

    headers = response.headers
    token = headers.get("X-Amz-Security-Token")
    if not token:
        return None
    scope = _scope(headers)
    if len(scope) < 4:
        return None
    key = scope[0]
    for account in [response.current_account, *list(sts_backends.keys())]:
        for backend in list(sts_backends[account].values()):
            for assumed in backend.assumed_roles:
                if assumed.access_key_id == key and assumed.session_token == token:
                    if not _service_role(assumed.role_arn):
                        return None
                    return Session(assumed.role_arn, assumed.session_name)
    return None


def _service_role(arn: str) -> bool:
    """Whether the role exists and an AWS service may assume it (its trust policy allows
    sts:AssumeRole to a ``Service`` principal): the sessions services make for builds,
    tasks and functions. The roles people and CI assume (the deployer's and Terraform's
    OrganizationAccountAccessRole, which moto lets them assume without it existing, the
    CI roles) are left unchecked."""
    from moto.iam.models import iam_backends

    parts = arn.split(":")
    try:
        role = iam_backends[parts[4]][parts[1]].get_role_by_arn(arn)
        trust = json.loads(role.assume_role_policy_document)
    except Exception:
        return False
    statements = trust.get("Statement") or []
    for statement in [statements] if isinstance(statements, dict) else statements:
        principal = statement.get("Principal")
        if (
            statement.get("Effect") == "Allow"
            and isinstance(principal, dict)
            and principal.get("Service")
        ):
            return True
    return False


def _check(response: Any, session: Any, resource: str) -> None:
    from deployer.emulator import authz

    scope = _scope(response.headers)
    region, service = scope[2], scope[3]
    name = response._get_action()
    name = name[0] if isinstance(name, list) else name
    name = IAM_ACTIONS.get(service, {}).get(name, name)
    action = f"{PREFIXES.get(service, service)}:{name}"
    if action in ALWAYS:
        return
    account = session.account if service != "s3" else response.current_account
    context = {"aws:RequestedRegion": region}
    try:
        resources = _resources(response, service, name, region, account, resource)
        for found in resources:
            verdict = authz.decide(
                authz.documents(session.role_arn),
                action,
                found,
                {
                    "aws:PrincipalArn": session.role_arn,
                    "aws:PrincipalAccount": session.account,
                    **context,
                },
            )
            if verdict != authz.ALLOW:
                raise authz.AccessDenied(session.arn, action, found or "*", verdict == authz.DENY)
        if action == "ecs:RegisterTaskDefinition":
            for role in _passed_roles(response):
                authz.authorize(
                    session,
                    "iam:PassRole",
                    role,
                    {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
                )
    except authz.AccessDenied as denied:
        _refuse(response, service, denied)


def _resources(
    response: Any, service: str, name: str, region: str, account: str, given: str
) -> list[str | None]:
    """The resources AWS authorizes ``name`` on; None where the emulator does not know."""
    if service == "s3" or given != "*":
        return [given]
    param = _params(response)
    arn = f"arn:aws:{service}:{region}:{account}"
    if service == "ecr":
        if name == "GetAuthorizationToken":
            return ["*"]
        repository = param.get("repositoryName")
        owner = param.get("registryId") or account
        return [f"arn:aws:ecr:{region}:{owner}:repository/{repository}"] if repository else [None]
    if service == "ssm":
        names = param.get("Names") or [param.get("Name") or param.get("Path")]
        return [_parameter_arn(arn, str(n)) for n in names if n] or [None]
    if service == "logs":
        group = param.get("logGroupName")
        if not group:
            return [None]
        stream = param.get("logStreamName")
        return [f"{arn}:log-group:{group}" + (f":log-stream:{stream}" if stream else "")]
    if service == "kms":
        return [_key_arn(param, region, account)]
    if service == "sns":
        topic = param.get("TopicArn") or param.get("TargetArn")
        return [str(topic)] if topic else [None]
    if service == "codebuild":
        return _codebuild(param, arn)
    if service == "codedeploy":
        return [_codedeploy(param, name, arn)]
    if service == "ecs" and name in TASK_DEFINITION_CALLS:
        return ["*"]
    return [None]


def _params(response: Any) -> dict[str, Any]:
    """The request's parameters: its JSON body, else its query/form values (first each)."""
    body = response.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if body and str(body).lstrip().startswith("{"):
        try:
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                return parsed
        except ValueError:
            pass
    found: dict[str, Any] = {}
    for key, values in (response.querystring or {}).items():
        found[key] = values[0] if isinstance(values, list) and values else values
    return found


def _parameter_arn(base: str, name: str) -> str:
    return f"{base}:parameter{name}" if name.startswith("/") else f"{base}:parameter/{name}"


def _key_arn(param: dict[str, Any], region: str, account: str) -> str | None:
    from deployer.emulator.authz import KeyNotFound, kms_key

    reference = param.get("KeyId") or param.get("DestinationKeyId")
    if not reference and param.get("CiphertextBlob"):
        from moto.kms.utils import _deserialize_ciphertext_blob

        try:
            blob = base64.b64decode(param["CiphertextBlob"])
            reference = _deserialize_ciphertext_blob(blob).key_id
        except Exception:
            return None
    if not reference:
        return "*"  # CreateKey, ListKeys, ListAliases: no resource
    try:
        return kms_key(str(reference), account, region).arn
    except KeyNotFound:
        return None  # KMS answers NotFoundException itself


def _codebuild(param: dict[str, Any], arn: str) -> list[str | None]:
    if param.get("projectName"):
        return [f"{arn}:project/{param['projectName']}"]
    if param.get("ids"):
        projects = dict.fromkeys(str(i).split(":")[0].rsplit("/", 1)[-1] for i in param["ids"])
        return [f"{arn}:project/{p}" for p in projects]
    for key in ("reportGroupArn", "arn"):
        if param.get(key):
            return [str(param[key])]
    return [None]


def _codedeploy(param: dict[str, Any], name: str, arn: str) -> str | None:
    application = param.get("applicationName")
    if name == "GetDeploymentConfig":
        return f"{arn}:deploymentconfig:{param.get('deploymentConfigName')}"
    if name == "GetDeployment" and param.get("deploymentId"):
        from moto.codedeploy.models import codedeploy_backends

        region, account = arn.split(":")[3], arn.split(":")[4]
        found = codedeploy_backends[account][region].deployments.get(param["deploymentId"])
        if found is None:
            return None
        return f"{arn}:deploymentgroup:{found.application_name}/{found.deployment_group_name}"
    if application and param.get("deploymentGroupName"):
        return f"{arn}:deploymentgroup:{application}/{param['deploymentGroupName']}"
    if application:
        return f"{arn}:application:{application}"
    return None


def _passed_roles(response: Any) -> list[str]:
    param = _params(response)
    return [str(param[k]) for k in ("taskRoleArn", "executionRoleArn") if param.get(k)]


def _refuse(response: Any, service: str, denied: Any) -> None:
    from moto.core import exceptions

    if service == "s3":
        raise _s3_denied()(
            denied.message.replace(
                f"on resource: {denied.resource} ", f'on resource: "{denied.resource}" '
            )
        )
    if _is_json(response):
        failure: Any = exceptions.JsonRESTError("AccessDeniedException", denied.message)
    else:  # moto's XML error (its AccessDeniedError's base), under SNS's code for SNS
        xml: Any = exceptions._RESTError
        failure = xml("AuthorizationError" if service == "sns" else "AccessDenied", denied.message)
    failure.code = 403
    raise failure


def _is_json(response: Any) -> bool:
    try:
        from moto.core.utils import get_service_model

        protocol = get_service_model(response.boto3_service_name).protocol
        return str(protocol) in ("json", "rest-json")
    except Exception:
        return "X-Amz-Target" in response.headers or "json" in str(
            response.headers.get("Content-Type") or ""
        )


@functools.cache
def _s3_denied() -> Any:
    """S3's AccessDenied (a ServiceException of moto's S3, as its own refusals are)."""
    from moto.s3.exceptions import S3ClientError

    class S3AccessDenied(S3ClientError):
        code = "AccessDenied"

        def __init__(self, message: str) -> None:
            super().__init__("AccessDenied", message)

    return S3AccessDenied
