# The settings of deploy/settings.tsv (its terraform column names each variable here), with
# deploy.sh's defaults and choices; test/deploy/template_check.py checks that they agree.

variable "name" {
  description = "NAME: the function's name; also names the role (NAME-role), log group and alarms"
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,58}$", var.name))
    error_message = "name must be 1-58 letters, digits, - or _."
  }
}

variable "region" {
  description = "REGION (the provider's region; informational here)"
  type        = string
  default     = null
}

variable "architecture" {
  description = "ARCH"
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "MEMORY, MB"
  type        = number
  default     = 256
  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be 128..10240."
  }
}

variable "timeout" {
  description = "TIMEOUT, seconds"
  type        = number
  default     = 30
  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be 1..900."
  }
}

variable "front" {
  description = "FRONT: the function URL, an API Gateway HTTP API or a REST API"
  type        = string
  default     = "URL"
  validation {
    condition     = contains(["URL", "HTTP_API", "REST_API"], var.front)
    error_message = "front must be URL, HTTP_API or REST_API."
  }
}

variable "auth" {
  description = "AUTH: NONE, AWS_IAM, API_KEY (REST_API), JWT (any OIDC issuer; not REST_API) or COGNITO (a user pool made here)"
  type        = string
  default     = "AWS_IAM"
  validation {
    condition     = contains(["NONE", "AWS_IAM", "API_KEY", "JWT", "COGNITO"], var.auth)
    error_message = "auth must be NONE, AWS_IAM, API_KEY, JWT or COGNITO."
  }
  # A public function URL (NONE, JWT, COGNITO) needs lambda:InvokeFunction limited to the URL
  # (InvokedViaFunctionUrl), which aws_lambda_permission of the AWS provider 5.x cannot express;
  # deploy.sh and the template can. Without it the URL answers 403, and without the limit it would be open.
  validation {
    condition     = var.front != "URL" || var.auth == "AWS_IAM"
    error_message = "a function URL takes auth AWS_IAM here: a public URL needs the InvokedViaFunctionUrl permission, which the AWS provider 5.x lacks; use an API front, deploy.sh or the template."
  }
  validation {
    condition     = var.auth != "API_KEY" || var.front == "REST_API"
    error_message = "auth API_KEY needs front REST_API (API Gateway's API keys and usage plan)."
  }
  validation {
    condition     = var.auth != "JWT" || (var.front != "REST_API" && var.jwt_issuer != null)
    error_message = "auth JWT needs jwt_issuer, and front HTTP_API or URL: REST APIs have no JWT authorizer (COGNITO works with REST_API)."
  }
}

variable "invoke_mode" {
  description = "INVOKE_MODE"
  type        = string
  default     = "BUFFERED"
  validation {
    condition     = contains(["BUFFERED", "RESPONSE_STREAM"], var.invoke_mode)
    error_message = "invoke_mode must be BUFFERED or RESPONSE_STREAM."
  }
  # a streamed REST API needs the integration's responseTransferMode STREAM, which
  # aws_api_gateway_integration of the AWS provider 5.x cannot set
  validation {
    condition     = !(var.invoke_mode == "RESPONSE_STREAM" && var.front == "REST_API")
    error_message = "a REST API streams only with the integration's responseTransferMode STREAM, which the AWS provider 5.x cannot set; use deploy.sh or the template, or BUFFERED."
  }
}

variable "zip_file" {
  description = "ZIP: the bootstrap zip (build/arm64/bootstrap.zip or build/bootstrap.zip)"
  type        = string
}

variable "reserved_concurrency" {
  description = "RESERVED_CONCURRENCY; null for none"
  type        = number
  default     = null
}

variable "log_retention_days" {
  description = "LOG_RETENTION_DAYS"
  type        = number
  default     = 14
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values."
  }
}

variable "log_format" {
  description = "LOG_FORMAT"
  type        = string
  default     = "JSON"
  validation {
    condition     = contains(["JSON", "Text"], var.log_format)
    error_message = "log_format must be JSON or Text."
  }
}

variable "log_level" {
  description = "LOG_LEVEL (JSON only)"
  type        = string
  default     = "INFO"
  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be TRACE, DEBUG, INFO, WARN, ERROR or FATAL."
  }
}

variable "cors_origins" {
  description = "CORS_ORIGINS: origins (or *) for the URL's CORS and MCP_CORS_ORIGINS"
  type        = list(string)
  default     = []
}

variable "s3_prefixes" {
  description = "S3_PREFIXES: bucket/prefix entries the function may get, put and list (bucket alone: all of it)"
  type        = list(string)
  default     = []
}

variable "alarm_topic" {
  description = "ALARM_TOPIC: SNS topic ARN for the alarms' ALARM and OK actions"
  type        = string
  default     = null
}

