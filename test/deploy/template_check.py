#!/usr/bin/env python3
"""Checks deploy/template.yaml against deploy/deploy.sh: structure, references, and that it
declares what the script creates, the same way (resource kinds, function, URL, permissions,
alarms, role policy statements, defaults of the parameters).

    template_check.py deploy/template.yaml CALLS
CALLS: the aws calls of a first deploy (test/deploy/expected/first-deploy.txt, one shell-quoted
argv a line). Prints "ok - ..." / "not ok - ...: why" lines; exits 1 on any failure.
"""
import json
import os
import re
import shlex
import sys

import yaml

import cfn

TEMPLATE, CALLS = sys.argv[1], sys.argv[2]
DEPLOY_SH = os.path.join(os.path.dirname(os.path.abspath(TEMPLATE)), "deploy.sh")
failed = 0


def result(name, good, why=""):
    global failed
    if good:
        print("ok - template: %s" % name)
    else:
        failed += 1
        print("not ok - template: %s: %s" % (name, why))


# --- YAML with CloudFormation's short forms ----------------------------------------------------

try:
    tpl = cfn.load(TEMPLATE)
    result("parses as YAML with CloudFormation tags (!Ref !GetAtt !Sub !If ...)", isinstance(tpl, dict))
except yaml.YAMLError as e:
    result("parses as YAML with CloudFormation tags", False, str(e).replace("\n", " "))
    sys.exit(1)

params = tpl.get("Parameters", {})
conds = tpl.get("Conditions", {})
res = tpl.get("Resources", {})
outs = tpl.get("Outputs", {})
result("has AWSTemplateFormatVersion, Parameters, Conditions, Resources, Outputs",
       tpl.get("AWSTemplateFormatVersion") == "2010-09-09" and params and conds and res and outs)

# --- references resolve ------------------------------------------------------------------------
PSEUDO = {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::StackName", "AWS::StackId", "AWS::NoValue",
          "AWS::URLSuffix", "AWS::NotificationARNs"}
bad = []


def walk(node, where):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Ref":
                if v not in params and v not in res and v not in PSEUDO:
                    bad.append("%s: !Ref %s" % (where, v))
            elif k == "Fn::GetAtt":
                if v[0] not in res:
                    bad.append("%s: !GetAtt %s" % (where, ".".join(v)))
            elif k == "Fn::Sub":
                text, local = (v, {}) if isinstance(v, str) else (v[0], v[1])
                for var in re.findall(r"\$\{([^}!]+)\}", text):
                    base = var.split(".")[0]
                    if var not in local and base not in params and base not in res and var not in PSEUDO:
                        bad.append("%s: ${%s}" % (where, var))
                if not isinstance(v, str):
                    walk(v[1], where)
                continue
            elif k in ("Fn::If",):
                if v[0] not in conds:
                    bad.append("%s: !If %s" % (where, v[0]))
            elif k == "Condition" and isinstance(v, str):
                if v not in conds:
                    bad.append("%s: Condition %s" % (where, v))
            walk(v, where)
    elif isinstance(node, list):
        for x in node:
            walk(x, where)


for section in ("Conditions", "Resources", "Outputs"):
    for name, body in tpl.get(section, {}).items():
        walk(body, "%s.%s" % (section, name))
        if section == "Resources" and "DependsOn" in body:
            for d in body["DependsOn"] if isinstance(body["DependsOn"], list) else [body["DependsOn"]]:
                if d not in res:
                    bad.append("%s: DependsOn %s" % (name, d))
result("every !Ref, !GetAtt, ${...}, !If and Condition names a declared parameter, resource or condition",
       not bad, "; ".join(bad))

# --- what the script did --------------------------------------------------------------------------
calls = []
with open(CALLS) as f:
    for line in f:
        if line.strip():
            calls.append(shlex.split(line))


def opt(argv, name, default=None):
    return argv[argv.index(name) + 1] if name in argv else default


def ops(service, op):
    return [c for c in calls if c[1:3] == [service, op]]


