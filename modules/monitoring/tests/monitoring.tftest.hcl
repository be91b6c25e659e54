# Plan-only tests of the monitoring module against a mocked AWS provider.
# override_during = plan makes the mocked computed values (ARNs) known in the
# plan, so that alarm actions, event targets and the dashboard's alarm widget
# can be compared with the topics and alarms they reference.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_sns_topic" {}
  mock_resource "aws_sns_topic_policy" {}
  mock_resource "aws_sns_topic_subscription" {}
  mock_resource "aws_cloudwatch_metric_alarm" {}
  mock_resource "aws_cloudwatch_composite_alarm" {}
  mock_resource "aws_cloudwatch_dashboard" {}
  mock_resource "aws_cloudwatch_event_rule" {}
  mock_resource "aws_cloudwatch_event_target" {}
  mock_resource "aws_codestarnotifications_notification_rule" {}

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
}

# Distinct, valid topic ARNs (the mocked default is a random string, which the
# topic policy and subscriptions refuse).
override_resource {
  target          = aws_sns_topic.this["notifications"]
  override_during = plan
  values = {
    arn = "arn:aws:sns:us-east-1:123456789012:notifications-topic"
  }
}

override_resource {
  target          = aws_sns_topic.this["approvals"]
  override_during = plan
  values = {
    arn = "arn:aws:sns:us-east-1:123456789012:approvals-topic"
  }
}

variables {
  name_prefix         = "acme-shop-staging"
  kms_key_arn         = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
  notification_emails = ["platform-team@example.com", "oncall@example.com"]
}

# --- Runtime stack: three services, CodeDeploy ------------------------------

