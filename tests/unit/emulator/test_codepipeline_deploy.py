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