KIND = {("iam", "create-role"): "AWS::IAM::Role", ("logs", "create-log-group"): "AWS::Logs::LogGroup",
        ("lambda", "create-function"): "AWS::Lambda::Function", ("lambda", "publish-version"): "AWS::Lambda::Version",
        ("lambda", "create-alias"): "AWS::Lambda::Alias", ("lambda", "create-function-url-config"): "AWS::Lambda::Url",
        ("lambda", "add-permission"): "AWS::Lambda::Permission", ("cloudwatch", "put-metric-alarm"): "AWS::CloudWatch::Alarm"}


evaluate = lambda values: cfn.created(tpl, values)


first = {"Front": "URL", "AuthType": opt(ops("lambda", "create-function-url-config")[0], "--auth-type"),
         "InvokeMode": opt(ops("lambda", "create-function-url-config")[0], "--invoke-mode"),
         "CorsOrigins": ",".join(json.loads(opt(ops("lambda", "create-function-url-config")[0], "--cors", "{}")).get("AllowOrigins", []))}
script_kinds = sorted(KIND[tuple(c[1:3])] for c in calls if tuple(c[1:3]) in KIND)
template_kinds = sorted(res[n]["Type"] for n in evaluate(first))
result("declares the resource kinds deploy.sh creates, as many of each, for its first deploy's settings (%s)"
       % ", ".join("%s=%s" % kv for kv in first.items()),
       script_kinds == template_kinds, "script %s, template %s" % (script_kinds, template_kinds))

# the rest of what the script sets becomes properties
of_type = lambda t: [(n, r) for n, r in res.items() if r["Type"] == t]
role = of_type("AWS::IAM::Role")[0][1]["Properties"]
fn = of_type("AWS::Lambda::Function")[0][1]["Properties"]
lg = of_type("AWS::Logs::LogGroup")[0][1]["Properties"]
result("put-role-policy, put-retention-policy and put-function-concurrency are properties (inline policy mcp-deploy, "
       "RetentionInDays, ReservedConcurrentExecutions)",
       [p["PolicyName"] for p in role.get("Policies", []) if "PolicyName" in p] == [opt(ops("iam", "put-role-policy")[0], "--policy-name")]
       and lg.get("RetentionInDays") == {"Ref": "LogRetentionDays"} and "ReservedConcurrentExecutions" in fn)

# --- parameters: deploy/settings.tsv names each setting's parameter; same defaults and choices ------
rows = []
with open(os.path.join(os.path.dirname(DEPLOY_SH), "settings.tsv")) as f:
    for line in f:
        if line.strip() and not line.startswith("#"):
            key, default, tparam, _tfvar, values = line.rstrip("\n").split("\t")
            rows.append((key, default, tparam, values))
listed = [(k, d, p, v) for k, d, p, v in rows if p != "-"]
missing = [k for k, _, p, _ in listed if p not in params]
result("a parameter for each setting settings.tsv gives one (%d)" % len(listed), not missing, "missing for %s" % missing)
wrong = ["%s=%s but %s defaults to %s" % (k, d, p, params[p].get("Default")) for k, d, p, _ in listed
         if p in params and d != "-" and str(params[p].get("Default")) != d]
result("parameter defaults equal settings.tsv's", not wrong, "; ".join(wrong))
wrong = ["%s: %s not among %s" % (p, params[p]["AllowedValues"], v) for k, d, p, v in listed
         if p in params and v != "*" and "AllowedValues" in params[p]
         and not set(str(x) for x in params[p]["AllowedValues"]) <= set(v.split("|"))]
result("parameter choices within settings.tsv's", not wrong, "; ".join(wrong))
narrower = ["%s (%s of %s)" % (p, "|".join(str(x) for x in params[p]["AllowedValues"]), v) for k, d, p, v in listed
            if p in params and v != "*" and "AllowedValues" in params[p]
            and set(str(x) for x in params[p]["AllowedValues"]) != set(v.split("|"))]
tfvars = {}
for k, line in ((k, l) for l in open(os.path.join(os.path.dirname(DEPLOY_SH), "settings.tsv"))
                if l.strip() and not l.startswith("#") for k in [l.split("\t")[0]]):
    tfvars[k] = line.rstrip("\n").split("\t")[3]
