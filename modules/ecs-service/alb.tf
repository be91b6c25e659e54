# --- Security groups ---------------------------------------------------------

resource "aws_security_group" "alb" {
  name        = local.alb_sg_name
  description = "Load balancer of ${local.service_name}: listener ports from the allowed CIDR blocks"
  vpc_id      = var.vpc_id

  tags = { Name = local.alb_sg_name }
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  for_each = {
    for pair in setproduct(keys(local.listener_ports), var.ingress_cidr_blocks) :
    "${pair[0]}-${pair[1]}" => { listener = pair[0], cidr = pair[1] }
  }

  security_group_id = aws_security_group.alb.id
  description       = "${title(each.value.listener)} listener"
  ip_protocol       = "tcp"
  from_port         = local.listener_ports[each.value.listener]
  to_port           = local.listener_ports[each.value.listener]
  cidr_ipv4         = each.value.cidr
}

# The load balancer only talks to the tasks.
resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the tasks on the container port"
  ip_protocol                  = "tcp"
  from_port                    = var.microservice.port
  to_port                      = var.microservice.port
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_security_group" "tasks" {
  name        = local.task_sg_name
  description = "Tasks of ${local.service_name}: container port from the load balancer only"
  vpc_id      = var.vpc_id

  tags = { Name = local.task_sg_name }
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "From the load balancer on the container port"
  ip_protocol                  = "tcp"
  from_port                    = var.microservice.port
  to_port                      = var.microservice.port
  referenced_security_group_id = aws_security_group.alb.id
}

# HTTPS out: ECR, CloudWatch Logs and SSM (through the VPC endpoints or the
# NAT gateways). Anything else a service needs is added by the caller on
# task_security_group_id.
resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (ECR, CloudWatch Logs, SSM)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# --- Load balancer -------------------------------------------------------------

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_91:Access logs need an S3 bucket with an ELB log delivery policy, which the runtime stack does not have yet; the 5xx alarms and target health cover deployments.
  #checkov:skip=CKV2_AWS_28:WAF is an account-level decision (a web ACL shared by the environment's load balancers), not part of one service.
  #checkov:skip=CKV2_AWS_20:With certificate_arn, port 80 answers 301 to HTTPS (aws_lb_listener.http_redirect, to the production listener's port, which checkov cannot resolve); without a certificate the listeners are plain HTTP on purpose (the local emulator, or TLS terminated in front).
  #checkov:skip=CKV_AWS_150:Deletion protection is the enable_deletion_protection input (on in production); off by default so that non-production stacks can be destroyed.
  name                       = local.alb_name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.enable_deletion_protection

  tags = { Name = local.alb_name }
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; behind it, plain HTTP to tasks in private subnets that accept only the load balancer's security group (HTTPS would need a certificate in every container).
  for_each = local.target_group_name

  name                 = each.value
  port                 = var.microservice.port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = var.health_check.deregistration_delay_seconds

  health_check {
    path                = var.microservice.health_check_path
    protocol            = "HTTP"
    matcher             = "200-399"
    interval            = var.health_check.interval_seconds
    timeout             = var.health_check.timeout_seconds
    healthy_threshold   = var.health_check.healthy_threshold
    unhealthy_threshold = var.health_check.unhealthy_threshold
  }

  tags = { Name = each.value }
}

# CodeDeploy moves the listeners' default action between the blue and green
# target groups on every deployment (production: blue -> green -> blue ...;
# test: to the replacement target group). That is AWS's behaviour, not drift
# to undo, so Terraform sets the default action once and ignores it after.
resource "aws_lb_listener" "production" {
  #checkov:skip=CKV_AWS_2:HTTPS whenever certificate_arn is given; plain HTTP only without a certificate (the local emulator, or TLS terminated in front of the load balancer).
  #checkov:skip=CKV_AWS_103:TLS 1.2+ (ELBSecurityPolicy-TLS13-1-2-2021-06) whenever certificate_arn is given; no TLS without a certificate.
  load_balancer_arn = aws_lb.this.arn
  port              = local.production_listener_port
  protocol          = local.listener_protocol
  ssl_policy        = local.https ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : null
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["blue"].arn
  }

  lifecycle {
    ignore_changes = [default_action]
  }

  tags = { Name = "${local.alb_name}-production" }
}

resource "aws_lb_listener" "test" {
  #checkov:skip=CKV_AWS_2:HTTPS whenever certificate_arn is given; plain HTTP only without a certificate (the local emulator, or TLS terminated in front of the load balancer).
  #checkov:skip=CKV_AWS_103:TLS 1.2+ (ELBSecurityPolicy-TLS13-1-2-2021-06) whenever certificate_arn is given; no TLS without a certificate.
  load_balancer_arn = aws_lb.this.arn
  port              = var.test_listener_port
  protocol          = local.listener_protocol
  ssl_policy        = local.https ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : null
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["green"].arn
  }

  lifecycle {
    ignore_changes = [default_action]
  }

  tags = { Name = "${local.alb_name}-test" }
}

# With a certificate, plain HTTP on port 80 answers 301 to the same host, path and
# query over HTTPS on the production listener, so that http:// links and bookmarks
# still reach the service.
resource "aws_lb_listener" "http_redirect" {
  count = local.http_redirect ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = tostring(local.production_listener_port)
      status_code = "HTTP_301"
    }
  }

  tags = { Name = "${local.alb_name}-redirect" }
}