variable "tracing" {
  description = "TRACING"
  type        = string
  default     = "PassThrough"
  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing)
    error_message = "tracing must be PassThrough or Active."
  }
}

variable "environment" {
  description = "ENV_*: the function's other environment variables (ssm:/... and secretsmanager:... resolved at start)"
  type        = map(string)
  default     = {}
}

variable "ssm_parameter_arns" {
  description = "The ARNs of the ssm: references (deploy.sh looks them up), and for each secretsmanager:NAME named plainly arn:aws:ssm:REGION:ACCOUNT:parameter/aws/reference/secretsmanager/NAME (the runtime reads such secrets in the same GetParameters)"
  type        = list(string)
  default     = []
}

variable "secret_arns" {
  description = "The ARNs of the secretsmanager: references"
  type        = list(string)
  default     = []
}

variable "stage" {
  description = "STAGE: the REST API's stage"
  type        = string
  default     = "live"
}

variable "throttle_rate" {
  description = "THROTTLE_RATE: requests per second (the API's stage, the usage plan)"
  type        = number
  default     = 50
}

variable "throttle_burst" {
  description = "THROTTLE_BURST"
  type        = number
  default     = 100
}

variable "access_logs" {
  description = "ACCESS_LOGS: the API's access logs to /aws/apigateway/NAME"
  type        = bool
  default     = true
}

variable "jwt_issuer" {
  description = "JWT_ISSUER: the OIDC issuer's https URL (auth JWT)"
  type        = string
  default     = null
}

variable "jwt_audience" {
  description = "JWT_AUDIENCE (auth JWT; the HTTP API's authorizer requires one)"
  type        = string
  default     = null
}

variable "cognito_domain" {
  description = "COGNITO_DOMAIN: the hosted domain prefix; null for NAME-ACCOUNT"
  type        = string
  default     = null
}

variable "cognito_callback_urls" {
  description = "COGNITO_CALLBACK_URLS"
  type        = list(string)
  default     = ["http://localhost:8080/callback"]
}

variable "schedule" {
  description = "SCHEDULE: rate(...) or cron(...); null for none"
  type        = string
  default     = null
}

variable "schedule_input" {
  description = "SCHEDULE_INPUT: the JSON-RPC message the schedule sends"
  type        = string
  default     = "{\"jsonrpc\":\"2.0\",\"id\":\"schedule\",\"method\":\"ping\"}"
}

variable "custom_domain" {
  description = "CUSTOM_DOMAIN: the API's custom domain (front HTTP_API or REST_API); null for none"
  type        = string
  default     = null
  validation {
    condition     = var.custom_domain == null || (var.front != "URL" && var.certificate_arn != null)
    error_message = "custom_domain needs front HTTP_API or REST_API (a function URL takes no custom domain; put CloudFront in front of it) and certificate_arn."
  }
}

variable "certificate_arn" {
  description = "CERTIFICATE_ARN: the custom domain's ACM certificate, in the provider's region"
  type        = string
  default     = null
}

variable "base_path" {
  description = "BASE_PATH: the domain's mapping key / base path (also MCP_BASE_PATH=/base_path); null for none"
  type        = string
  default     = null
}

variable "provisioned_concurrency" {
  description = "PROVISIONED_CONCURRENCY on the alias live; null or 0 for none"
  type        = number
  default     = null
}

variable "vpc_subnets" {
  description = "VPC_SUBNETS: subnet ids, with vpc_security_groups"
  type        = list(string)
  default     = []
}

variable "vpc_security_groups" {
  description = "VPC_SECURITY_GROUPS"
  type        = list(string)
  default     = []
  validation {
    condition     = (length(var.vpc_subnets) > 0) == (length(var.vpc_security_groups) > 0)
    error_message = "vpc_subnets and vpc_security_groups go together: set both or neither."
  }
}

variable "dynamodb_tables" {
  description = "DYNAMODB_TABLES: table names or ARNs the function may read and write (and their indexes)"
  type        = list(string)
  default     = []
}

variable "bedrock_models" {
  description = "BEDROCK_MODELS: model ids, inference profile ids (us.…) or ARNs the function may invoke"
  type        = list(string)
  default     = []
}

variable "extra_policy" {
  description = "EXTRA_POLICY: a JSON array of IAM statements, appended to the role's policy; null for none"
  type        = string
  default     = null
  validation {
    condition     = var.extra_policy == null || can(length(jsondecode(var.extra_policy)))
    error_message = "extra_policy must be a JSON array of IAM statements."
  }
}

variable "tasks_table" {
  description = "TASKS_TABLE: null for none, \"create\" for the table NAME-tasks, or an existing table's name"
  type        = string
  default     = null
}
