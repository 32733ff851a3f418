locals {
  base = "${trimsuffix(aws_lambda_function_url.url.function_url, "/")}/"
}

output "function_url" { value = local.base }
output "mcp_endpoint" { value = "${local.base}mcp" }
output "health_endpoint" { value = "${local.base}health" }
output "version" { value = aws_lambda_alias.live.function_version }
output "role_arn" { value = aws_iam_role.role.arn }
