# TFLint for the module library and the stacks.
#
#   tflint --init                      # once: fetches the AWS ruleset from GitHub
#   tflint --recursive --config "$(pwd)/.tflint.hcl"
#
# The AWS ruleset catches what `terraform validate` cannot: invalid instance
# and task sizes, unknown regions, malformed IAM policy documents, deprecated
# arguments. The terraform ruleset enforces the house style (STYLE.md): typed
# and documented variables and outputs, snake_case names, standard module
# structure, no unused declarations, pinned providers in the stacks.
#
# Neither tflint nor its plugins are on PyPI, Debian or npm, so on a machine
# without GitHub access (the project's CI machine) `bin/test` cannot run it;
# `terraform fmt -check` and `terraform validate` run there instead.

config {
  call_module_type = "local"
  format           = "compact"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
  version = "0.44.0"
  source  = "github.com/terraform-linters/tflint-ruleset-aws"
}

rule "terraform_documented_variables" {
  enabled = true
}

rule "terraform_documented_outputs" {
  enabled = true
}

rule "terraform_typed_variables" {
  enabled = true
}

rule "terraform_naming_convention" {
  enabled = true
  format  = "snake_case"
}

rule "terraform_standard_module_structure" {
  enabled = true
}

rule "terraform_unused_declarations" {
  enabled = true
}

rule "terraform_unused_required_providers" {
  enabled = true
}

rule "terraform_required_version" {
  enabled = true
}

rule "terraform_required_providers" {
  enabled = true
}
