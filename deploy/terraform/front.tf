# The front doors besides the function URL (FRONT=HTTP_API, REST_API), the Cognito user pool of
# AUTH=COGNITO and the EventBridge schedule: deploy/lib/front.sh's resources, with its names.

locals {
  http      = var.front == "HTTP_API"
  rest      = var.front == "REST_API"
  api       = local.http || local.rest
  cognito   = var.auth == "COGNITO"
  tokens    = contains(["JWT", "COGNITO"], var.auth)
  http_jwt  = local.http && local.tokens
  access    = local.api && var.access_logs
  scope     = "${var.name}/tools"
  issuer    = local.cognito ? "https://cognito-idp.${local.region}.amazonaws.com/${aws_cognito_user_pool.pool[0].id}" : var.jwt_issuer
  streaming = var.invoke_mode == "RESPONSE_STREAM"
  # a REST API streams through Lambda's response-streaming-invocations path
  rest_uri = local.streaming ? "arn:${local.partition}:apigateway:${local.region}:lambda:path/2021-11-15/functions/${aws_lambda_alias.live.arn}/response-streaming-invocations" : "arn:${local.partition}:apigateway:${local.region}:lambda:path/2015-03-31/functions/${aws_lambda_alias.live.arn}/invocations"
  # the same line as deploy.sh's ACCESS_LOG_FORMAT (jsonencode would sort the keys)
  access_log_format = "{\"requestId\":\"$context.requestId\",\"ip\":\"$context.identity.sourceIp\",\"requestTime\":\"$context.requestTime\",\"httpMethod\":\"$context.httpMethod\",\"path\":\"$context.path\",\"status\":\"$context.status\",\"responseLength\":\"$context.responseLength\",\"integrationError\":\"$context.integrationErrorMessage\"}"
  rest_auth         = var.auth == "AWS_IAM" ? "AWS_IAM" : (local.cognito ? "COGNITO_USER_POOLS" : "NONE")
  # ANY / and ANY /{proxy+}; with COGNITO, GET /health, GET /.well-known/{proxy+} and POST /register public
  rest_methods = merge(
    { root = { path = "/", method = "ANY", public = false }, proxy = { path = "/{proxy+}", method = "ANY", public = false } },
    local.cognito ? {
      health     = { path = "/health", method = "GET", public = true },
      well_known = { path = "/.well-known/{proxy+}", method = "GET", public = true },
      register   = { path = "/register", method = "POST", public = true },
    } : {},
  )
  # COGNITO: the server's own RFC 8414 metadata names the hosted domain's endpoints, and its
  # POST /register hands out the public app client (Cognito has no dynamic registration)
  cognito_oauth = local.cognito ? "https://${aws_cognito_user_pool_domain.domain[0].domain}.auth.${local.region}.amazoncognito.com/oauth2" : null
}

# --- Cognito: user pool, resource server and scope, public app client, domain ----------------------

resource "aws_cognito_user_pool" "pool" {
  count = local.cognito ? 1 : 0
  name  = "${var.name}-users"
  tags  = local.tag
}

resource "aws_cognito_resource_server" "server" {
  count        = local.cognito ? 1 : 0
  user_pool_id = aws_cognito_user_pool.pool[0].id
  identifier   = var.name
  name         = var.name
  scope {
    scope_name        = "tools"
    scope_description = "Call the tools of the MCP server"
  }
}

resource "aws_cognito_user_pool_client" "client" {
  count                                = local.cognito ? 1 : 0
  user_pool_id                         = aws_cognito_user_pool.pool[0].id
  name                                 = "${var.name}-client"
  generate_secret                      = false
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", local.scope]
  allowed_oauth_flows_user_pool_client = true
  callback_urls                        = var.cognito_callback_urls
  supported_identity_providers         = ["COGNITO"]
  depends_on                           = [aws_cognito_resource_server.server]
}

