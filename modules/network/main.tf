data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  # One entry per availability zone, keyed by zone name. The suffix is the
  # zone letter ("a" for us-east-1a) and is used in resource names.
  #
  # Subnet layout (deterministic): the first three quarters of the VPC are the
  # private subnets (tasks need the addresses); the public subnets (load
  # balancer and NAT gateways) are sixteenths 12-14, and sixteenth 15 is left
  # free. A /16 gives three /18 private and three /20 public subnets; a /23
  # gives three /25 private and three /27 public subnets.
  zones = {
    for index, az in var.availability_zones : az => {
      index               = index
      suffix              = substr(az, length(az) - 1, 1)
      public_cidr_block   = cidrsubnet(var.cidr_block, 4, 12 + index)
      private_cidr_block  = cidrsubnet(var.cidr_block, 2, index)
      public_subnet_name  = "${var.name_prefix}-public-${substr(az, length(az) - 1, 1)}"
      private_subnet_name = "${var.name_prefix}-private-${substr(az, length(az) - 1, 1)}"
      private_rt_name     = "${var.name_prefix}-private-rt-${substr(az, length(az) - 1, 1)}"
      nat_name            = "${var.name_prefix}-nat-${substr(az, length(az) - 1, 1)}"
      nat_eip_name        = "${var.name_prefix}-nat-eip-${substr(az, length(az) - 1, 1)}"
    }
  }

  # Zones that hold a NAT gateway, and the NAT gateway each private route
  # table sends internet traffic to.
  nat_zones = var.nat_gateway_mode == "per_az" ? var.availability_zones : [var.availability_zones[0]]
  nat_zone_for = {
    for az in var.availability_zones : az => (var.nat_gateway_mode == "per_az" ? az : var.availability_zones[0])
  }

  vpc_name            = "${var.name_prefix}-vpc"
  igw_name            = "${var.name_prefix}-igw"
  public_rt_name      = "${var.name_prefix}-public-rt"
  default_sg_name     = "${var.name_prefix}-default"
  endpoints_sg_name   = "${var.name_prefix}-endpoints"
  s3_endpoint_name    = "${var.name_prefix}-s3"
  flow_log_name       = "${var.name_prefix}-vpc-flow-log"
  flow_log_group_name = "${var.name_prefix}-flow-logs"
  # IAM is global: the region keeps the role name unique when the same prefix
  # is deployed to several regions of one account.
  flow_log_role_name = "${var.name_prefix}-flow-logs-${local.region}"
}

# --- VPC ---------------------------------------------------------------------

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true # required by private DNS of interface endpoints
  enable_dns_hostnames = true

  tags = { Name = local.vpc_name }

  lifecycle {
    precondition {
      condition     = alltrue([for az in var.availability_zones : substr(az, 0, length(az) - 1) == local.region])
      error_message = "The availability_zones must be in the provider's region (${local.region})."
    }
  }
}

# The default security group cannot be deleted; managing it without rules
# removes the allow-all rules AWS creates, so nothing can use it by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = local.default_sg_name }
}

# --- Public subnets ----------------------------------------------------------

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = local.igw_name }
}

resource "aws_subnet" "public" {
  for_each = local.zones

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = each.value.public_cidr_block
  map_public_ip_on_launch = false # the load balancer and NAT gateways get their own addresses

  tags = {
    Name = each.value.public_subnet_name
    Tier = "public"
  }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = { Name = local.public_rt_name }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  for_each = local.zones

  subnet_id      = aws_subnet.public[each.key].id
  route_table_id = aws_route_table.public.id
}

# --- NAT gateways ------------------------------------------------------------

resource "aws_eip" "nat" {
  for_each = toset(local.nat_zones)

  domain = "vpc"

  tags = { Name = local.zones[each.key].nat_eip_name }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  for_each = toset(local.nat_zones)

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id

  tags = { Name = local.zones[each.key].nat_name }

  depends_on = [aws_internet_gateway.this]
}

# --- Private subnets ---------------------------------------------------------

resource "aws_subnet" "private" {
  for_each = local.zones

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = each.value.private_cidr_block
  map_public_ip_on_launch = false

  tags = {
    Name = each.value.private_subnet_name
    Tier = "private"
  }
}

# One route table per zone in both NAT modes, so that switching mode only
# changes routes, never subnets or associations.
resource "aws_route_table" "private" {
  for_each = local.zones

  vpc_id = aws_vpc.this.id

  tags = { Name = each.value.private_rt_name }
}

resource "aws_route" "private_nat" {
  for_each = local.zones

  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[local.nat_zone_for[each.key]].id
}

resource "aws_route_table_association" "private" {
  for_each = local.zones

  subnet_id      = aws_subnet.private[each.key].id
  route_table_id = aws_route_table.private[each.key].id
}