run "runtime_style" {
  command = plan

  variables {
    codedeploy_application_name = "acme-shop-staging-services"
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-api-blue/943f017f100becff", "targetgroup/acme-shop-staging-api-green/6d0ecf831eec9f09"]
      }
      auth-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-auth-service"
        alb_arn_suffix            = "app/acme-shop-staging-auth-alb/1a2b3c4d5e6f7a8b"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-auth-blue/0123456789abcdef", "targetgroup/acme-shop-staging-auth-green/fedcba9876543210"]
      }
      notification-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-notification-service"
        alb_arn_suffix            = "app/acme-shop-staging-notify-alb/aaaabbbbccccdddd"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-notify-blue/1111222233334444", "targetgroup/acme-shop-staging-notify-green/5555666677778888"]
      }
    }
  }

  # Topics: only the notifications topic, encrypted with the given key.
  assert {
    condition     = toset(keys(aws_sns_topic.this)) == toset(["notifications"]) && aws_sns_topic.this["notifications"].name == "acme-shop-staging-notifications"
    error_message = "The runtime stack must get only the {name_prefix}-notifications topic."
  }

  assert {
    condition     = aws_sns_topic.this["notifications"].kms_master_key_id == var.kms_key_arn
    error_message = "The topic must be encrypted with kms_key_arn."
  }

  assert {
    condition     = output.approvals_topic_arn == null
    error_message = "approvals_topic_arn must be null without the approvals topic."
  }

  # Topic policy: the three notifying services may publish, for this account only.
  assert {
    condition = (
      one([for s in jsondecode(aws_sns_topic_policy.this["notifications"].policy).Statement : s if s.Effect == "Allow"]).Principal.Service
      == ["cloudwatch.amazonaws.com", "codestar-notifications.amazonaws.com", "events.amazonaws.com"]
    )
    error_message = "The topic policy must let CloudWatch, CodeStar Notifications and EventBridge publish."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_sns_topic_policy.this["notifications"].policy).Statement :
      s.Condition.StringEquals["aws:SourceAccount"] == "123456789012" && s.Action == "sns:Publish" && s.Resource == aws_sns_topic.this["notifications"].arn
      if s.Effect == "Allow"
    ])
    error_message = "Service publishing must be scoped with aws:SourceAccount to this account and to sns:Publish on the topic."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_sns_topic_policy.this["notifications"].policy).Statement :
      s.Effect == "Deny" && try(s.Condition.Bool["aws:SecureTransport"], null) == "false"
    ])
    error_message = "The topic policy must deny publishing without TLS."
  }

  # Email subscriptions: one per address.
  assert {
    condition = (
      length(aws_sns_topic_subscription.email) == 2
      && alltrue([for s in aws_sns_topic_subscription.email : s.protocol == "email" && s.topic_arn == aws_sns_topic.this["notifications"].arn])
      && toset([for s in aws_sns_topic_subscription.email : s.endpoint]) == toset(var.notification_emails)
    )
    error_message = "Each notification email must be subscribed to the notifications topic."
  }

  # Alarm names.
  assert {
    condition = output.alarm_names == {
      api-service          = ["acme-shop-staging-api-service-running-tasks", "acme-shop-staging-api-service-unhealthy-targets", "acme-shop-staging-api-service-5xx-rate"]
      auth-service         = ["acme-shop-staging-auth-service-running-tasks", "acme-shop-staging-auth-service-unhealthy-targets", "acme-shop-staging-auth-service-5xx-rate"]
      notification-service = ["acme-shop-staging-notification-service-running-tasks", "acme-shop-staging-notification-service-unhealthy-targets", "acme-shop-staging-notification-service-5xx-rate"]
    }
    error_message = "alarm_names must map each service to its three metric alarm names."
  }

  assert {
    condition = output.composite_alarm_names == {
      api-service          = "acme-shop-staging-api-service-health"
      auth-service         = "acme-shop-staging-auth-service-health"
      notification-service = "acme-shop-staging-notification-service-health"
    }
    error_message = "composite_alarm_names must map each service to its -health alarm."
  }

  # Running tasks: Container Insights' running over desired tasks, below 1.0.
  assert {
    condition = alltrue([
      for service, a in aws_cloudwatch_metric_alarm.running_tasks :
      a.comparison_operator == "LessThanThreshold" && a.threshold == 1
      && a.evaluation_periods == 3 && a.treat_missing_data == "breaching"
      && one([for q in a.metric_query : q.expression if q.id == "ratio" && q.return_data == true]) == "running / desired"
      && toset([
        for q in a.metric_query : "${q.id}=${q.metric[0].namespace}/${q.metric[0].metric_name}/${q.metric[0].period}/${q.metric[0].dimensions["ClusterName"]}/${q.metric[0].dimensions["ServiceName"]}"
        if length(q.metric) > 0
        ]) == toset([
        "running=ECS/ContainerInsights/RunningTaskCount/60/acme-shop-staging-cluster/${var.services[service].service_name}",
        "desired=ECS/ContainerInsights/DesiredTaskCount/60/acme-shop-staging-cluster/${var.services[service].service_name}",
      ])
    ])
    error_message = "Each running-tasks alarm must fire when fewer than all desired tasks of its service run (RunningTaskCount / DesiredTaskCount), over three one-minute periods."
  }

  # Unhealthy targets: MAX over the blue and green target groups.
  assert {
    condition = alltrue([
      for service, a in aws_cloudwatch_metric_alarm.unhealthy_targets :
      a.comparison_operator == "GreaterThanThreshold" && a.threshold == 0 && a.evaluation_periods == 3
      && a.treat_missing_data == "notBreaching"
      && one([for q in a.metric_query : q.expression if q.return_data == true]) == "MAX([tg0, tg1])"
    ])
    error_message = "Each unhealthy-targets alarm must fire above 0 on the maximum over both target groups."
  }

  assert {
    condition = (
      toset([
        for q in aws_cloudwatch_metric_alarm.unhealthy_targets["api-service"].metric_query :
        q.metric[0].dimensions.TargetGroup if length(q.metric) > 0
      ]) == toset(var.services["api-service"].target_group_arn_suffixes)
      && alltrue([
        for q in aws_cloudwatch_metric_alarm.unhealthy_targets["api-service"].metric_query :
        q.metric[0].metric_name == "UnHealthyHostCount" && q.metric[0].namespace == "AWS/ApplicationELB"
        && q.metric[0].dimensions.LoadBalancer == "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        && q.metric[0].stat == "Maximum" && q.metric[0].period == 60 && q.return_data == false
        if length(q.metric) > 0
      ])
    )
    error_message = "The unhealthy-targets alarm must read UnHealthyHostCount of each target group of the service's load balancer."
  }

  # 5XX rate: 100 * target 5XX / requests, missing data not breaching.
  assert {
    condition = alltrue([
      for service, a in aws_cloudwatch_metric_alarm.http_5xx_rate :
      a.comparison_operator == "GreaterThanThreshold" && a.threshold == 5
      && a.treat_missing_data == "notBreaching" && a.evaluation_periods == 3
      && one([for q in a.metric_query : q.expression if q.return_data == true]) == "100 * errors / requests"
    ])
    error_message = "Each 5XX-rate alarm must fire above 5% of requests, treating missing data as not breaching."
  }

  assert {
    condition = (
      { for q in aws_cloudwatch_metric_alarm.http_5xx_rate["auth-service"].metric_query : q.id => q.metric[0].metric_name if length(q.metric) > 0 }
      == { errors = "HTTPCode_Target_5XX_Count", requests = "RequestCount" }
      && alltrue([
        for q in aws_cloudwatch_metric_alarm.http_5xx_rate["auth-service"].metric_query :
        q.metric[0].dimensions == tomap({ LoadBalancer = "app/acme-shop-staging-auth-alb/1a2b3c4d5e6f7a8b" }) && q.metric[0].stat == "Sum"
        if length(q.metric) > 0
      ])
    )
    error_message = "The 5XX-rate alarm must divide the load balancer's target 5XX count by its request count."
  }

  # The metric alarms notify only through the composite alarm.
  assert {
    condition = alltrue(flatten([
      for alarms in [aws_cloudwatch_metric_alarm.running_tasks, aws_cloudwatch_metric_alarm.unhealthy_targets, aws_cloudwatch_metric_alarm.http_5xx_rate] :
      [for a in alarms : length(coalesce(a.alarm_actions, [])) == 0 && length(coalesce(a.ok_actions, [])) == 0]
    ]))
    error_message = "Metric alarms must have no actions (the composite alarm notifies)."
  }

  # Composite: OR of the three, alarm and OK actions to the topic.
  assert {
    condition     = aws_cloudwatch_composite_alarm.health["api-service"].alarm_rule == "ALARM(\"acme-shop-staging-api-service-running-tasks\") OR ALARM(\"acme-shop-staging-api-service-unhealthy-targets\") OR ALARM(\"acme-shop-staging-api-service-5xx-rate\")"
    error_message = "The composite alarm must be the OR of the service's three alarms."
  }

  assert {
    condition = alltrue([
      for a in aws_cloudwatch_composite_alarm.health :
      a.alarm_actions == toset([aws_sns_topic.this["notifications"].arn]) && a.ok_actions == toset([aws_sns_topic.this["notifications"].arn]) && a.actions_enabled
    ])
    error_message = "The composite alarms must notify the notifications topic on ALARM and on OK."
  }

  # CodeDeploy deployment failures.
  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.deployment_failure[0].event_pattern) == {
      source        = ["aws.codedeploy"]
      "detail-type" = ["CodeDeploy Deployment State-change Notification"]
      detail        = { application = ["acme-shop-staging-services"], state = ["FAILURE", "STOP"] }
    }
    error_message = "The deployment rule must match FAILURE and STOP of the application's deployments."
  }

  assert {
    condition = (
      aws_cloudwatch_event_rule.deployment_failure[0].name == "acme-shop-staging-deployment-failure"
      && aws_cloudwatch_event_target.deployment_failure[0].arn == aws_sns_topic.this["notifications"].arn
      && startswith(aws_cloudwatch_event_target.deployment_failure[0].input_transformer[0].input_template, "\"Deployment failure: ")
      && strcontains(aws_cloudwatch_event_target.deployment_failure[0].input_transformer[0].input_template, "https://console.aws.amazon.com/codesuite/codedeploy/deployments/<deployment>?region=us-east-1")
    )
    error_message = "Deployment failures must go to the notifications topic as a message with a console link."
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.pipeline_state) == 0 && length(aws_codestarnotifications_notification_rule.pipeline) == 0
    error_message = "Without pipeline_name there must be no pipeline rules."
  }

  assert {
    condition     = keys(output.event_rule_arns) == ["deployment_failure"]
    error_message = "event_rule_arns must list the deployment failure rule only."
  }

  # Dashboard: a title and six widgets per service, no pipeline section.
  assert {
    condition     = aws_cloudwatch_dashboard.this[0].dashboard_name == "acme-shop-staging-overview" && output.dashboard_name == "acme-shop-staging-overview"
    error_message = "The dashboard must be named {name_prefix}-overview."
  }

  assert {
    condition = (
      length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets) == 21
      && [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.title if w.type != "text"] == flatten([
        for s in range(3) : ["Running tasks", "CPU and memory (%)", "5XX responses", "Target response time (s)", "Healthy and unhealthy hosts", "Alarms"]
      ])
    )
    error_message = "Each service must get running tasks, CPU/memory, 5XX, response time, hosts and alarm widgets."
  }

  assert {
    condition = contains(
      [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.metrics if try(w.properties.title, "") == "Healthy and unhealthy hosts"][0],
      ["AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", "targetgroup/acme-shop-staging-api-green/6d0ecf831eec9f09", "LoadBalancer", "app/acme-shop-staging-api-alb/50dc6c495c0c9188", { stat = "Minimum" }],
    )
    error_message = "The hosts widget must chart both target groups of the service."
  }

  assert {
    condition     = !strcontains(aws_cloudwatch_dashboard.this[0].dashboard_body, "AWS/CodeBuild")
    error_message = "Without build projects there must be no CodeBuild widgets."
  }

  assert {
    condition     = !strcontains(aws_cloudwatch_dashboard.this[0].dashboard_body, "AWS/CodePipeline")
    error_message = "Without pipeline_name there must be no CodePipeline widgets."
  }
}