with open(os.path.join(os.path.dirname(DEPLOY_SH), "terraform", "variables.tf")) as f:
    declared = set(re.findall(r'^variable "([a-z0-9_]+)"', f.read(), re.M))
missing = sorted(k for k, v in tfvars.items() if v != "-" and v not in declared)
result("a Terraform variable for each setting settings.tsv gives one (%d)" % sum(v != "-" for v in tfvars.values()),
       not missing, "missing for %s" % missing)
untaken = [k for k, _, p, _ in rows if p == "-"]
print("# template: settings it does not take: %s" % ", ".join(untaken))
if narrower:
    print("# template: parameters with fewer choices than deploy.sh: %s" % "; ".join(narrower))
result("Front URL|HTTP_API|REST_API, AuthType NONE|AWS_IAM|API_KEY|JWT|COGNITO, InvokeMode BUFFERED|RESPONSE_STREAM, Architecture arm64|x86_64, Timeout up to 900",
       sorted(params["Front"]["AllowedValues"]) == ["HTTP_API", "REST_API", "URL"]
       and sorted(params["AuthType"]["AllowedValues"]) == ["API_KEY", "AWS_IAM", "COGNITO", "JWT", "NONE"]
       and sorted(params["InvokeMode"]["AllowedValues"]) == ["BUFFERED", "RESPONSE_STREAM"]
       and sorted(params["Architecture"]["AllowedValues"]) == ["arm64", "x86_64"]
       and params["Timeout"]["MaxValue"] == 900 and params["MemorySize"]["MaxValue"] == 10240)

# --- the function -------------------------------------------------------------------------------
cf = ops("lambda", "create-function")[0]
env = fn.get("Environment", {}).get("Variables", {})
result("function like deploy.sh's: runtime %s, handler %s, architecture, memory, timeout, role, logging config, tags"
       % (opt(cf, "--runtime"), opt(cf, "--handler")),
       fn["Runtime"] == opt(cf, "--runtime") and fn["Handler"] == opt(cf, "--handler")
       and fn["Architectures"] == [{"Ref": "Architecture"}] and fn["MemorySize"] == {"Ref": "MemorySize"}
       and fn["Timeout"] == {"Ref": "Timeout"} and fn["Role"] == {"Fn::GetAtt": ["Role", "Arn"]}
       and fn["LoggingConfig"]["LogFormat"] == {"Ref": "LogFormat"}
       and {"Key": "mcp-deploy", "Value": {"Ref": "FunctionName"}} in fn.get("Tags", []))
result("environment: MCP_LAMBDA_STREAMING=1 when RESPONSE_STREAM, MCP_CORS_ORIGINS from CorsOrigins",
       env.get("MCP_LAMBDA_STREAMING") == {"Fn::If": ["IsStreaming", "1", {"Ref": "AWS::NoValue"}]}
       and conds.get("IsStreaming") == {"Fn::Equals": [{"Ref": "InvokeMode"}, "RESPONSE_STREAM"]}
       and env.get("MCP_CORS_ORIGINS", {}).get("Fn::If", [None])[0] == "HasCors")
result("log group /aws/lambda/${FunctionName}, like the script's",
       lg.get("LogGroupName") == {"Fn::Sub": "/aws/lambda/${FunctionName}"}
       and opt(ops("logs", "create-log-group")[0], "--log-group-name") == "/aws/lambda/" + opt(cf, "--function-name"))
role_name = opt(ops("iam", "create-role")[0], "--role-name")
result("role named ${FunctionName}-role, trust lambda.amazonaws.com, like the script's",
       role.get("RoleName") == {"Fn::Sub": "${FunctionName}-role"} and role_name == opt(cf, "--function-name") + "-role"
       and role["AssumeRolePolicyDocument"] == json.loads(opt(ops("iam", "create-role")[0], "--assume-role-policy-document")))