resource "aws_cognito_user_pool_domain" "domain" {
  count        = local.cognito ? 1 : 0
  user_pool_id = aws_cognito_user_pool.pool[0].id
  domain       = var.cognito_domain != null ? var.cognito_domain : replace(lower("${var.name}-${local.account}"), "_", "-")
}

# --- the API's access logs, and API Gateway's permission on the alias -------------------------------

resource "aws_cloudwatch_log_group" "api" {
  count             = local.access ? 1 : 0
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = local.tag
}

resource "aws_lambda_permission" "api" {
  count         = local.api ? 1 : 0
  statement_id  = "mcp-deploy-api-${local.http ? aws_apigatewayv2_api.http[0].id : aws_api_gateway_rest_api.rest[0].id}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.function.function_name
  qualifier     = aws_lambda_alias.live.name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "arn:${local.partition}:execute-api:${local.region}:${local.account}:${local.http ? aws_apigatewayv2_api.http[0].id : aws_api_gateway_rest_api.rest[0].id}/*"
}

# --- HTTP API: payload 2.0 integration, JWT authorizer, routes, $default stage ----------------------

resource "aws_apigatewayv2_api" "http" {
  count         = local.http ? 1 : 0
  name          = var.name
  protocol_type = "HTTP"
  description   = "MCP server ${var.name} (mcp.c), deployed by deploy.sh"
  tags          = local.tag
  dynamic "cors_configuration" {
    for_each = length(var.cors_origins) > 0 ? [1] : []
    content {
      allow_origins  = var.cors_origins
      allow_methods  = local.cors.allow_methods
      allow_headers  = local.cors.allow_headers
      expose_headers = local.cors.expose_headers
      max_age        = local.cors.max_age
    }
  }
}

resource "aws_apigatewayv2_integration" "http" {
  count                  = local.http ? 1 : 0
  api_id                 = aws_apigatewayv2_api.http[0].id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_alias.live.arn
  integration_method     = "POST"
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000 # an HTTP API waits 30 s at most; the function's timeout ends it sooner
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  count            = local.http_jwt ? 1 : 0
  api_id           = aws_apigatewayv2_api.http[0].id
  authorizer_type  = "JWT"
  name             = "${var.name}-jwt"
  identity_sources = ["$request.header.Authorization"]
  jwt_configuration {
    issuer   = local.issuer
    audience = [local.cognito ? aws_cognito_user_pool_client.client[0].id : var.jwt_audience]
  }
}

resource "aws_apigatewayv2_route" "default" {
  count                = local.http ? 1 : 0
  api_id               = aws_apigatewayv2_api.http[0].id
  route_key            = "$default"
  target               = "integrations/${aws_apigatewayv2_integration.http[0].id}"
  authorization_type   = var.auth == "AWS_IAM" ? "AWS_IAM" : (local.tokens ? "JWT" : "NONE")
  authorizer_id        = local.http_jwt ? aws_apigatewayv2_authorizer.jwt[0].id : null
  authorization_scopes = local.cognito ? [local.scope] : null
}

# with tokens, GET /health and the OAuth metadata public; with COGNITO, POST /register too
resource "aws_apigatewayv2_route" "public" {
  for_each           = local.http_jwt ? setunion(["GET /health", "GET /.well-known/{proxy+}"], local.cognito ? ["POST /register"] : []) : toset([])
  api_id             = aws_apigatewayv2_api.http[0].id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.http[0].id}"
  authorization_type = "NONE"
}

resource "aws_apigatewayv2_stage" "http" {
  count       = local.http ? 1 : 0
  api_id      = aws_apigatewayv2_api.http[0].id
  name        = "$default"
  auto_deploy = true
  tags        = local.tag
  default_route_settings {
    throttling_rate_limit  = var.throttle_rate
    throttling_burst_limit = var.throttle_burst
  }
  dynamic "access_log_settings" {
    for_each = local.access ? [1] : []
    content {
      destination_arn = aws_cloudwatch_log_group.api[0].arn
      format          = local.access_log_format
    }
  }
}

