# The settings of issue 16 besides the custom domain (front.tf): the role's statements for the
# VPC, DynamoDB, Bedrock, the tasks table and free statements (deploy/lib/extras.sh's, in its
# order), provisioned concurrency on the alias, and the durable-tasks table.

locals {
  vpc        = length(var.vpc_subnets) > 0
  tasks      = var.tasks_table == null ? null : (var.tasks_table == "create" ? "${var.name}-tasks" : var.tasks_table)
  table_arns = [for t in var.dynamodb_tables : startswith(t, "arn:") ? t : "arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${t}"]
  # a model id, an inference profile (us.anthropic....: and the model it routes to, in any region), or an ARN
  bedrock_arns = flatten([for m in var.bedrock_models : startswith(m, "arn:") ? [m] : (
    can(regex("^(us|eu|apac|us-gov|global|jp|au|ca)\\.", m)) ? [
      "arn:${local.partition}:bedrock:${local.region}:${local.account}:inference-profile/${m}",
      "arn:${local.partition}:bedrock:*::foundation-model/${regex("^[a-z-]+\\.(.+)$", m)[0]}",
    ] : ["arn:${local.partition}:bedrock:${local.region}::foundation-model/${m}"]
  )])
  tasks_arn    = local.tasks == null ? null : "arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${local.tasks}"
  function_arn = "arn:${local.partition}:lambda:${local.region}:${local.account}:function:${var.name}"
  extra_statements = concat(
    local.vpc ? [{
      Sid      = "VpcNetworkInterfaces"
      Effect   = "Allow"
      Action   = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
      Resource = "*"
    }] : [],
    length(var.dynamodb_tables) > 0 ? [{
      Sid      = "DynamoDbTables"
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"]
      Resource = concat(local.table_arns, [for a in local.table_arns : "${a}/index/*"])
    }] : [],
    length(var.bedrock_models) > 0 ? [{
      Sid      = "BedrockModels"
      Effect   = "Allow"
      Action   = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
      Resource = local.bedrock_arns
    }] : [],
    local.tasks != null ? [{
      Sid      = "TasksTable"
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"]
      Resource = [local.tasks_arn, "${local.tasks_arn}/index/*"]
    }] : [],
    local.tasks != null ? [{
      # the runtime continues a task by invoking its own alias asynchronously
      Sid      = "TasksSelfInvoke"
      Effect   = "Allow"
      Action   = "lambda:InvokeFunction"
      Resource = [local.function_arn, "${local.function_arn}:*"]
    }] : [],
    var.extra_policy == null ? [] : jsondecode(var.extra_policy),
  )
}

resource "aws_lambda_provisioned_concurrency_config" "live" {
  count                             = coalesce(var.provisioned_concurrency, 0) > 0 ? 1 : 0
  function_name                     = aws_lambda_function.function.function_name
  qualifier                         = aws_lambda_alias.live.name
  provisioned_concurrent_executions = var.provisioned_concurrency
}

# TASKS_TABLE=create: NAME-tasks, on demand, key taskId, index owner-createdAt, TTL on expiresAt
resource "aws_dynamodb_table" "tasks" {
  count        = var.tasks_table == "create" ? 1 : 0
  name         = local.tasks
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "taskId"
  tags         = local.tag
  attribute {
    name = "taskId"
    type = "S"
  }
  attribute {
    name = "owner"
    type = "S"
  }
  attribute {
    name = "createdAt"
    type = "S"
  }
  global_secondary_index {
    name            = "owner-createdAt"
    hash_key        = "owner"
    range_key       = "createdAt"
    projection_type = "ALL"
  }
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }
}
