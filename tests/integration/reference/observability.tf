# Logs, parameters, notifications, alarms and the dashboard.

resource "aws_cloudwatch_log_group" "service" {
  name              = "/ecs/${var.name}/service"
  retention_in_days = 30
  kms_key_id        = aws_kms_key.platform.arn
}

resource "aws_cloudwatch_log_group" "build" {
  name              = "/codebuild/${var.name}"
  retention_in_days = 14
  kms_key_id        = aws_kms_key.platform.arn
}

resource "aws_ssm_parameter" "image_repository" {
  name  = "/${var.name}/service/image-repository"
  type  = "String"
  value = aws_ecr_repository.service.repository_url
}

resource "aws_ssm_parameter" "registry_token" {
  name        = "/${var.name}/service/registry-token"
  description = "Token of the third-party registry the build pulls base images from."
  type        = "SecureString"
  key_id      = aws_kms_key.platform.arn
  value       = "placeholder-rotated-out-of-band"

  lifecycle {
    ignore_changes = [value]
  }
}

# --- SNS ---------------------------------------------------------------------

resource "aws_sns_topic" "pipeline" {
  name              = "${var.name}-pipeline"
  kms_master_key_id = aws_kms_alias.platform.name
}

data "aws_iam_policy_document" "pipeline_topic" {
  statement {
    sid       = "AccountOwner"
    actions   = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"]
    resources = [aws_sns_topic.pipeline.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "ServicesPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.pipeline.arn]

    principals {
      type = "Service"
      identifiers = [
        "codestar-notifications.amazonaws.com",
        "events.amazonaws.com",
        "cloudwatch.amazonaws.com",
      ]
    }
  }
}

resource "aws_sns_topic_policy" "pipeline" {
  arn    = aws_sns_topic.pipeline.arn
  policy = data.aws_iam_policy_document.pipeline_topic.json
}

resource "aws_sns_topic_subscription" "email" {
  topic_arn = aws_sns_topic.pipeline.arn
  protocol  = "email"
  endpoint  = var.notification_email
}

# --- Alarms ------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "target_5xx" {
  alarm_name          = "${var.name}-service-5xx"
  alarm_description   = "Service returns 5xx through the load balancer."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"

  dimensions = {
    LoadBalancer = aws_lb.this.arn_suffix
    TargetGroup  = aws_lb_target_group.service["blue"].arn_suffix
  }

  alarm_actions = [aws_sns_topic.pipeline.arn]
}

resource "aws_cloudwatch_metric_alarm" "service_cpu" {
  alarm_name          = "${var.name}-service-cpu"
  alarm_description   = "Service CPU above 85%."
  namespace           = "AWS/ECS"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 5
  threshold           = 85
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"

  dimensions = {
    ClusterName = aws_ecs_cluster.this.name
    ServiceName = aws_ecs_service.service.name
  }
}

resource "aws_cloudwatch_composite_alarm" "service_health" {
  alarm_name        = "${var.name}-service-health"
  alarm_description = "The service is unhealthy: errors or saturation."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.target_5xx.alarm_name}) OR ALARM(${aws_cloudwatch_metric_alarm.service_cpu.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [aws_sns_topic.pipeline.arn]
}

resource "aws_cloudwatch_dashboard" "platform" {
  dashboard_name = "${var.name}-platform"

  dashboard_body = jsonencode({
    widgets = [
      {
        type   = "metric"
        x      = 0
        y      = 0
        width  = 12
        height = 6
        properties = {
          title  = "Service CPU"
          region = local.region
          metrics = [
            ["AWS/ECS", "CPUUtilization", "ClusterName", aws_ecs_cluster.this.name, "ServiceName", aws_ecs_service.service.name],
          ]
          period = 60
          stat   = "Average"
        }
      },
      {
        type   = "alarm"
        x      = 12
        y      = 0
        width  = 12
        height = 6
        properties = {
          title  = "Service health"
          alarms = [aws_cloudwatch_composite_alarm.service_health.arn]
        }
      },
    ]
  })
}

# --- EventBridge -------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "source_push" {
  name        = "${var.name}-source-push"
  description = "Start the pipeline on a push to main."

  event_pattern = jsonencode({
    source        = ["aws.codecommit"]
    "detail-type" = ["CodeCommit Repository State Change"]
    resources     = [aws_codecommit_repository.service.arn]
    detail = {
      event         = ["referenceCreated", "referenceUpdated"]
      referenceType = ["branch"]
      referenceName = ["main"]
    }
  })
}

resource "aws_cloudwatch_event_target" "start_pipeline" {
  rule     = aws_cloudwatch_event_rule.source_push.name
  arn      = aws_codepipeline.service.arn
  role_arn = aws_iam_role.pipeline.arn
}

resource "aws_cloudwatch_event_rule" "pipeline_state" {
  name        = "${var.name}-pipeline-state"
  description = "Pipeline execution state changes, to the notifier."

  event_pattern = jsonencode({
    source        = ["aws.codepipeline"]
    "detail-type" = ["CodePipeline Pipeline Execution State Change"]
    detail = {
      pipeline = [aws_codepipeline.service.name]
    }
  })
}

resource "aws_cloudwatch_event_target" "notifier" {
  rule = aws_cloudwatch_event_rule.pipeline_state.name
  arn  = aws_lambda_function.notifier.arn
}

# --- Lambda ------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "notifier" {
  name              = "/aws/lambda/${var.name}-notifier"
  retention_in_days = 14
}

resource "aws_lambda_function" "notifier" {
  function_name    = "${var.name}-notifier"
  role             = aws_iam_role.notifier.arn
  runtime          = "python3.12"
  handler          = "notifier.handler"
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  timeout          = 30
  memory_size      = 128

  environment {
    variables = {
      TOPIC_ARN = aws_sns_topic.pipeline.arn
    }
  }

  depends_on = [aws_cloudwatch_log_group.notifier, aws_iam_role_policy_attachment.notifier]
}

resource "aws_lambda_permission" "events" {
  statement_id  = "AllowEventBridge"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.notifier.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.pipeline_state.arn
}