# --- REST API: resources and methods (Lambda proxy, payload 1.0), Cognito authorizer, deployment and
# stage (throttling, access logs, tracing), usage plan and key of AUTH=API_KEY -----------------------

resource "aws_api_gateway_rest_api" "rest" {
  count       = local.rest ? 1 : 0
  name        = var.name
  description = "MCP server ${var.name} (mcp.c), deployed by deploy.sh"
  tags        = local.tag
  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_resource" "proxy" {
  count       = local.rest ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.rest[0].id
  parent_id   = aws_api_gateway_rest_api.rest[0].root_resource_id
  path_part   = "{proxy+}"
}

resource "aws_api_gateway_resource" "health" {
  count       = local.rest && local.cognito ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.rest[0].id
  parent_id   = aws_api_gateway_rest_api.rest[0].root_resource_id
  path_part   = "health"
}

resource "aws_api_gateway_resource" "well_known" {
  count       = local.rest && local.cognito ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.rest[0].id
  parent_id   = aws_api_gateway_rest_api.rest[0].root_resource_id
  path_part   = ".well-known"
}

resource "aws_api_gateway_resource" "well_known_proxy" {
  count       = local.rest && local.cognito ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.rest[0].id
  parent_id   = aws_api_gateway_resource.well_known[0].id
  path_part   = "{proxy+}"
}

resource "aws_api_gateway_resource" "register" {
  count       = local.rest && local.cognito ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.rest[0].id
  parent_id   = aws_api_gateway_rest_api.rest[0].root_resource_id
  path_part   = "register"
}

resource "aws_api_gateway_authorizer" "cognito" {
  count           = local.rest && local.cognito ? 1 : 0
  rest_api_id     = aws_api_gateway_rest_api.rest[0].id
  name            = "${var.name}-cognito"
  type            = "COGNITO_USER_POOLS"
  provider_arns   = [aws_cognito_user_pool.pool[0].arn]
  identity_source = "method.request.header.Authorization"
}

locals {
  rest_resource_ids = local.rest ? merge(
    { "/" = aws_api_gateway_rest_api.rest[0].root_resource_id, "/{proxy+}" = aws_api_gateway_resource.proxy[0].id },
    local.cognito ? {
      "/health"               = aws_api_gateway_resource.health[0].id,
      "/.well-known/{proxy+}" = aws_api_gateway_resource.well_known_proxy[0].id,
      "/register"             = aws_api_gateway_resource.register[0].id,
    } : {},
  ) : {}
}

resource "aws_api_gateway_method" "method" {
  for_each             = local.rest ? local.rest_methods : {}
  rest_api_id          = aws_api_gateway_rest_api.rest[0].id
  resource_id          = local.rest_resource_ids[each.value.path]
  http_method          = each.value.method
  authorization        = each.value.public ? "NONE" : local.rest_auth
  authorizer_id        = !each.value.public && local.cognito ? aws_api_gateway_authorizer.cognito[0].id : null
  authorization_scopes = !each.value.public && local.cognito ? [local.scope] : null
  api_key_required     = !each.value.public && var.auth == "API_KEY"
}

# Streaming also needs the integration's responseTransferMode STREAM, which the AWS provider 5.x
# cannot set: a streamed REST API is refused in variables.tf (deploy.sh and the template make it).
resource "aws_api_gateway_integration" "method" {
  for_each                = aws_api_gateway_method.method
  rest_api_id             = aws_api_gateway_rest_api.rest[0].id
  resource_id             = each.value.resource_id
  http_method             = each.value.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = local.rest_uri
}

