"""The codepipeline engine's CodeDeployToECS actions, action roles and regions.

The scenarios are in ``_codepipeline_deploy_scenarios.py`` (run as the engine's other
scenarios are, in one separate interpreter); each test asserts on what one observed.
"""

from __future__ import annotations

from tests.unit.emulator._scenario_runner import Result, fixtures

scenarios, result = fixtures(
    "tests.unit.emulator._codepipeline_deploy_scenarios", "codepipeline_deploy"
)

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/acme-api:d-API123"


def test_the_task_definition_is_registered_with_the_built_image(result: Result) -> None:
    out = result("ecs_deploy")
    assert out["task_definitions"] == [
        "arn:aws:ecs:us-east-1:123456789012:task-definition/acme-api:1"
    ]
    # <IMAGE1_NAME> replaced by imageDetail.json's ImageURI, also where JSON escapes < and >
    assert out["registered"] == {
        "images": [IMAGE, IMAGE],
        "cpu": "256",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
    }


def test_the_deployment_gets_the_appspec_naming_the_new_task_definition(result: Result) -> None:
    out = result("ecs_deploy")
    assert out["deployments"] == 1
    deployment = out["deployment"]
    assert deployment["status"] == "InProgress"
    assert deployment["group"] == ["acme", "acme-api"]
    assert deployment["id"].startswith("d-") and len(deployment["id"]) == 11
    revision = deployment["revision"]
    assert revision["revisionType"] == "AppSpecContent"
    content = revision["appSpecContent"]["content"]
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/acme-api:1"
    assert f'TaskDefinition: "{arn}"' in content
    assert "AfterAllowTraffic" in content
    assert "<TASK_DEFINITION>" not in content


def test_the_action_waits_for_the_deployment_and_succeeds_with_it(result: Result) -> None:
    out = result("ecs_deploy")
    status, action = out["deploying"]
    assert (status, action["status"]) == ("InProgress", "InProgress")
    assert action["result"]["externalExecutionId"] == out["deployment"]["id"]
    assert out["deployment"]["id"] in action["result"]["externalExecutionUrl"]
    assert out["still"] == ["InProgress", "InProgress"]
    status, action = out["final"]
    assert (status, action["status"]) == ("Succeeded", "Succeeded")


def test_a_failed_deployment_fails_the_action_and_the_execution(result: Result) -> None:
    out = result("ecs_deploy_failed")
    status, action = out["final"]
    assert (status, action["status"]) == ("Failed", "Failed")
    message = f"Deployment {out['deployment']} failed: tasks unhealthy"
    assert action["result"]["errorDetails"] == {"code": "JobFailed", "message": message}
    assert out["summary"] == f"Action api failed: {message}"


def test_bad_configurations_fail_before_deploying(result: Result) -> None:
    out = result("ecs_deploy_bad_config")
    actions = out["actions"]
    assert actions["missing_file"] == [
        "Failed",
        {
            "code": "ConfigurationError",
            "message": "The file nope.json was not found in the artifact BuildOutput_api_service",
        },
    ]
    # TaskDefinitionTemplatePath defaults to taskdef.json, which this build does not write
    assert "taskdef.json was not found" in actions["defaults"][1]["message"]
    assert actions["half_image"][1]["code"] == "ConfigurationError"
    assert actions["no_group"][0] == "Failed"
    assert "Deployment group name does not exist" in actions["no_group"][1]["message"]
    assert out["deployments"] == 0
    assert out["final"] == "Failed"


def test_an_action_role_deploys_in_its_account_and_region(result: Result) -> None:
    out = result("cross_account_region")
    assert out["west"]["status"] == "InProgress"
    assert out["west"]["input"]["region"] == "us-west-2"
    assert out["task_definitions"] == [
        "arn:aws:ecs:us-west-2:222222222222:task-definition/acme-api:1"
    ]
    assert out["local_task_definitions"] == []
    assert out["in_other"] == [out["west"]["result"]["externalExecutionId"]]
    assert out["in_pipeline_account"] == 0