run "custom_thresholds" {
  command = plan

  variables {
    services = {
      api-service = {
        cluster_name              = "acme-shop-prod-cluster"
        service_name              = "acme-shop-prod-api-service"
        alb_arn_suffix            = "app/acme-shop-prod-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-prod-api-blue/943f017f100becff", "targetgroup/acme-shop-prod-api-green/6d0ecf831eec9f09"]
      }
    }
    alarm_thresholds = {
      running_tasks_min_ratio = 0.5
      unhealthy_targets       = 1
      http_5xx_rate_percent   = 2.5
      evaluation_periods      = 5
      period_seconds          = 300
    }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.running_tasks["api-service"].threshold == 0.5
      && alltrue([for q in aws_cloudwatch_metric_alarm.running_tasks["api-service"].metric_query : q.metric[0].period == 300 if length(q.metric) > 0])
      && aws_cloudwatch_metric_alarm.running_tasks["api-service"].evaluation_periods == 5
    )
    error_message = "The running-tasks alarm must fire below running_tasks_min_ratio of the desired tasks, with the given period and evaluation periods."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.unhealthy_targets["api-service"].threshold == 1
      && aws_cloudwatch_metric_alarm.unhealthy_targets["api-service"].evaluation_periods == 5
      && alltrue([for q in aws_cloudwatch_metric_alarm.unhealthy_targets["api-service"].metric_query : q.metric[0].period == 300 if length(q.metric) > 0])
    )
    error_message = "The unhealthy-targets alarm must use the given threshold and period."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.http_5xx_rate["api-service"].threshold == 2.5
      && aws_cloudwatch_metric_alarm.http_5xx_rate["api-service"].evaluation_periods == 5
      && alltrue([for q in aws_cloudwatch_metric_alarm.http_5xx_rate["api-service"].metric_query : q.metric[0].period == 300 if length(q.metric) > 0])
    )
    error_message = "The 5XX-rate alarm must use the given percentage and period."
  }

  assert {
    condition = [
      for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [for m in w.properties.metrics : m[1]]
      if try(w.properties.title, "") == "Running tasks"
    ] == [["RunningTaskCount", "DesiredTaskCount", "PendingTaskCount"]]
    error_message = "The running tasks widget must chart the running tasks against the desired ones (no fixed line: the desired count moves)."
  }
}

