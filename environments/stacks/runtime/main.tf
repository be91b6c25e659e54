locals {
  name_prefix = "${var.company}-${var.service}-${var.environment}"

  tags = {
    Company     = var.company
    Service     = var.service
    Environment = var.environment
    ManagedBy   = "terraform"
  }
}

data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

module "network" {
  source = "../../../modules/network"

  name_prefix        = local.name_prefix
  cidr_block         = var.vpc_cidr
  availability_zones = slice(sort(data.aws_availability_zones.available.names), 0, 3)
  nat_gateway_mode   = var.nat_gateway_mode

  flow_logs = {
    retention_in_days = var.log_retention_days
  }
}
