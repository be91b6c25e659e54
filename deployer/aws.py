"""Where AWS calls go, and the one place AWS sessions and clients are made.

A ``Target`` is either the local emulator (the default) or real AWS. For the
emulator, Terraform and boto3 reach it through ``AWS_ENDPOINT_URL`` with test
credentials; real credentials are removed from the environment so they can
never be sent to it. For both, work in an environment's account goes through
the role the environment names, so the same code path runs locally and on AWS.

Clients come from a ``ClientFactory`` (through a ``deployer.scope.Scope``);
tests inject their own ``Clients``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from deployer.emulator import TEST_CREDENTIALS
from deployer.errors import AwsError
from deployer.names import iam_role_arn

if TYPE_CHECKING:
    import botocore.exceptions

LOCAL = "local"
AWS = "aws"
TARGETS = (LOCAL, AWS)

#: Variables that would point Terraform or boto3 at real credentials or endpoints.
_AMBIENT_AWS_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
)


@dataclass(frozen=True)
class Target:
    """Where AWS calls go, and whether only to read (``deployer.identity``)."""

    kind: str
    endpoint: str | None = None
    #: Plan and check drift as the CI plan role: state with its own credentials,
    #: each account through its read role, never a deploy role.
    read_only: bool = False

    @property
    def is_local(self) -> bool:
        return self.kind == LOCAL

    def describe(self) -> str:
        where = f"local emulator at {self.endpoint}" if self.is_local else "AWS"
        return f"{where}, read-only" if self.read_only else where

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment for a subprocess (Terraform) talking to this target."""
        env = dict(os.environ if base is None else base)
        env.pop("TF_WORKSPACE", None)
        if self.is_local:
            for key in _AMBIENT_AWS_VARS:
                env.pop(key, None)
            for key in list(env):
                if key.startswith("AWS_ENDPOINT_URL"):
                    env.pop(key)
            assert self.endpoint
            env.update(TEST_CREDENTIALS)
            env["AWS_ENDPOINT_URL"] = self.endpoint
            env["AWS_EC2_METADATA_DISABLED"] = "true"
        return env

    def provider_settings(self) -> dict[str, Any]:
        """Settings the stacks' provider blocks take as variables.

        Only what an emulator needs: path-style S3, no credential/metadata
        checks, and few retries (unimplemented actions would otherwise be
        retried for minutes). On AWS these are the provider defaults.
        """
        if self.is_local:
            return {
                "s3_use_path_style": True,
                "skip_credentials_validation": True,
                "skip_metadata_api_check": True,
                "max_retries": 3,
            }
        return {
            "s3_use_path_style": False,
            "skip_credentials_validation": False,
            "skip_metadata_api_check": False,
            "max_retries": None,
        }

    def backend_settings(self) -> dict[str, Any]:
        """Extra S3 backend settings for this target."""
        if self.is_local:
            return {
                "use_path_style": True,
                "skip_credentials_validation": True,
                "skip_metadata_api_check": True,
                "skip_requesting_account_id": True,
            }
        return {}


def role_arn(account_id: str, role_name: str | None) -> str | None:
    """The role to assume in an account; None when none is configured (the emulator)."""
    return iam_role_arn(account_id, role_name) if role_name else None


class Clients(Protocol):
    """Where clients come from: the ClientFactory, or a test's stubs."""

    def client(
        self,
        service: str,
        region: str,
        *,
        account_id: str | None = None,
        role_name: str | None = None,
    ) -> Any: ...


class ClientFactory:
    """AWS clients for a target, optionally inside an account through a role.

    The one place sessions and clients are made (a lint rule bans ``boto3.client``
    and ``boto3.Session`` elsewhere in the deployer). One session serves every
    account, role and region, so botocore loads its endpoint data and each
    service's model once; a role's credentials (one assumption each) and clients
    are cached per account, role and region, and shared by every Scope built on
    this factory. The clients are botocore's, which is what boto3's clients are:
    boto3 itself adds only resources and S3's managed transfers (``upload_file``
    ...), which the deployer does not use, and its import (s3transfer with it) is
    about a third of a plan's background CPU time. botocore is imported on first
    use: a command that makes no AWS call, or makes it in the background while
    Terraform runs, does not wait for it.
    """

    def __init__(self, target: Target, *, session_name: str = "deployer") -> None:
        self.target = target
        self.session_name = session_name
        self._session: Any = None
        self._credentials: dict[str, dict[str, str]] = {}  # role ARN -> credentials
        self._clients: dict[tuple[str, str | None, str], Any] = {}
        self._lock = threading.RLock()

    def _base_session(self) -> Any:
        """The one session: the emulator's test credentials, or the caller's own."""
        with self._lock:
            if self._session is None:
                import botocore.session

                session = botocore.session.Session()
                if self.target.is_local:
                    session.set_credentials(
                        TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                    )
                self._session = session
            return self._session

    def _config(self) -> Any:
        import botocore.config

        if self.target.is_local:
            return botocore.config.Config(
                retries={"max_attempts": 2, "mode": "standard"},
                s3={"addressing_style": "path"},
            )
        return botocore.config.Config(retries={"mode": "standard"})

    def _role_credentials(self, arn: str, region: str) -> dict[str, str]:
        """Credentials of one role assumption, made once per role."""
        with self._lock:
            cached = self._credentials.get(arn)
        if cached is not None:
            return cached
        import botocore.exceptions

        sts = self._make("sts", region, None)
        try:
            creds = sts.assume_role(RoleArn=arn, RoleSessionName=self.session_name)["Credentials"]
        except botocore.exceptions.BotoCoreError as exc:
            raise AwsError(f"cannot assume {arn}: {exc}") from exc
        except botocore.exceptions.ClientError as exc:
            raise translate(exc, f"assume role {arn}") from exc
        made = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
        with self._lock:
            return self._credentials.setdefault(arn, made)

    def _make(self, service: str, region: str, credentials: dict[str, str] | None) -> Any:
        # A boto3 session is not thread-safe (its clients are): one client made at a time.
        with self._lock:
            make: Callable[..., Any] = self._base_session().create_client
            return make(
                service,
                region_name=region,
                endpoint_url=self.target.endpoint,
                config=self._config(),
                **(credentials or {}),
            )

    def client(
        self,
        service: str,
        region: str,
        *,
        account_id: str | None = None,
        role_name: str | None = None,
    ) -> Any:
        arn = role_arn(account_id, role_name) if account_id else None
        key = (service, arn, region)
        with self._lock:
            cached = self._clients.get(key)
        if cached is not None:
            return cached
        credentials = self._role_credentials(arn, region) if arn else None
        made = self._make(service, region, credentials)
        with self._lock:
            return self._clients.setdefault(key, made)


def translate(exc: botocore.exceptions.ClientError, doing: str) -> AwsError:
    """One translation of a botocore ClientError into a DeployerError."""
    error = exc.response.get("Error", {})
    code = error.get("Code", "Unknown")
    message = error.get("Message", str(exc))
    hint = None
    if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
        hint = "check the credentials and the role the environment names (deploy_role_name)"
    elif code in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId"):
        hint = "refresh your AWS credentials"
    return AwsError(f"{doing} failed: {code}: {message}", hint=hint)