resource "aws_api_gateway_deployment" "rest" {
  count       = local.rest ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.rest[0].id
  description = "deploy.sh: ${var.name}:live"
  triggers = {
    methods = sha1(jsonencode([for k, m in aws_api_gateway_method.method : [k, m.authorization, m.api_key_required, aws_api_gateway_integration.method[k].uri]]))
  }
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "rest" {
  count                = local.rest ? 1 : 0
  rest_api_id          = aws_api_gateway_rest_api.rest[0].id
  deployment_id        = aws_api_gateway_deployment.rest[0].id
  stage_name           = var.stage
  xray_tracing_enabled = var.tracing == "Active"
  tags                 = local.tag
  dynamic "access_log_settings" {
    for_each = local.access ? [1] : []
    content {
      destination_arn = aws_cloudwatch_log_group.api[0].arn
      format          = local.access_log_format
    }
  }
}

resource "aws_api_gateway_method_settings" "rest" {
  count       = local.rest ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.rest[0].id
  stage_name  = aws_api_gateway_stage.rest[0].stage_name
  method_path = "*/*"
  settings {
    throttling_rate_limit  = var.throttle_rate
    throttling_burst_limit = var.throttle_burst
  }
}

resource "aws_api_gateway_usage_plan" "plan" {
  count = local.rest && var.auth == "API_KEY" ? 1 : 0
  name  = var.name
  tags  = local.tag
  api_stages {
    api_id = aws_api_gateway_rest_api.rest[0].id
    stage  = aws_api_gateway_stage.rest[0].stage_name
  }
  throttle_settings {
    rate_limit  = var.throttle_rate
    burst_limit = var.throttle_burst
  }
}

resource "aws_api_gateway_api_key" "key" {
  count   = local.rest && var.auth == "API_KEY" ? 1 : 0
  name    = "${var.name}-key"
  enabled = true
  tags    = local.tag
}

resource "aws_api_gateway_usage_plan_key" "key" {
  count         = local.rest && var.auth == "API_KEY" ? 1 : 0
  usage_plan_id = aws_api_gateway_usage_plan.plan[0].id
  key_id        = aws_api_gateway_api_key.key[0].id
  key_type      = "API_KEY"
}

# --- custom domain: a regional domain name (TLS 1.2, certificate_arn) mapped to the API --------------

locals {
  domain    = local.api && var.custom_domain != null
  base_path = var.base_path == null ? null : trim(var.base_path, "/")
}

resource "aws_apigatewayv2_domain_name" "domain" {
  count       = local.domain && local.http ? 1 : 0
  domain_name = var.custom_domain
  tags        = local.tag
  domain_name_configuration {
    certificate_arn = var.certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }
}

resource "aws_apigatewayv2_api_mapping" "domain" {
  count           = local.domain && local.http ? 1 : 0
  api_id          = aws_apigatewayv2_api.http[0].id
  domain_name     = aws_apigatewayv2_domain_name.domain[0].id
  stage           = aws_apigatewayv2_stage.http[0].id
  api_mapping_key = local.base_path
}

resource "aws_api_gateway_domain_name" "domain" {
  count                    = local.domain && local.rest ? 1 : 0
  domain_name              = var.custom_domain
  regional_certificate_arn = var.certificate_arn
  security_policy          = "TLS_1_2"
  tags                     = local.tag
  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_base_path_mapping" "domain" {
  count       = local.domain && local.rest ? 1 : 0
  api_id      = aws_api_gateway_rest_api.rest[0].id
  domain_name = aws_api_gateway_domain_name.domain[0].domain_name
  stage_name  = aws_api_gateway_stage.rest[0].stage_name
  base_path   = local.base_path
}

# --- EventBridge schedule ------------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "schedule" {
  count               = var.schedule != null ? 1 : 0
  name                = "${var.name}-schedule"
  description         = "Invokes the MCP server ${var.name}:live (deploy.sh)"
  schedule_expression = var.schedule
  state               = "ENABLED"
  tags                = local.tag
}

resource "aws_cloudwatch_event_target" "schedule" {
  count     = var.schedule != null ? 1 : 0
  rule      = aws_cloudwatch_event_rule.schedule[0].name
  target_id = "mcp"
  arn       = aws_lambda_alias.live.arn
  input     = var.schedule_input
}

resource "aws_lambda_permission" "schedule" {
  count         = var.schedule != null ? 1 : 0
  statement_id  = "mcp-deploy-schedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.function.function_name
  qualifier     = aws_lambda_alias.live.name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule[0].arn
}
