"""ECR: GetAuthorizationToken issues tokens the local registry can check.

AWS returns, per call, a new token (base64 of ``AWS:<password>``) valid for 12
hours, ``expiresAt`` when it expires, and the registry's ``proxyEndpoint``
(``https://<account>.dkr.ecr.<region>.amazonaws.com``); the token is the
caller's and works with every registry the caller may use (``registryIds`` is
deprecated and only picks the endpoint). moto 5.2.5 returns the fixed password
``<account>-auth-token`` for anyone, with ``expiresAt`` in 2015, so a registry
could not tell a token ECR issued from a guessed one, and a client that checks
``expiresAt`` logs in again before every call. This patch issues random tokens
from the registry's table (:data:`deployer.emulator.registry.TOKENS`), for the
caller's account and ARN as ``GetCallerIdentity`` reports them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ._util import replace

GAP = (
    "ECR GetAuthorizationToken returns one fixed password per account that never expires "
    "(expiresAt 2015): a registry cannot check it and clients re-login on every call."
)


def apply() -> None:
    from moto.core.responses import ActionResult
    from moto.ecr.responses import ECRResponse

    def token_factory(_original: Any) -> Any:
        def get_authorization_token(self: Any) -> Any:
            from moto.sts.models import sts_backends

            from deployer.emulator.registry import TOKENS

            account = self.current_account
            _user, arn, _account = sts_backends[account]["global"].get_caller_identity(
                self.get_access_key(), self.region
            )
            registry_ids = self._get_param("registryIds") or [account]
            data = []
            for registry_id in registry_ids:
                token, expires = TOKENS.issue(account, arn)
                data.append(
                    {
                        "authorizationToken": token,
                        "expiresAt": datetime.fromtimestamp(expires, tz=UTC),
                        "proxyEndpoint": (
                            f"https://{registry_id}.dkr.ecr.{self.region}.amazonaws.com"
                        ),
                    }
                )
            return ActionResult({"authorizationData": data})

        return get_authorization_token

    replace(ECRResponse, "get_authorization_token", token_factory)
