# The stack of deploy/deploy.sh as a Terraform module: the same names, properties and policy
# (deploy/settings.tsv names the variables); front.tf holds the API Gateway fronts, Cognito and
# the schedule.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  tag       = { "mcp-deploy" = var.name }
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  log_group = "/aws/lambda/${var.name}"
  s3 = [for p in var.s3_prefixes : {
    bucket = split("/", trimprefix(p, "s3://"))[0]
    prefix = trimsuffix(join("/", slice(split("/", trimprefix(p, "s3://")), 1, length(split("/", trimprefix(p, "s3://"))))), "/")
  }]
  environment = merge(
    var.environment,
    var.invoke_mode == "RESPONSE_STREAM" ? { MCP_LAMBDA_STREAMING = "1" } : {},
    length(var.cors_origins) > 0 ? { MCP_CORS_ORIGINS = join(",", var.cors_origins) } : {},
    # AUTH=JWT and COGNITO: the server checks the tokens too and publishes its OAuth metadata
    local.tokens ? { MCP_JWT_ISSUER = local.issuer, MCP_OAUTH_AUTHORIZATION_SERVERS = local.issuer } : {},
    var.auth == "JWT" && var.jwt_audience != null ? { MCP_JWT_AUDIENCE = var.jwt_audience } : {},
    local.cognito ? {
      MCP_OAUTH_SCOPES                 = local.scope
      MCP_OAUTH_CLIENT_ID              = aws_cognito_user_pool_client.client[0].id
      MCP_OAUTH_AUTHORIZATION_ENDPOINT = "${local.cognito_oauth}/authorize"
      MCP_OAUTH_TOKEN_ENDPOINT         = "${local.cognito_oauth}/token"
      MCP_OAUTH_REDIRECT_URIS          = join(",", var.cognito_callback_urls)
    } : {},
    local.rest && local.tokens ? { MCP_OAUTH_RESOURCE = "https://${aws_api_gateway_rest_api.rest[0].id}.execute-api.${local.region}.amazonaws.com/${var.stage}/mcp" } : {},
    var.base_path != null ? { MCP_BASE_PATH = "/${trim(var.base_path, "/")}" } : {},
    local.tasks != null ? { MCP_TASKS_TABLE = var.tasks_table == "create" ? aws_dynamodb_table.tasks[0].name : local.tasks } : {},
  )
  # the CORS of the function URL and of the HTTP API
  cors = {
    allow_methods = ["GET", "POST", "DELETE"]
    allow_headers = ["content-type", "accept", "authorization", "mcp-session-id", "mcp-protocol-version", "mcp-method",
    "mcp-name", "last-event-id", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"]
    expose_headers = ["mcp-session-id"]
    max_age        = 86400
  }
  statements = concat(
    [{
      Sid      = "Logs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${local.log_group}:*"
    }],
    length(var.ssm_parameter_arns) > 0 ? [{
      Sid      = "SsmParameters"
      Effect   = "Allow"
      Action   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
      Resource = var.ssm_parameter_arns
    }] : [],
    length(var.secret_arns) > 0 ? [{
      Sid      = "Secrets"
      Effect   = "Allow"
      Action   = "secretsmanager:GetSecretValue"
      Resource = var.secret_arns
    }] : [],
    var.tracing == "Active" ? [{
      Sid      = "XRay"
      Effect   = "Allow"
      Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      Resource = "*"
    }] : [],
    flatten([for i, s in local.s3 : [
      {
        Sid      = "S3Objects${i + 1}"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = s.prefix == "" ? "arn:${local.partition}:s3:::${s.bucket}/*" : "arn:${local.partition}:s3:::${s.bucket}/${s.prefix}/*"
      },
      merge({
        Sid      = "S3List${i + 1}"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = "arn:${local.partition}:s3:::${s.bucket}"
        }, s.prefix == "" ? {} : {
        Condition = { StringLike = { "s3:prefix" = [s.prefix, "${s.prefix}/*"] } }
      })
    ]]),
    local.extra_statements, # extras.tf
  )
  alarms = {
    errors = { suffix = "errors", metric = "Errors", description = "invocations failed", threshold = 0, extended = null }
    duration = { suffix = "duration-p99", metric = "Duration", threshold = var.timeout * 800, extended = "p99",
    description = "p99 duration above 80% of the ${var.timeout}s timeout" }
    throttles = { suffix = "throttles", metric = "Throttles", description = "invocations throttled", threshold = 0, extended = null }
  }
}

resource "aws_iam_role" "role" {
  name        = "${var.name}-role"
  description = "Execution role of the MCP server ${var.name} (mcp.c deploy.sh)"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
  tags = local.tag
}

resource "aws_iam_role_policy" "policy" {
  name   = "mcp-deploy"
  role   = aws_iam_role.role.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}

resource "aws_cloudwatch_log_group" "logs" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  tags              = local.tag
}

resource "aws_lambda_function" "function" {
  function_name                  = var.name
  description                    = "MCP server ${var.name} (mcp.c), deployed by deploy.sh"
  role                           = aws_iam_role.role.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  filename                       = var.zip_file
  source_code_hash               = filebase64sha256(var.zip_file)
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency
  publish                        = true
  dynamic "environment" {
    for_each = length(local.environment) > 0 ? [1] : []
    content {
      variables = local.environment
    }
  }
  logging_config {
    log_format            = var.log_format
    application_log_level = var.log_format == "JSON" ? var.log_level : null
    log_group             = aws_cloudwatch_log_group.logs.name
  }
  tracing_config {
    mode = var.tracing
  }
  dynamic "vpc_config" {
    for_each = local.vpc ? [1] : []
    content {
      subnet_ids         = var.vpc_subnets
      security_group_ids = var.vpc_security_groups
    }
  }
  tags       = local.tag
  depends_on = [aws_iam_role_policy.policy]
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "What the function URL serves; deploy.sh rollback moves it back"
  function_name    = aws_lambda_function.function.function_name
  function_version = aws_lambda_function.function.version
}

resource "aws_lambda_function_url" "url" {
  count              = var.front == "URL" ? 1 : 0
  function_name      = aws_lambda_function.function.function_name
  qualifier          = aws_lambda_alias.live.name
  authorization_type = var.auth
  invoke_mode        = var.invoke_mode
  dynamic "cors" {
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

resource "aws_cloudwatch_metric_alarm" "alarm" {
  for_each            = local.alarms
  alarm_name          = "${var.name}-${each.value.suffix}"
  alarm_description   = "MCP server ${var.name}: ${each.value.description}"
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric
  dimensions          = { FunctionName = aws_lambda_function.function.function_name }
  statistic           = each.value.extended == null ? "Sum" : null
  extended_statistic  = each.value.extended
  period              = 300
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic == null ? [] : [var.alarm_topic]
  ok_actions          = var.alarm_topic == null ? [] : [var.alarm_topic]
}