run "single_target_group" {
  command = plan

  variables {
    services = {
      api-service = {
        cluster_name              = "acme-shop-dev-cluster"
        service_name              = "acme-shop-dev-api-service"
        alb_arn_suffix            = "app/acme-shop-dev-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-dev-api-blue/943f017f100becff"]
      }
    }
  }

  assert {
    condition = (
      length(aws_cloudwatch_metric_alarm.unhealthy_targets["api-service"].metric_query) == 1
      && one(aws_cloudwatch_metric_alarm.unhealthy_targets["api-service"].metric_query).return_data
      && one(aws_cloudwatch_metric_alarm.unhealthy_targets["api-service"].metric_query).metric[0].dimensions.TargetGroup == "targetgroup/acme-shop-dev-api-blue/943f017f100becff"
    )
    error_message = "With one target group the unhealthy-targets alarm must watch its metric directly."
  }
}

# --- Delivery stack: pipeline only, approvals topic --------------------------

run "delivery_style" {
  command = plan

  variables {
    name_prefix            = "acme-shop-delivery"
    notification_emails    = ["platform-team@example.com"]
    enable_approvals_topic = true
    pipeline_name          = "acme-shop-delivery-pipeline"
    build_project_names    = ["acme-shop-delivery-api-service", "acme-shop-delivery-auth-service", "acme-shop-delivery-integration-tests"]
  }

  assert {
    condition = (
      aws_sns_topic.this["notifications"].name == "acme-shop-delivery-notifications"
      && aws_sns_topic.this["approvals"].name == "acme-shop-delivery-approvals"
      && alltrue([for t in aws_sns_topic.this : t.kms_master_key_id == var.kms_key_arn])
    )
    error_message = "The delivery stack must get both topics, encrypted."
  }

  assert {
    condition     = output.approvals_topic_arn == aws_sns_topic.this["approvals"].arn && output.notifications_topic_arn == aws_sns_topic.this["notifications"].arn
    error_message = "The topic outputs must give both ARNs."
  }

  assert {
    condition     = toset(keys(aws_sns_topic_subscription.email)) == toset(["notifications/platform-team@example.com", "approvals/platform-team@example.com"])
    error_message = "Each address must be subscribed to both topics."
  }

  assert {
    condition     = length(aws_sns_topic_policy.this) == 2 && strcontains(aws_sns_topic_policy.this["approvals"].policy, "codestar-notifications.amazonaws.com")
    error_message = "Both topics must have the service publish policy."
  }

  # No services: no alarms.
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.running_tasks) + length(aws_cloudwatch_metric_alarm.unhealthy_targets) + length(aws_cloudwatch_metric_alarm.http_5xx_rate) + length(aws_cloudwatch_composite_alarm.health) == 0
    error_message = "Without services there must be no alarms."
  }

  assert {
    condition     = output.alarm_names == {} && output.composite_alarm_names == {}
    error_message = "The alarm outputs must be empty without services."
  }

  # Pipeline execution results.
  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.pipeline_state[0].event_pattern) == {
      source        = ["aws.codepipeline"]
      "detail-type" = ["CodePipeline Pipeline Execution State Change"]
      detail        = { pipeline = ["acme-shop-delivery-pipeline"], state = ["FAILED", "SUCCEEDED", "STOPPED", "SUPERSEDED"] }
    }
    error_message = "The pipeline rule must match FAILED, SUCCEEDED, STOPPED and SUPERSEDED executions of the pipeline."
  }

  assert {
    condition = (
      aws_cloudwatch_event_rule.pipeline_state[0].name == "acme-shop-delivery-pipeline-state"
      && aws_cloudwatch_event_target.pipeline_state[0].arn == aws_sns_topic.this["notifications"].arn
      && aws_cloudwatch_event_target.pipeline_state[0].input_transformer[0].input_paths == tomap({
        pipeline  = "$.detail.pipeline"
        state     = "$.detail.state"
        execution = "$.detail.execution-id"
      })
    )
    error_message = "Pipeline results must go to the notifications topic through an input transformer reading pipeline, state and execution id."
  }

  assert {
    condition     = aws_cloudwatch_event_target.pipeline_state[0].input_transformer[0].input_template == "\"Pipeline <pipeline> execution <execution>: <state>. https://console.aws.amazon.com/codesuite/codepipeline/pipelines/<pipeline>/executions/<execution>/timeline?region=us-east-1\""
    error_message = "The message must name the pipeline, execution and state and link the execution in the console."
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.deployment_failure) == 0 && keys(output.event_rule_arns) == ["pipeline_state"]
    error_message = "Without codedeploy_application_name there must be no deployment rule."
  }

  # CodeStar notifications: failures and approvals needed, to the approvals topic.
  assert {
    condition = (
      aws_codestarnotifications_notification_rule.pipeline[0].name == "acme-shop-delivery-pipeline-approvals"
      && aws_codestarnotifications_notification_rule.pipeline[0].resource == "arn:aws:codepipeline:us-east-1:123456789012:acme-shop-delivery-pipeline"
      && aws_codestarnotifications_notification_rule.pipeline[0].event_type_ids == toset(["codepipeline-pipeline-manual-approval-needed", "codepipeline-pipeline-pipeline-execution-failed"])
    )
    error_message = "The notification rule must watch the pipeline for failures and manual approvals needed."
  }

  assert {
    condition = (
      [for t in aws_codestarnotifications_notification_rule.pipeline[0].target : t.address] == [aws_sns_topic.this["approvals"].arn]
      && [for t in aws_codestarnotifications_notification_rule.pipeline[0].target : t.type] == ["SNS"]
    )
    error_message = "The notification rule must target the approvals topic."
  }

  # Dashboard: pipeline section only, the pipeline's metrics, then one line per
  # build project under them.
  assert {
    condition = (
      [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.title if w.type == "metric"] == ["Pipeline execution duration (s)", "Failed pipeline executions", "Builds", "Failed builds", "Build duration (s)"]
      && [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.markdown if w.type == "text"] == ["## Pipeline acme-shop-delivery-pipeline"]
    )
    error_message = "The delivery dashboard must chart the pipeline's duration and failures, then the builds, under the pipeline's title."
  }

  assert {
    condition = (
      [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : jsonencode(w.properties.metrics) if strcontains(try(w.properties.title, ""), "ipeline")] == [
        jsonencode([
          ["AWS/CodePipeline", "PipelineDuration", "PipelineName", "acme-shop-delivery-pipeline", { stat = "Average", label = "Average" }],
          ["AWS/CodePipeline", "PipelineDuration", "PipelineName", "acme-shop-delivery-pipeline", { stat = "Maximum", label = "Maximum" }],
        ]),
        jsonencode([
          ["AWS/CodePipeline", "FailedPipelineExecutions", "PipelineName", "acme-shop-delivery-pipeline", { stat = "Sum", label = "Sum" }],
        ]),
      ]
    )
    error_message = "The pipeline widgets must chart PipelineDuration (average, maximum) and FailedPipelineExecutions (sum) of the pipeline, by PipelineName."
  }

  assert {
    condition     = alltrue([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : tolist([for m in w.properties.metrics : m[3]]) == var.build_project_names if strcontains(jsonencode(try(w.properties.metrics, [])), "AWS/CodeBuild")])
    error_message = "The build widgets must chart every build project."
  }

  assert {
    condition = (
      [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [w.x, w.y, w.width, w.height]]
      == [[0, 0, 24, 1], [0, 1, 12, 6], [12, 1, 12, 6], [0, 7, 8, 6], [8, 7, 8, 6], [16, 7, 8, 6]]
    )
    error_message = "The pipeline's widgets must fill the row under the title, side by side, and the build widgets the row under them."
  }
}

