# One dashboard: a section per service (a title row, then two rows of three
# widgets) followed by a pipeline section: the pipeline's own metrics (with
# pipeline_name), then the CodeBuild projects. Only the sections whose inputs
# are given are drawn; without services, pipeline and build projects there is
# no dashboard. Every widget has an explicit position, so that what CloudWatch
# stores is what Terraform wrote.

locals {
  service_section_height = 13 # title (1) + two rows of widgets (6 each)

  service_widgets = flatten([
    for index, service in keys(var.services) : [
      {
        type       = "text"
        x          = 0
        y          = index * local.service_section_height
        width      = 24
        height     = 1
        properties = { markdown = "## ${service}" }
      },
      {
        type   = "metric"
        x      = 0
        y      = index * local.service_section_height + 1
        width  = 8
        height = 6
        properties = {
          title  = "Running tasks"
          region = local.region
          view   = "timeSeries"
          stat   = "Average"
          period = 60
          metrics = [
            for metric in ["RunningTaskCount", "DesiredTaskCount", "PendingTaskCount"] :
            ["ECS/ContainerInsights", metric, "ClusterName", var.services[service].cluster_name, "ServiceName", var.services[service].service_name]
          ]
        }
      },
      {
        type   = "metric"
        x      = 8
        y      = index * local.service_section_height + 1
        width  = 8
        height = 6
        properties = {
          title  = "CPU and memory (%)"
          region = local.region
          view   = "timeSeries"
          stat   = "Average"
          period = 60
          metrics = [
            for metric in ["CPUUtilization", "MemoryUtilization"] :
            ["AWS/ECS", metric, "ClusterName", var.services[service].cluster_name, "ServiceName", var.services[service].service_name]
          ]
          yAxis = { left = { min = 0, max = 100 } }
        }
      },
      {
        type   = "metric"
        x      = 16
        y      = index * local.service_section_height + 1
        width  = 8
        height = 6
        properties = {
          title  = "5XX responses"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 60
          metrics = [
            for metric in ["HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"] :
            ["AWS/ApplicationELB", metric, "LoadBalancer", var.services[service].alb_arn_suffix]
          ]
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = index * local.service_section_height + 7
        width  = 8
        height = 6
        properties = {
          title  = "Target response time (s)"
          region = local.region
          view   = "timeSeries"
          period = 60
          metrics = [
            for stat in ["p50", "p99"] :
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", var.services[service].alb_arn_suffix, { stat = stat, label = stat }]
          ]
        }
      },
      {
        type   = "metric"
        x      = 8
        y      = index * local.service_section_height + 7
        width  = 8
        height = 6
        properties = {
          title  = "Healthy and unhealthy hosts"
          region = local.region
          view   = "timeSeries"
          period = 60
          # concat, not flatten: flatten would also flatten each metric row.
          metrics = concat(
            [for tg in var.services[service].target_group_arn_suffixes : ["AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", tg, "LoadBalancer", var.services[service].alb_arn_suffix, { stat = "Minimum" }]],
            [for tg in var.services[service].target_group_arn_suffixes : ["AWS/ApplicationELB", "UnHealthyHostCount", "TargetGroup", tg, "LoadBalancer", var.services[service].alb_arn_suffix, { stat = "Maximum" }]],
          )
        }
      },
      {
        type   = "alarm"
        x      = 16
        y      = index * local.service_section_height + 7
        width  = 8
        height = 6
        properties = {
          title = "Alarms"
          alarms = [
            aws_cloudwatch_composite_alarm.health[service].arn,
            aws_cloudwatch_metric_alarm.running_tasks[service].arn,
            aws_cloudwatch_metric_alarm.unhealthy_targets[service].arn,
            aws_cloudwatch_metric_alarm.http_5xx_rate[service].arn,
          ]
        }
      },
    ]
  ])

  pipeline_y = length(var.services) * local.service_section_height

  enable_build_widgets    = length(var.build_project_names) > 0
  enable_codepipeline     = var.pipeline_name != null
  enable_pipeline_widgets = local.enable_build_widgets || local.enable_codepipeline

  # The builds' row comes under the pipeline's, when there is one.
  build_y = local.pipeline_y + 1 + (local.enable_codepipeline ? 6 : 0)

  pipeline_widgets = concat(
    [
      for _ in range(local.enable_pipeline_widgets ? 1 : 0) : {
        type       = "text"
        x          = 0
        y          = local.pipeline_y
        width      = 24
        height     = 1
        properties = { markdown = var.pipeline_name == null ? "## Builds" : "## Pipeline ${var.pipeline_name}" }
      }
    ],
    # What CodePipeline publishes (V2 pipelines, "CodePipeline CloudWatch
    # metrics"): each execution's duration and the failed executions, both by
    # PipelineName. It publishes no count of executions or of successes.
    [
      for index, widget in [
        { title = "Pipeline execution duration (s)", metric = "PipelineDuration", stats = ["Average", "Maximum"] },
        { title = "Failed pipeline executions", metric = "FailedPipelineExecutions", stats = ["Sum"] },
        ] : {
        type   = "metric"
        x      = index * 12
        y      = local.pipeline_y + 1
        width  = 12
        height = 6
        properties = {
          title   = widget.title
          region  = local.region
          view    = "timeSeries"
          period  = 300
          metrics = [for stat in widget.stats : ["AWS/CodePipeline", widget.metric, "PipelineName", var.pipeline_name, { stat = stat, label = stat }]]
        }
      } if local.enable_codepipeline
    ],
    [
      for index, widget in [
        { title = "Builds", metric = "Builds", stat = "Sum" },
        { title = "Failed builds", metric = "FailedBuilds", stat = "Sum" },
        { title = "Build duration (s)", metric = "Duration", stat = "Average" },
        ] : {
        type   = "metric"
        x      = index * 8
        y      = local.build_y
        width  = 8
        height = 6
        properties = {
          title   = widget.title
          region  = local.region
          view    = "timeSeries"
          stat    = widget.stat
          period  = 300
          metrics = [for project in var.build_project_names : ["AWS/CodeBuild", widget.metric, "ProjectName", project]]
        }
      } if local.enable_build_widgets
    ],
  )

  dashboard_widgets = concat(local.service_widgets, local.pipeline_widgets)
}

resource "aws_cloudwatch_dashboard" "this" {
  count = length(local.dashboard_widgets) == 0 ? 0 : 1

  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
