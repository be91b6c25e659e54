# --- Which region serves (deployer dr failover / failback) ---------------------------
#
# This region's count: the desired count while it serves, the standby count otherwise.
# The configuration names the serving region (`serving`, else the primary); once
# `deployer dr failover` or `failback` has run, the serving record it wrote in this
# region (SSM /deployer/dr/<environment>, a String of JSON, in every region it could
# reach) names it instead. So a plan after a failover or a failback is empty, a later
# apply does not undo one, and plain Terraform plans the same as the deployer. Read by
# path, which answers nothing rather than an error before any record exists. Only in
# environments of two or more regions; a region the command could not reach keeps its
# older copy, and with it the count it still runs, until the command is run again.

data "aws_ssm_parameters_by_path" "serving" {
  count = length(var.regions) > 1 ? 1 : 0

  path = "/deployer/dr"
}

locals {
  serving_records = length(var.regions) > 1 ? zipmap(
    data.aws_ssm_parameters_by_path.serving[0].names,
    # The record is not secret (regions, counts, times); the provider marks every
    # value sensitive, which would hide the task counts in every plan.
    nonsensitive(data.aws_ssm_parameters_by_path.serving[0].values),
  ) : {}
  serving_record = try(jsondecode(local.serving_records["/deployer/dr/${var.environment}"]), null)
  serving_region = coalesce(try(tostring(local.serving_record.serving), null), var.sizing.serving_region, var.region)
  running_count = (
    local.serving_region == var.region
    ? var.sizing.desired_count
    : coalesce(var.sizing.standby_count, var.sizing.desired_count)
  )
}