# --- version, alias, URL, permissions ------------------------------------------------------------
ver = of_type("AWS::Lambda::Version")[0]
alias_name, alias = of_type("AWS::Lambda::Alias")[0]
url = of_type("AWS::Lambda::Url")[0][1]["Properties"]
ca = ops("lambda", "create-alias")[0]
result("alias %s on the published version; the URL on the alias" % opt(ca, "--name"),
       alias["Properties"]["Name"] == opt(ca, "--name")
       and alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [ver[0], "Version"]}
       and url["TargetFunctionArn"] == {"Ref": alias_name} and url["AuthType"] == {"Fn::If": ["IsIam", "AWS_IAM", "NONE"]}
       and url["InvokeMode"] == {"Ref": "InvokeMode"})
cu = ops("lambda", "create-function-url-config")[0]
script_cors = json.loads(opt(cu, "--cors", "{}"))
tcors = url.get("Cors", {}).get("Fn::If", [None, {}])[1]
result("URL CORS like the script's (methods, headers, exposed headers, max age)",
       all(tcors.get(k) == script_cors.get(k) for k in ("AllowMethods", "AllowHeaders", "ExposeHeaders", "MaxAge"))
       and bool(script_cors), "template %s, script %s" % (tcors, script_cors))
made = evaluate(first)
perms = [r for n, r in of_type("AWS::Lambda::Permission") if n in made]
script_perms = sorted((opt(c, "--action"), opt(c, "--principal"), opt(c, "--function-url-auth-type"),
                       "--invoked-via-function-url" in c) for c in ops("lambda", "add-permission"))
tpl_perms = sorted((p["Properties"]["Action"], p["Properties"]["Principal"], p["Properties"].get("FunctionUrlAuthType"),
                    p["Properties"].get("InvokedViaFunctionUrl", False)) for p in perms)
url_perms = lambda v: sorted(n for n in evaluate(v) if res[n]["Type"] == "AWS::Lambda::Permission")
public = {a: url_perms({"Front": "URL", "AuthType": a}) for a in ("NONE", "AWS_IAM", "JWT", "COGNITO")}
result("URL permissions on the alias, the same two statements as the script's; none for AWS_IAM, both for NONE, JWT, COGNITO",
       script_perms == tpl_perms and all(p.get("Condition") == "IsPublic" for p in perms)
       and all(p["Properties"]["FunctionName"] == {"Ref": alias_name} for p in perms)
       and public["AWS_IAM"] == [] and public["NONE"] == public["JWT"] == public["COGNITO"] == ["UrlInvokePermission", "UrlPublicPermission"]
       and all(opt(c, "--qualifier") == opt(ca, "--name") for c in ops("lambda", "add-permission")),
       "template %s, script %s; by AuthType %s" % (tpl_perms, script_perms, public))

# --- alarms ---------------------------------------------------------------------------------
alarms = {r["Properties"]["MetricName"]: r["Properties"] for _, r in of_type("AWS::CloudWatch::Alarm")}
diffs = []
for c in ops("cloudwatch", "put-metric-alarm"):
    metric = opt(c, "--metric-name")
    t = alarms.get(metric)
    if not t:
        diffs.append("no %s alarm" % metric)
        continue
    want = {"Namespace": opt(c, "--namespace"), "Period": int(opt(c, "--period")),
            "EvaluationPeriods": int(opt(c, "--evaluation-periods")), "ComparisonOperator": opt(c, "--comparison-operator"),
            "TreatMissingData": opt(c, "--treat-missing-data")}
    if "--statistic" in c:
        want["Statistic"] = opt(c, "--statistic")
    else:
        want["ExtendedStatistic"] = opt(c, "--extended-statistic")
    for k, v in want.items():
        if t.get(k) != v:
            diffs.append("%s %s: template %s, script %s" % (metric, k, t.get(k), v))
    name_suffix = opt(c, "--alarm-name")[len(opt(cf, "--function-name")):]
    if t["AlarmName"] != {"Fn::Sub": "${FunctionName}" + name_suffix}:
        diffs.append("%s name %s" % (metric, t["AlarmName"]))
    if metric != "Duration" and t["Threshold"] != float(opt(c, "--threshold")):
        diffs.append("%s threshold" % metric)
result("alarms like the script's: %s" % ", ".join(sorted(alarms)), not diffs and len(alarms) == 3, "; ".join(diffs))