def test_input_artifacts_are_copied_to_the_action_regions_store(result: Result) -> None:
    out = result("cross_account_region")
    assert out["build_key"]["bucket"] == "delivery-artifacts"
    assert out["location"] == {"bucket": "delivery-artifacts-west", "key": out["build_key"]["key"]}
    assert out["copied"] == [out["build_key"]["key"]]


def test_a_role_that_does_not_trust_the_pipeline_fails_its_action(result: Result) -> None:
    out = result("cross_account_region")
    refused = out["refused"]
    assert refused["status"] == "Failed"
    assert refused["result"]["errorDetails"] == {
        "code": "PermissionError",
        "message": "CodePipeline is not authorized to perform AssumeRole on role "
        "arn:aws:iam::222222222222:role/closed",
    }
    # the stage fails once the trusted action's deployment ends
    assert out["final"] == ["Failed", "Succeeded"]


def _denied(execution: str, action: str, resource: str) -> str:
    return (
        f"User: arn:aws:sts::123456789012:assumed-role/acme-deploy/{execution} is not authorized "
        f"to perform: {action} on resource: {resource} because no identity-based policy allows "
        f"the {action} action"
    )


def test_a_deploy_role_without_register_task_definition_fails_until_restored(
    result: Result,
) -> None:
    out = result("deploy_role_least_privilege")
    refused = out["no_register"]
    message = _denied(refused["execution"], "ecs:RegisterTaskDefinition", "*")
    assert refused["status"] == "Failed"
    assert refused["result"]["errorDetails"] == {"code": "PermissionError", "message": message}
    assert out["summary"] == f"Action api failed: {message}"
    assert out["registered_then"] == []  # nothing registered, no deployment
    # the task definition names roles: iam:PassRole to ECS is needed too
    no_pass = out["no_pass_role"]
    assert no_pass["status"] == "Failed"
    assert no_pass["result"]["errorDetails"]["message"] == _denied(
        no_pass["execution"], "iam:PassRole", "arn:aws:iam::123456789012:role/acme-api-execution"
    )
    # every statement back: the deployment is created and the action succeeds with it
    assert out["restored"]["status"] == "InProgress"
    assert out["restored"]["result"]["externalExecutionId"].startswith("d-")
    assert out["final"] == ["Succeeded", "Succeeded"]


def test_artifacts_are_encrypted_with_the_stores_key_and_need_kms_decrypt(result: Result) -> None:
    out = result("kms_artifacts")
    assert out["source_object"] == ["aws:kms", out["key"]]
    refused = out["no_decrypt"]
    assert refused["status"] == "Failed"
    assert refused["result"]["errorDetails"] == {
        "code": "PermissionError",
        "message": _denied(refused["execution"], "kms:Decrypt", out["key"]),
    }
    # kms:Decrypt on the delivery account's keys carrying the artifact alias, as
    # modules/deploy-role grants it: the action reads its artifacts and deploys
    assert out["with_decrypt"]["status"] == "InProgress"


def test_a_disabled_store_key_fails_the_action_writing_an_artifact(result: Result) -> None:
    out = result("kms_artifacts")
    assert out["disabled"] == [
        "Failed",
        {
            "code": "JobFailed",
            "message": "The artifact store's encryption key is not usable: "
            f"KMS.DisabledException: {out['key']} is disabled.",
        },
    ]


def test_the_pipeline_role_needs_generate_data_key_to_write_artifacts(result: Result) -> None:
    out = result("pipeline_role_without_kms")
    status, details = out["source"]
    assert status == "Failed"
    assert details["code"] == "PermissionError"
    assert details["message"].endswith(
        f"kms:GenerateDataKey on resource: {out['key']} because no identity-based policy "
        "allows the kms:GenerateDataKey action"
    )
