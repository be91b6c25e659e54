"""CodeDeploy: DeleteDeploymentGroup and DeleteApplication are missing.

moto 5.2.5 can create CodeDeploy applications and deployment groups but has
no DeleteDeploymentGroup or DeleteApplication (HTTP 500), so ``terraform
destroy`` of ``aws_codedeploy_deployment_group``/``aws_codedeploy_app`` fails.
On AWS, DeleteDeploymentGroup returns ``hooksNotCleanedUp`` (empty for ECS)
and DeleteApplication also deletes the application's deployment groups; both
succeed silently for a group or application that does not exist.
"""

from __future__ import annotations

from typing import Any

from ._util import add_method

GAP = (
    "CodeDeploy has no DeleteDeploymentGroup/DeleteApplication: destroy of the "
    "app and deployment group fails."
)


def apply() -> None:
    from moto.codedeploy.responses import CodeDeployResponse
    from moto.core.responses import ActionResult

    def delete_deployment_group(self: Any) -> ActionResult:
        backend = self.codedeploy_backend
        app = self._get_param("applicationName")
        group = self._get_param("deploymentGroupName")
        backend.deployment_groups.get(app, {}).pop(group, None)
        arn = backend._deployment_group_arn(app, group)
        backend.tagger.delete_all_tags_for_resource(arn)
        return ActionResult({"hooksNotCleanedUp": []})

    def delete_application(self: Any) -> ActionResult:
        backend = self.codedeploy_backend
        app = self._get_param("applicationName")
        for group in backend.deployment_groups.pop(app, {}):
            backend.tagger.delete_all_tags_for_resource(backend._deployment_group_arn(app, group))
        backend.applications.pop(app, None)
        backend.tagger.delete_all_tags_for_resource(backend._application_arn(app))
        return ActionResult({})

    add_method(CodeDeployResponse, "delete_deployment_group", delete_deployment_group)
    add_method(CodeDeployResponse, "delete_application", delete_application)
