"""CodeDeploy: UpdateDeploymentGroup is missing.

moto 5.2.5 creates deployment groups but has no UpdateDeploymentGroup (HTTP
500), so any in-place change to an ``aws_codedeploy_deployment_group`` (new
alarms to watch, another deployment config, a renamed group) fails on apply.
On AWS the action changes only the fields given, may rename the group
(``newDeploymentGroupName``), and answers ``hooksNotCleanedUp`` (empty for ECS).
"""

from __future__ import annotations

from typing import Any

from ._util import add_method

GAP = (
    "CodeDeploy has no UpdateDeploymentGroup: an in-place change to a deployment "
    "group fails on apply."
)

#: Request field -> DeploymentGroup attribute; a field left out of the request
#: keeps its value, as on AWS.
FIELDS = {
    "deploymentConfigName": "deployment_config_name",
    "ec2TagFilters": "ec2_tag_filters",
    "onPremisesInstanceTagFilters": "on_premises_instance_tag_filters",
    "autoScalingGroups": "auto_scaling_groups",
    "serviceRoleArn": "service_role_arn",
    "triggerConfigurations": "trigger_configurations",
    "alarmConfiguration": "alarm_configuration",
    "autoRollbackConfiguration": "auto_rollback_configuration",
    "outdatedInstancesStrategy": "outdated_instances_strategy",
    "deploymentStyle": "deployment_style",
    "blueGreenDeploymentConfiguration": "blue_green_deployment_configuration",
    "loadBalancerInfo": "load_balancer_info",
    "ec2TagSet": "ec2_tag_set",
    "ecsServices": "ecs_services",
    "onPremisesTagSet": "on_premises_tag_set",
    "terminationHookEnabled": "termination_hook_enabled",
}


def apply() -> None:
    from moto.codedeploy.exceptions import DeploymentGroupAlreadyExistsException
    from moto.codedeploy.responses import CodeDeployResponse
    from moto.core.responses import ActionResult

    def update_deployment_group(self: Any) -> ActionResult:
        backend = self.codedeploy_backend
        app = self._get_param("applicationName")
        current = self._get_param("currentDeploymentGroupName")
        group = backend.get_deployment_group(app, current)  # raises the AWS errors
        for field, attribute in FIELDS.items():
            value = self._get_param(field)
            if value is not None:
                setattr(group, attribute, value)
        new = self._get_param("newDeploymentGroupName")
        if new and new != current:
            groups = backend.deployment_groups[app]
            if new in groups:
                raise DeploymentGroupAlreadyExistsException(
                    f"Deployment group {new} already exists."
                )
            old_arn = backend._deployment_group_arn(app, current)
            tags = backend.tagger.list_tags_for_resource(old_arn).get("Tags", [])
            backend.tagger.delete_all_tags_for_resource(old_arn)
            group.deployment_group_name = new
            groups[new] = groups.pop(current)
            if tags:
                backend.tagger.tag_resource(backend._deployment_group_arn(app, new), tags)
        return ActionResult({"hooksNotCleanedUp": []})

    add_method(CodeDeployResponse, "update_deployment_group", update_deployment_group)
