output "plan_role_arn" {
  description = "ARN of the plan role ({name_prefix}-ci-plan): role-to-assume of pull request and drift workflows."
  # Constructed from the created role's name: known at plan time (the read roles'
  # trust policies name it), and still ordered after the role.
  value = "arn:aws:iam::${var.account_id}:role/${aws_iam_role.plan.name}"
}

output "apply_role_arn" {
  description = "ARN of the apply role ({name_prefix}-ci-apply): role-to-assume of the protected branch's and the environments' apply jobs."
  value       = aws_iam_role.apply.arn
}

output "oidc_provider_arn" {
  description = "ARN of the GitHub Actions OIDC provider the roles trust (created here, or the account's own when create_oidc_provider is false)."
  value       = try(aws_iam_openid_connect_provider.github[0].arn, local.oidc_provider_arn)
}