# --- the role's policy ---------------------------------------------------------------------------
def unwrap_statements(stmts):
    out = []
    for s in stmts:
        if "Fn::If" in s:
            s = s["Fn::If"][1]
        out.append(s)
    return out


doc = json.loads(opt(ops("iam", "put-role-policy")[0], "--policy-document"))
tstmts = {s["Sid"]: s for s in unwrap_statements(role["Policies"][0]["PolicyDocument"]["Statement"])}
as_set = lambda a: sorted(a) if isinstance(a, list) else [a]
problems = []
for s in doc["Statement"]:
    t = tstmts.get(s["Sid"])
    if not t:
        problems.append("no statement %s" % s["Sid"])
    elif as_set(t["Action"]) != as_set(s["Action"]):
        problems.append("%s actions: template %s, script %s" % (s["Sid"], t["Action"], s["Action"]))
    elif ("Condition" in s) and ("Condition" not in t):
        problems.append("%s has no condition" % s["Sid"])
OTHER_SIDS = {"S3Objects3", "S3List3", "XRay", "VpcNetworkInterfaces", "DynamoDbTables", "BedrockModels", "TasksTable",
              "TasksSelfInvoke"}  # statements of settings the first deploy does not use (checked below)
extra = sorted(set(tstmts) - {s["Sid"] for s in doc["Statement"]} - OTHER_SIDS)
result("role policy statements like the script's: %s" % ", ".join(s["Sid"] for s in doc["Statement"]),
       not problems and not extra, "; ".join(problems + ["extra %s" % e for e in extra]))
result("no wildcard actions or resources but kms keys (scoped by kms:ViaService), X-Ray's and the VPC's ENIs (which take no ARN)",
       not [s for s in tstmts.values() if "*" in str(s["Action"])
            or (s.get("Resource") == "*" and s["Sid"] not in ("XRay", "VpcNetworkInterfaces"))]
       and "kms:ViaService" in json.dumps(tstmts["KmsDecryptViaService"]["Condition"]))

# --- outputs -------------------------------------------------------------------------------
want = {"McpEndpoint": "mcp", "RpcEndpoint": "rpc", "HealthEndpoint": "health", "MetricsEndpoint": "metrics",
        "ToolsEndpoint": "tools/{name}"}
base = {"Fn::If": ["IsUrl", {"Fn::GetAtt": ["Url", "FunctionUrl"]},
                  {"Fn::If": ["IsHttpApi", {"Fn::Sub": "${HttpApi.ApiEndpoint}/"},
                              {"Fn::Sub": "https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${StageName}/"}]}]}
wrong = [k for k, p in want.items() if outs.get(k, {}).get("Value") != {"Fn::Sub": ["${Base}" + p, {"Base": base}]}]
result("outputs: the endpoints /mcp /rpc /health /metrics /tools/{name} under the function URL, the HTTP API's "
       "endpoint, or the REST API's stage", not wrong, "wrong: %s" % wrong)

# --- the settings of issue 16: the same actions, names and shapes as deploy/lib/extras.sh -----------
with open(os.path.join(os.path.dirname(DEPLOY_SH), "lib", "extras.sh")) as f:
    extras = f.read()
shell = lambda name: re.search(r"^%s='?([^'\n]*)'?$" % name, extras, re.M).group(1)
wrong = ["%s: template %s, deploy.sh %s" % (sid, tstmts[sid]["Action"], json.loads(shell(var)))
         for sid, var in (("VpcNetworkInterfaces", "VPC_ACTIONS"), ("DynamoDbTables", "DYNAMODB_ACTIONS"),
                          ("TasksTable", "TASKS_ACTIONS"), ("BedrockModels", "BEDROCK_ACTIONS"))
         if as_set(tstmts[sid]["Action"]) != sorted(json.loads(shell(var)))]
sids = [s["Sid"] for s in unwrap_statements(role["Policies"][0]["PolicyDocument"]["Statement"])]
order = ["VpcNetworkInterfaces", "DynamoDbTables", "BedrockModels", "TasksTable", "TasksSelfInvoke"]
result("VPC, DynamoDB, Bedrock and tasks statements: deploy.sh's actions, in its order, after the S3 ones",
       not wrong and sids[-len(order):] == order and tstmts["TasksSelfInvoke"]["Action"] == "lambda:InvokeFunction",
       "; ".join(wrong) + " order %s" % sids)