run "builds_without_pipeline" {
  command = plan

  variables {
    build_project_names = ["acme-shop-delivery-api-service"]
  }

  assert {
    condition = (
      [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [w.x, w.y, w.width, w.height]]
      == [[0, 0, 24, 1], [0, 1, 8, 6], [8, 1, 8, 6], [16, 1, 8, 6]]
      && !strcontains(aws_cloudwatch_dashboard.this[0].dashboard_body, "AWS/CodePipeline")
      && jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets[0].properties.markdown == "## Builds"
    )
    error_message = "Without pipeline_name the build widgets must come right under a Builds title, with no CodePipeline widget."
  }
}

run "pipeline_without_approvals_topic" {
  command = plan

  variables {
    pipeline_name = "acme-shop-delivery-pipeline"
  }

  assert {
    condition     = length(aws_codestarnotifications_notification_rule.pipeline) == 0 && output.notification_rule_arn == null
    error_message = "Without the approvals topic there must be no CodeStar notification rule."
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.pipeline_state) == 1
    error_message = "Pipeline results must still go to the notifications topic."
  }

  assert {
    condition = (
      output.dashboard_name == "acme-shop-staging-overview"
      && [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.title if w.type == "metric"] == ["Pipeline execution duration (s)", "Failed pipeline executions"]
    )
    error_message = "A pipeline without build projects must still get a dashboard with its own metrics, and no build widgets."
  }
}

run "minimal" {
  command = plan

  variables {
    notification_emails = []
  }

  assert {
    condition     = length(aws_sns_topic.this) == 1 && length(aws_sns_topic_subscription.email) == 0
    error_message = "Without emails the notifications topic must have no subscriptions."
  }

  assert {
    condition     = output.event_rule_arns == {} && output.dashboard_name == null && output.approvals_topic_arn == null
    error_message = "Without optional inputs there must be no rules, dashboard or approvals topic."
  }
}
