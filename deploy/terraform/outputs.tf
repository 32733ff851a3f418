locals {
  base = {
    URL      = var.front == "URL" ? "${trimsuffix(aws_lambda_function_url.url[0].function_url, "/")}/" : null
    HTTP_API = local.http ? "${aws_apigatewayv2_api.http[0].api_endpoint}/" : null
    REST_API = local.rest ? "https://${aws_api_gateway_rest_api.rest[0].id}.execute-api.${local.region}.amazonaws.com/${var.stage}/" : null
  }[var.front]
}

output "endpoint" { value = local.base }
output "function_url" { value = var.front == "URL" ? local.base : null }
output "mcp_endpoint" { value = "${local.base}mcp" }
output "health_endpoint" { value = "${local.base}health" }
output "version" { value = aws_lambda_alias.live.function_version }
output "role_arn" { value = aws_iam_role.role.arn }
output "user_pool_id" { value = local.cognito ? aws_cognito_user_pool.pool[0].id : null }
output "app_client_id" { value = local.cognito ? aws_cognito_user_pool_client.client[0].id : null }
output "api_key_id" { value = local.rest && var.auth == "API_KEY" ? aws_api_gateway_api_key.key[0].id : null }
output "custom_domain_endpoint" {
  description = "The MCP endpoint under the custom domain, once its DNS points at custom_domain_target"
  value       = local.domain ? "https://${var.custom_domain}/${local.base_path == null ? "" : "${local.base_path}/"}mcp" : null
}
output "custom_domain_target" {
  description = "The name the custom domain's CNAME (or alias record) points at"
  value       = !local.domain ? null : (local.http ? aws_apigatewayv2_domain_name.domain[0].domain_name_configuration[0].target_domain_name : aws_api_gateway_domain_name.domain[0].regional_domain_name)
}
output "tasks_table" { value = local.tasks }