extra_policy = [p for p in role["Policies"] if "Fn::If" in p]
result("EXTRA_POLICY: the inline policy mcp-deploy-extra only when ExtraPolicy is set",
       len(extra_policy) == 1 and extra_policy[0]["Fn::If"][0] == "HasExtraPolicy"
       and extra_policy[0]["Fn::If"][1]["PolicyName"] == "mcp-deploy-extra")


def made_by(**values):
    return sorted(res[n]["Type"] for n in evaluate(values) if n not in evaluate({}))


result("custom domain: HTTP API -> v2 domain name and API mapping; REST API -> domain name and base path mapping; none on a URL",
       made_by(Front="HTTP_API", CustomDomain="mcp.example.com") == sorted(
           made_by(Front="HTTP_API") + ["AWS::ApiGatewayV2::DomainName", "AWS::ApiGatewayV2::ApiMapping"])
       and made_by(Front="REST_API", CustomDomain="mcp.example.com") == sorted(
           made_by(Front="REST_API") + ["AWS::ApiGateway::DomainName", "AWS::ApiGateway::BasePathMapping"])
       and made_by(CustomDomain="mcp.example.com") == []
       and tpl["Rules"]["DomainNeedsApi"]["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "Front"}, "URL"]}]})
dom = res["RestDomainName"]["Properties"]
v2 = res["HttpDomainName"]["Properties"]["DomainNameConfigurations"][0]
with open(os.path.join(os.path.dirname(DEPLOY_SH), "lib", "front.sh")) as f:
    front = f.read()
result("custom domain: REGIONAL, TLS_1_2, the certificate, BasePath as the mapping key, as deploy.sh makes it",
       dom["EndpointConfiguration"] == {"Types": ["REGIONAL"]} and dom["SecurityPolicy"] == "TLS_1_2"
       and v2 == {"CertificateArn": {"Ref": "CertificateArn"}, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}
       and "CertificateArn=$CERTIFICATE_ARN,EndpointType=REGIONAL,SecurityPolicy=TLS_1_2" in front
       and "--endpoint-configuration types=REGIONAL --security-policy TLS_1_2" in front
       and res["HttpApiMapping"]["Properties"]["ApiMappingKey"] == {"Fn::If": ["HasBasePath", {"Ref": "BasePath"}, {"Ref": "AWS::NoValue"}]}
       and res["RestBasePathMapping"]["Properties"]["BasePath"] == {"Fn::If": ["HasBasePath", {"Ref": "BasePath"}, {"Ref": "AWS::NoValue"}]})
result("environment: MCP_BASE_PATH=/BasePath, MCP_TASKS_TABLE the tasks table",
       env.get("MCP_BASE_PATH") == {"Fn::If": ["HasBasePath", {"Fn::Sub": "/${BasePath}"}, {"Ref": "AWS::NoValue"}]}
       and env.get("MCP_TASKS_TABLE", {}).get("Fn::If", [None])[0] == "HasTasks")
result("provisioned concurrency on the alias live, none when empty or 0; VPC subnets and security groups on the function",
       alias["Properties"].get("ProvisionedConcurrencyConfig") == {"Fn::If": ["HasProvisioned", {"ProvisionedConcurrentExecutions": {"Ref": "ProvisionedConcurrency"}}, {"Ref": "AWS::NoValue"}]}
       and fn.get("VpcConfig", {}).get("Fn::If", [None])[0] == "HasVpc"
       and made_by(ProvisionedConcurrency="0") == [] and "VpcBothOrNeither" in tpl["Rules"])
table = res["TasksDynamoTable"]
tp = table["Properties"]
result("tasks table (create): FunctionName-tasks, on demand, key %s, index %s (owner, createdAt, ALL), TTL on %s, deleted with the stack"
       % (shell("TASKS_HASH_KEY"), shell("TASKS_INDEX"), shell("TASKS_TTL")),
       table.get("Condition") == "CreateTasks" and table.get("DeletionPolicy") == "Delete"
       and tp["TableName"] == {"Fn::Sub": "${FunctionName}-tasks"} and tp["BillingMode"] == "PAY_PER_REQUEST"
       and tp["KeySchema"] == [{"AttributeName": shell("TASKS_HASH_KEY"), "KeyType": "HASH"}]
       and tp["GlobalSecondaryIndexes"] == [{"IndexName": shell("TASKS_INDEX"), "KeySchema": [
           {"AttributeName": "owner", "KeyType": "HASH"}, {"AttributeName": "createdAt", "KeyType": "RANGE"}],
           "Projection": {"ProjectionType": "ALL"}}]
       and tp["TimeToLiveSpecification"] == {"AttributeName": shell("TASKS_TTL"), "Enabled": True}
       and made_by(TasksTable="create") == ["AWS::DynamoDB::Table"] and made_by(TasksTable="existing-table") == [])

# --- COGNITO: the provisioned client stands in for dynamic registration ----------------------------
no = {"Ref": "AWS::NoValue"}
oauth = "https://${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com/oauth2/"
route = res["HttpRegisterRoute"]
method = res["RestRegisterMethod"]
result("COGNITO: MCP_OAUTH_CLIENT_ID the app client, MCP_OAUTH_AUTHORIZATION_ENDPOINT and MCP_OAUTH_TOKEN_ENDPOINT "
       "of the hosted domain, MCP_OAUTH_REDIRECT_URIS the callback URLs, as deploy.sh sets them",
       env.get("MCP_OAUTH_CLIENT_ID") == {"Fn::If": ["IsCognito", {"Ref": "AppClient"}, no]}
       and env.get("MCP_OAUTH_AUTHORIZATION_ENDPOINT") == {"Fn::If": ["IsCognito", {"Fn::Sub": oauth + "authorize"}, no]}
       and env.get("MCP_OAUTH_TOKEN_ENDPOINT") == {"Fn::If": ["IsCognito", {"Fn::Sub": oauth + "token"}, no]}
       and env.get("MCP_OAUTH_REDIRECT_URIS") == {"Fn::If": ["IsCognito", {"Fn::Join": [",", {"Ref": "CognitoCallbackUrls"}]}, no]}
       and "https://$POOL_DOMAIN.auth.$REGION.amazoncognito.com/oauth2/authorize" in front
       and "https://$POOL_DOMAIN.auth.$REGION.amazoncognito.com/oauth2/token" in front
       and "FENV[MCP_OAUTH_CLIENT_ID]=$CLIENT_ID" in front and "FENV[MCP_OAUTH_REDIRECT_URIS]=$REDIRECT_URIS" in front)
client = res["AppClient"]["Properties"]
result("COGNITO: POST /register public (HTTP route, REST resource and method), the app client public with code + PKCE and the callback URLs",
       route["Condition"] == "HttpCognito" and route["Properties"]["RouteKey"] == "POST /register"
       and route["Properties"]["AuthorizationType"] == "NONE" and "AuthorizerId" not in route["Properties"]
       and method["Condition"] == "RestCognito" and method["Properties"]["HttpMethod"] == "POST"
       and method["Properties"]["AuthorizationType"] == "NONE"
       and res["RestRegisterResource"]["Properties"]["PathPart"] == "register"
       and '"POST /register"$\'\\t\'NONE' in front and '"/register POST NONE false"' in front
       and client["GenerateSecret"] is False and client["AllowedOAuthFlows"] == ["code"]
       and client["CallbackURLs"] == {"Ref": "CognitoCallbackUrls"}
       and "HttpRegisterRoute" in evaluate({"Front": "HTTP_API", "AuthType": "COGNITO"})
       and "HttpRegisterRoute" not in evaluate({"Front": "HTTP_API", "AuthType": "JWT", "JwtIssuer": "https://issuer.example.com"})
       and "RestRegisterMethod" in evaluate({"Front": "REST_API", "AuthType": "COGNITO"}))

sys.exit(1 if failed else 0)
