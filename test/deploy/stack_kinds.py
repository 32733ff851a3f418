#!/usr/bin/env python3
"""The resource kinds of one FRONT x AUTH variant, as CloudFormation names them, in the template
(its conditions evaluated) and in a Terraform plan (terraform show -json), compared.

    stack_kinds.py deploy/template.yaml PLAN.json [--module NAME] Front=REST_API AuthType=COGNITO ...
--module NAME: only the resources of the module instance module.NAME (a plan of several variants).
Prints one "ok - ..." or "not ok - ...: why" line; exits 1 when they differ.
"""
import collections
import json
import sys

import cfn

# Terraform's resource types as CloudFormation's kinds; None where CloudFormation makes it a
# property of another resource (the role's inline policy, a method's integration, ...).
KIND = {
    "aws_iam_role": ["AWS::IAM::Role"], "aws_iam_role_policy": None, "aws_cloudwatch_log_group": ["AWS::Logs::LogGroup"],
    "aws_lambda_function": ["AWS::Lambda::Function", "AWS::Lambda::Version"],  # publish = true: a version too
    "aws_lambda_alias": ["AWS::Lambda::Alias"], "aws_lambda_function_url": ["AWS::Lambda::Url"],
    "aws_lambda_permission": ["AWS::Lambda::Permission"], "aws_cloudwatch_metric_alarm": ["AWS::CloudWatch::Alarm"],
    "aws_cognito_user_pool": ["AWS::Cognito::UserPool"], "aws_cognito_resource_server": ["AWS::Cognito::UserPoolResourceServer"],
    "aws_cognito_user_pool_client": ["AWS::Cognito::UserPoolClient"], "aws_cognito_user_pool_domain": ["AWS::Cognito::UserPoolDomain"],
    "aws_apigatewayv2_api": ["AWS::ApiGatewayV2::Api"], "aws_apigatewayv2_integration": ["AWS::ApiGatewayV2::Integration"],
    "aws_apigatewayv2_authorizer": ["AWS::ApiGatewayV2::Authorizer"], "aws_apigatewayv2_route": ["AWS::ApiGatewayV2::Route"],
    "aws_apigatewayv2_stage": ["AWS::ApiGatewayV2::Stage"], "aws_api_gateway_rest_api": ["AWS::ApiGateway::RestApi"],
    "aws_api_gateway_resource": ["AWS::ApiGateway::Resource"], "aws_api_gateway_authorizer": ["AWS::ApiGateway::Authorizer"],
    "aws_api_gateway_method": ["AWS::ApiGateway::Method"], "aws_api_gateway_integration": None,
    "aws_api_gateway_deployment": ["AWS::ApiGateway::Deployment"], "aws_api_gateway_stage": ["AWS::ApiGateway::Stage"],
    "aws_api_gateway_method_settings": None, "aws_api_gateway_usage_plan": ["AWS::ApiGateway::UsagePlan"],
    "aws_api_gateway_api_key": ["AWS::ApiGateway::ApiKey"], "aws_api_gateway_usage_plan_key": ["AWS::ApiGateway::UsagePlanKey"],
    "aws_cloudwatch_event_rule": ["AWS::Events::Rule"], "aws_cloudwatch_event_target": None,
    "aws_lambda_provisioned_concurrency_config": None,  # the alias's ProvisionedConcurrencyConfig
    "aws_dynamodb_table": ["AWS::DynamoDB::Table"],
    "aws_apigatewayv2_domain_name": ["AWS::ApiGatewayV2::DomainName"], "aws_apigatewayv2_api_mapping": ["AWS::ApiGatewayV2::ApiMapping"],
    "aws_api_gateway_domain_name": ["AWS::ApiGateway::DomainName"], "aws_api_gateway_base_path_mapping": ["AWS::ApiGateway::BasePathMapping"],
}


def plan_kinds(plan, module=None):
    out, unknown = collections.Counter(), []
    for rc in plan.get("resource_changes", []):
        if rc.get("mode") != "managed" or rc["change"]["actions"] == ["delete"]:
            continue
        if module and not (rc.get("module_address", "") + ".").startswith("module.%s." % module):
            continue
        if rc["type"] not in KIND:
            unknown.append(rc["type"])
        for k in KIND.get(rc["type"]) or []:
            out[k] += 1
    return out, unknown


def main():
    tpl = cfn.load(sys.argv[1])
    with open(sys.argv[2]) as f:
        plan = json.load(f)
    args, module = sys.argv[3:], None
    if args[:1] == ["--module"]:
        module, args = args[1], args[2:]
    values = dict(a.split("=", 1) for a in args)
    want = collections.Counter(tpl["Resources"][n]["Type"] for n in cfn.created(tpl, values))
    got, unknown = plan_kinds(plan, module)
    name = "terraform plan and template.yaml: the same resource kinds, as many of each, for %s" % " ".join(args)
    if got == want and not unknown:
        print("ok - %s (%d)" % (name, sum(want.values())))
        return 0
    diff = ["%s: template %d, terraform %d" % (k, want[k], got[k]) for k in sorted(set(want) | set(got)) if want[k] != got[k]]
    print("not ok - %s: %s" % (name, "; ".join(diff + ["unmapped terraform type %s" % u for u in unknown])))
    return 1


sys.exit(main())
