"""CodeDeploy: an ECS deployment starts, and a group has one active deployment.

moto 5.2.5 records CreateDeployment but never starts the deployment: its status
stays ``Created`` for ever, so anything waiting for it to be in progress (a
deploy guard looking for the deployment to stop, a poller) never sees it. And
it accepts any number of deployments at once in one deployment group.

AWS starts an ECS deployment within seconds (``Created`` and ``Queued`` are
momentary): GetDeployment reports ``InProgress`` with a ``startTime`` until the
deployment succeeds, fails or is stopped. A deployment group has at most one
active deployment: CreateDeployment while one is active fails with
``DeploymentLimitExceededException`` naming it. Deployment ids have AWS's
format, ``d-`` and nine upper-case letters or digits (moto uses UUIDs).

The new deployment is InProgress at once. What CodeDeploy does next (install
the replacement task set, run the hooks, shift traffic, finish) is the CodeDeploy
engine's (``engines/codedeploy.py``), which runs with the emulator's runtime;
without the runtime the deployment stays InProgress, as this patch leaves it.
Only ECS deployment groups are changed; EC2/Lambda deployments keep moto's
behaviour (``Created``).
"""

from __future__ import annotations

from typing import Any

from deploy_guard import statuses

from . import _codedeploy_state as state
from ._util import replace

GAP = (
    "CodeDeploy ECS deployments stay Created for ever and a deployment group takes "
    "any number of active deployments."
)


def _active_in_group(backend: Any, application: str, group: str) -> Any:
    for deployment in backend.deployments.values():
        if (
            deployment.application_name == application
            and deployment.deployment_group_name == group
            and deployment.status in statuses.UNFINISHED
        ):
            return deployment
    return None


def apply() -> None:
    from moto.codedeploy.responses import CodeDeployResponse
    from moto.core.utils import utcnow

    state.install_deployment_info()

    def create_factory(original: Any) -> Any:
        def create_deployment(self: Any) -> Any:
            backend = self.codedeploy_backend
            application = self._get_param("applicationName")
            group = self._get_param("deploymentGroupName")
            app = backend.applications.get(application)
            ecs = app is not None and app.compute_platform == "ECS"
            if ecs and group in backend.deployment_groups.get(application, {}):
                active = _active_in_group(backend, application, group)
                if active is not None:
                    raise state.error(
                        "DeploymentLimitExceededException",
                        f"The Deployment Group '{group}' already has an active "
                        f"Deployment '{active.deployment_id}'",
                    )
            result = original(self)
            if not ecs:
                return result
            deployment = backend.deployments.pop(result.result["deploymentId"])
            old_arn = backend._arn(f"deployment:{deployment.deployment_id}")
            deployment.deployment_id = state.new_deployment_id()
            backend.deployments[deployment.deployment_id] = deployment
            tags = backend.tagger.list_tags_for_resource(old_arn)["Tags"]
            if tags:
                backend.tagger.delete_all_tags_for_resource(old_arn)
                backend.tagger.tag_resource(
                    backend._arn(f"deployment:{deployment.deployment_id}"), tags
                )
            deployment.status = "InProgress"
            deployment.start_time = utcnow()
            result.result["deploymentId"] = deployment.deployment_id
            return result

        return create_deployment

    replace(CodeDeployResponse, "create_deployment", create_factory)
