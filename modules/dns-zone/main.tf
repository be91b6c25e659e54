data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  role_name = "${var.name_prefix}-dns-${var.environment}"

  # The names a change may touch, as route53:ChangeResourceRecordSetsNormalizedRecordNames
  # has them (lower case, no trailing dot): each failover name, and below it the
  # validation record ACM asks for a certificate of that name (_<token>.<name>).
  writable_names = sort(concat(var.record_names, [for name in var.record_names : "_*.${name}"]))
}

# The environment's public zone. Route 53's control plane is global: the stack
# creates it with its primary region's provider.
resource "aws_route53_zone" "this" {
  #checkov:skip=CKV2_AWS_38:DNSSEC signing needs a KMS key in us-east-1 and a DS record at the registrar, which the project does not manage; the failover names are protected by HTTPS with ACM certificates.
  #checkov:skip=CKV2_AWS_39:Query logging needs a CloudWatch log group in us-east-1 with a resource policy for Route 53; the health checks and the load balancers' metrics show where users are sent.
  name    = var.zone_name
  comment = "Failover names of the ${var.environment} environment's services (${var.name_prefix})"

  tags = { Name = var.zone_name }
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "Changes the ${var.environment} environment's names in ${var.zone_name}: its runtime workspaces' failover records, validation records and health checks, and its traffic switch alarm."
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EnvironmentDeployRole"
      Effect    = "Allow"
      Principal = { AWS = var.trusted_role_arns }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = { Name = local.role_name }
}

resource "aws_iam_role_policy" "records" {
  name = "records"
  role = aws_iam_role.this.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Only the environment's names, only the types its workspaces write (A: the
        # failover aliases; CNAME: ACM's validation records).
        Sid      = "ChangeTheEnvironmentsRecords"
        Effect   = "Allow"
        Action   = ["route53:ChangeResourceRecordSets"]
        Resource = [aws_route53_zone.this.arn]
        Condition = {
          "ForAllValues:StringLike" = {
            "route53:ChangeResourceRecordSetsNormalizedRecordNames" = local.writable_names
          }
          "ForAllValues:StringEquals" = {
            "route53:ChangeResourceRecordSetsRecordTypes" = ["A", "CNAME"]
            "route53:ChangeResourceRecordSetsActions"     = ["CREATE", "UPSERT", "DELETE"]
          }
        }
      },
      {
        Sid      = "ReadTheZone"
        Effect   = "Allow"
        Action   = ["route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ListTagsForResource"]
        Resource = [aws_route53_zone.this.arn]
      },
      {
        Sid      = "FollowChanges"
        Effect   = "Allow"
        Action   = ["route53:GetChange"]
        Resource = ["arn:${local.partition}:route53:::change/*"]
      },
      {
        # ListHostedZones(ByName) (the aws_route53_zone data source finds the zone by name)
        # and CreateHealthCheck have no resource-level permissions.
        Sid      = "FindZonesAndCreateHealthChecks"
        Effect   = "Allow"
        Action   = ["route53:ListHostedZones", "route53:ListHostedZonesByName", "route53:CreateHealthCheck"]
        Resource = ["*"]
      },
      {
        # A record's health check must be in the zone's account. Route 53 has no
        # condition key to tell one environment's health checks from another's.
        Sid    = "ManageHealthChecks"
        Effect = "Allow"
        Action = [
          "route53:GetHealthCheck",
          "route53:GetHealthCheckStatus",
          "route53:UpdateHealthCheck",
          "route53:DeleteHealthCheck",
          "route53:ChangeTagsForResource",
          "route53:ListTagsForResource",
        ]
        Resource = ["arn:${local.partition}:route53:::healthcheck/*"]
      },
      {
        # The traffic switch of a two-region environment (the runtime stack's
        # primary workspace, in the DR region): a health check watches alarms of its
        # own account only, so the alarm is in the zone's. Its name ends with the
        # environment's (names.traffic_switch_alarm); any region, this account.
        Sid    = "ManageTheTrafficSwitchAlarm"
        Effect = "Allow"
        Action = [
          "cloudwatch:PutMetricAlarm",
          "cloudwatch:DeleteAlarms",
          "cloudwatch:DescribeAlarms",
          "cloudwatch:ListTagsForResource",
          "cloudwatch:TagResource",
          "cloudwatch:UntagResource",
        ]
        Resource = ["arn:${local.partition}:cloudwatch:*:${data.aws_caller_identity.current.account_id}:alarm:*-${var.environment}-dr-traffic-switch"]
      },
    ]
  })
}
