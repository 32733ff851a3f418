# deploy/lib/front.sh: the front doors besides the function URL (API Gateway HTTP API and REST
# API), the Cognito user pool of AUTH=COGNITO, and the EventBridge schedule. Sourced by
# deploy/deploy.sh, whose helpers (awsm, awsr, say, die, ...) and settings it uses. One
# function per resource; each reads what exists and changes only what differs.

# shellcheck disable=SC2016  # $default, $request..., $context... are API Gateway's, not the shell's

SID_API=mcp-deploy-api
SID_SCHEDULE=mcp-deploy-schedule
ACCESS_LOG_FORMAT='{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","path":"$context.path","status":"$context.status","responseLength":"$context.responseLength","integrationError":"$context.integrationErrorMessage"}'

# Regions without HTTP APIs and without Cognito user pools (cfn-lint's region data).
HTTP_API_REGIONS_WITHOUT=(ap-east-2 ap-southeast-6)
COGNITO_REGIONS_WITHOUT=(cn-north-1 cn-northwest-1)

first_line() { head -n 1 <<<"$1"; }
some() { [ -n "$1" ] && [ "$1" != None ]; } # some VALUE: the CLI's text output names something

# --- pre-flight: what exists by name, and that it is deploy.sh's own ---------------------------------

inspect_front() {
    API_ID="" API_ENDPOINT="" POOL_ID="" ENDPOINT=""
    local id ep tag
    case $FRONT in
    HTTP_API)
        awsm apigatewayv2 get-apis --query "Items[?Name=='$NAME'].[ApiId, ApiEndpoint, Tags.\"$TAG_KEY\"]" --output text
        if [ -n "$AWS_OUT" ]; then
            IFS=$'\t' read -r id ep tag <<<"$(first_line "$AWS_OUT")"
            [ "$tag" = "$NAME" ] ||
                die 3 "pre-flight: an HTTP API named $NAME exists but deploy.sh did not create it (no $TAG_KEY=$NAME tag); nothing was changed"
            API_ID=$id API_ENDPOINT=$ep
        fi ;;
    REST_API)
        awsm apigateway get-rest-apis --query "items[?name=='$NAME'].[id, tags.\"$TAG_KEY\"]" --output text
        if [ -n "$AWS_OUT" ]; then
            IFS=$'\t' read -r id tag <<<"$(first_line "$AWS_OUT")"
            [ "$tag" = "$NAME" ] ||
                die 3 "pre-flight: a REST API named $NAME exists but deploy.sh did not create it (no $TAG_KEY=$NAME tag); nothing was changed"
            API_ID=$id
        fi ;;
    esac
    inspect_domain
    if [ "$AUTH" = COGNITO ]; then
        find_user_pool
        if [ -n "$POOL_ID" ]; then
            awsm cognito-idp describe-user-pool --user-pool-id "$POOL_ID" --query "UserPool.UserPoolTags.\"$TAG_KEY\"" --output text
            [ "$AWS_OUT" = "$NAME" ] ||
                die 3 "pre-flight: user pool $POOL_NAME exists but deploy.sh did not create it (no $TAG_KEY=$NAME tag); nothing was changed"
        fi
    fi
}

find_user_pool() {
    awsm cognito-idp list-user-pools --max-results 60 --query "UserPools[?Name=='$POOL_NAME'].Id" --output text
    POOL_ID=$(first_line "$AWS_OUT")
}

# --- Cognito: user pool, resource server and scope, app client, domain ---------------------------------

ensure_user_pool() {
    if [ -n "$POOL_ID" ]; then
        say "user pool $POOL_NAME: up to date"
    else
        awsm cognito-idp create-user-pool --pool-name "$POOL_NAME" --user-pool-tags "$TAG_KEY=$NAME" \
            --query UserPool.Id --output text
        POOL_ID=$AWS_OUT
        say "user pool $POOL_NAME: created ($POOL_ID)"
    fi
    ISSUER=https://cognito-idp.$REGION.amazonaws.com/$POOL_ID
    POOL_ARN=arn:$PARTITION:cognito-idp:$REGION:$ACCOUNT:userpool/$POOL_ID
}

# The resource server NAME with the scope "tools": access tokens carry NAME/tools.
ensure_resource_server() {
    if awsr cognito-idp describe-resource-server --user-pool-id "$POOL_ID" --identifier "$NAME" \
        --query 'ResourceServer.Scopes[].ScopeName' --output text; then
        [ "$AWS_OUT" = tools ] && { say "resource server $NAME: up to date"; return; }
        awsm cognito-idp update-resource-server --user-pool-id "$POOL_ID" --identifier "$NAME" --name "$NAME" \
            --scopes '[{"ScopeName":"tools","ScopeDescription":"Call the tools of the MCP server"}]' --query ResourceServer.Identifier --output text
        say "resource server $NAME: scope tools written"
        return
    fi
    not_found || die 1 "aws cognito-idp describe-resource-server failed: $(aws_msg)"
    awsm cognito-idp create-resource-server --user-pool-id "$POOL_ID" --identifier "$NAME" --name "$NAME" \
        --scopes '[{"ScopeName":"tools","ScopeDescription":"Call the tools of the MCP server"}]' --query ResourceServer.Identifier --output text
    say "resource server $NAME: created (scope $NAME/tools)"
}

# A public app client (no secret): authorization code with PKCE, as MCP clients sign in.
ensure_app_client() {
    local -a callbacks=() args
    mapfile -t callbacks < <(split_csv "$COGNITO_CALLBACK_URLS")
    [ ${#callbacks[@]} -gt 0 ] || die 2 "COGNITO_CALLBACK_URLS: at least one URL"
    REDIRECT_URIS=$(IFS=,; printf '%s' "${callbacks[*]}")
    # the URLs as a JSON list: the CLI v1 would fetch an http:// value given as it is
    args=(--allowed-o-auth-flows code --allowed-o-auth-scopes openid "$NAME/tools" --allowed-o-auth-flows-user-pool-client
          --callback-urls "$(json_list "${callbacks[@]}")" --supported-identity-providers COGNITO)
    awsm cognito-idp list-user-pool-clients --user-pool-id "$POOL_ID" --max-results 60 \
        --query "UserPoolClients[?ClientName=='$CLIENT_NAME'].ClientId" --output text
    CLIENT_ID=$(first_line "$AWS_OUT")
    if [ -n "$CLIENT_ID" ]; then
        awsm cognito-idp describe-user-pool-client --user-pool-id "$POOL_ID" --client-id "$CLIENT_ID" \
            --query "UserPoolClient.[join(',', CallbackURLs || \`[]\`), join(',', AllowedOAuthScopes || \`[]\`)]" --output text
        if [ "$AWS_OUT" = "$REDIRECT_URIS"$'\t'"openid,$NAME/tools" ]; then
            say "app client $CLIENT_NAME: up to date"
            return
        fi
        awsm cognito-idp update-user-pool-client --user-pool-id "$POOL_ID" --client-id "$CLIENT_ID" --client-name "$CLIENT_NAME" \
            "${args[@]}" --query UserPoolClient.ClientId --output text
        say "app client $CLIENT_NAME: updated"
    else
        awsm cognito-idp create-user-pool-client --user-pool-id "$POOL_ID" --client-name "$CLIENT_NAME" "${args[@]}" \
            --query UserPoolClient.ClientId --output text
        CLIENT_ID=$AWS_OUT
        say "app client $CLIENT_NAME: created ($CLIENT_ID)"
    fi
}

# The hosted sign-in domain, COGNITO_DOMAIN (default NAME-ACCOUNT, lowercase).
ensure_user_pool_domain() {
    awsm cognito-idp describe-user-pool --user-pool-id "$POOL_ID" --query UserPool.Domain --output text
    if some "$AWS_OUT"; then
        POOL_DOMAIN=$AWS_OUT
        [ -z "$COGNITO_DOMAIN" ] || [ "$COGNITO_DOMAIN" = "$POOL_DOMAIN" ] ||
            say "note: the user pool keeps its domain $POOL_DOMAIN; COGNITO_DOMAIN=$COGNITO_DOMAIN takes a destroy and deploy"
        say "user pool domain $POOL_DOMAIN: up to date"
        return
    fi
    POOL_DOMAIN=${COGNITO_DOMAIN:-$(printf '%s-%s' "${NAME,,}" "$ACCOUNT" | tr '_' '-')}
    awsm cognito-idp create-user-pool-domain --domain "$POOL_DOMAIN" --user-pool-id "$POOL_ID"
    say "user pool domain $POOL_DOMAIN: created"
}

ensure_cognito() {
    [ "$AUTH" = COGNITO ] || return 0
    ensure_user_pool
    ensure_resource_server
    ensure_app_client
    ensure_user_pool_domain
}

# The function's environment for AUTH=COGNITO and the REST API's resource URL, known only now.
front_env() {
    if [ "$AUTH" = COGNITO ]; then
        FENV[MCP_JWT_ISSUER]=$ISSUER
        FENV[MCP_OAUTH_AUTHORIZATION_SERVERS]=$ISSUER
        # the server's own RFC 8414 metadata names the hosted domain's endpoints and hands the
        # public app client to clients that register (POST /register)
        FENV[MCP_OAUTH_CLIENT_ID]=$CLIENT_ID
        FENV[MCP_OAUTH_AUTHORIZATION_ENDPOINT]=https://$POOL_DOMAIN.auth.$REGION.amazoncognito.com/oauth2/authorize
        FENV[MCP_OAUTH_TOKEN_ENDPOINT]=https://$POOL_DOMAIN.auth.$REGION.amazoncognito.com/oauth2/token
        FENV[MCP_OAUTH_REDIRECT_URIS]=$REDIRECT_URIS
    fi
    [ -z "${FENV[MCP_OAUTH_RESOURCE]+x}" ] || FENV[MCP_OAUTH_RESOURCE]=${ENDPOINT}mcp
}

# --- the API's own log group (access logs) -----------------------------------------------------------

ensure_api_log_group() {
    API_LOG_ARN=arn:$PARTITION:logs:$REGION:$ACCOUNT:log-group:$API_LOG_GROUP
    [ "$ACCESS_LOGS" = true ] || return 0
    awsm logs describe-log-groups --log-group-name-prefix "$API_LOG_GROUP" \
        --query "logGroups[?logGroupName=='$API_LOG_GROUP'].retentionInDays" --output text
    if [ -z "$AWS_OUT" ]; then
        awsm logs create-log-group --log-group-name "$API_LOG_GROUP" --tags "$TAG_KEY=$NAME"
        say "log group $API_LOG_GROUP: created"
    elif [ "$AWS_OUT" = "$LOG_RETENTION_DAYS" ]; then
        say "log group $API_LOG_GROUP: up to date"
        return
    fi
    awsm logs put-retention-policy --log-group-name "$API_LOG_GROUP" --retention-in-days "$LOG_RETENTION_DAYS"
}

# --- HTTP API: API, integration, JWT authorizer, routes, $default stage ---------------------------------

ensure_http_api() {
    if [ -z "$API_ID" ]; then
        local -a cors=()
        [ -z "$CORS_ORIGINS" ] || cors=(--cors-configuration "$(cors_json)")
        awsm apigatewayv2 create-api --name "$NAME" --protocol-type HTTP --tags "$TAG_KEY=$NAME" "${cors[@]}" \
            --description "MCP server $NAME (mcp.c), deployed by deploy.sh" --query '[ApiId, ApiEndpoint]' --output text
        IFS=$'\t' read -r API_ID API_ENDPOINT <<<"$AWS_OUT"
        say "HTTP API $NAME: created ($API_ID)"
    else
        awsm apigatewayv2 get-api --api-id "$API_ID" --query "join(',', CorsConfiguration.AllowOrigins || \`[]\`)" --output text
        if [ "$AWS_OUT" = "$CORS_ORIGINS" ]; then
            say "HTTP API $NAME: up to date"
        elif [ -n "$CORS_ORIGINS" ]; then
            awsm apigatewayv2 update-api --api-id "$API_ID" --cors-configuration "$(cors_json)" --query ApiId --output text
            say "HTTP API $NAME: CORS updated"
        else
            awsm apigatewayv2 delete-cors-configuration --api-id "$API_ID"
            say "HTTP API $NAME: CORS removed"
        fi
    fi
    ENDPOINT=$(with_slash "$API_ENDPOINT")
}

ensure_http_integration() {
    awsm apigatewayv2 get-integrations --api-id "$API_ID" \
        --query "Items[?IntegrationUri=='$ALIAS_ARN'].IntegrationId | [0]" --output text
    if some "$AWS_OUT"; then
        INTEGRATION_ID=$AWS_OUT
        say "integration: up to date"
        return
    fi
    local ms=$((TIMEOUT * 1000))
    [ "$ms" -le 30000 ] || ms=30000 # an HTTP API waits 30 s at most
    awsm apigatewayv2 create-integration --api-id "$API_ID" --integration-type AWS_PROXY --integration-uri "$ALIAS_ARN" \
        --integration-method POST --payload-format-version 2.0 --timeout-in-millis "$ms" --query IntegrationId --output text
    INTEGRATION_ID=$AWS_OUT
    say "integration: created (payload 2.0, $NAME:$ALIAS)"
}

jwt_issuer() { if [ "$AUTH" = COGNITO ]; then printf '%s' "$ISSUER"; else printf '%s' "$JWT_ISSUER"; fi; }
jwt_audience() { if [ "$AUTH" = COGNITO ]; then printf '%s' "$CLIENT_ID"; else printf '%s' "$JWT_AUDIENCE"; fi; }

ensure_http_authorizer() {
    AUTHORIZER_ID=""
    [ "$AUTH" = JWT ] || [ "$AUTH" = COGNITO ] || return 0
    local iss aud conf id have
    iss=$(jwt_issuer)
    aud=$(jwt_audience)
    conf='{"Issuer":'$(json_str "$iss")',"Audience":'$(json_list "$aud")'}'
    # the authorizer of the $default route (moto's server lists no authorizers; Lambda's API does)
    awsm apigatewayv2 get-routes --api-id "$API_ID" --query "Items[?RouteKey=='\$default'].AuthorizerId | [0]" --output text
    id=$AWS_OUT
    if some "$id"; then
        awsm apigatewayv2 get-authorizer --api-id "$API_ID" --authorizer-id "$id" \
            --query "[JwtConfiguration.Issuer, join(',', JwtConfiguration.Audience || \`[]\`)]" --output text
        have=$AWS_OUT
        AUTHORIZER_ID=$id
        if [ "$have" = "$iss"$'\t'"$aud" ]; then say "JWT authorizer: up to date"; return; fi
        awsm apigatewayv2 update-authorizer --api-id "$API_ID" --authorizer-id "$id" --jwt-configuration "$conf" \
            --query AuthorizerId --output text
        say "JWT authorizer: updated ($iss)"
        return
    fi
    awsm apigatewayv2 create-authorizer --api-id "$API_ID" --authorizer-type JWT --name "$NAME-jwt" \
        --identity-source '$request.header.Authorization' --jwt-configuration "$conf" --query AuthorizerId --output text
    AUTHORIZER_ID=$AWS_OUT
    say "JWT authorizer: created ($iss)"
}

# Routes: $default behind AUTH; with tokens, GET /health and the OAuth metadata stay public, and
# with COGNITO POST /register (the server hands out the app client).
ensure_http_routes() {
    local auth=NONE scopes=- # "-" for none: empty fields between tabs would run together in read
    case $AUTH in AWS_IAM) auth=AWS_IAM ;; JWT | COGNITO) auth=JWT ;; esac
    [ "$AUTH" != COGNITO ] || scopes=$NAME/tools
    local -a want=("\$default"$'\t'"$auth"$'\t'"${AUTHORIZER_ID:--}"$'\t'"$scopes")
    if [ "$auth" = JWT ]; then
        want+=("GET /health"$'\t'NONE$'\t'-$'\t'- "GET /.well-known/{proxy+}"$'\t'NONE$'\t'-$'\t'-)
    fi
    [ "$AUTH" != COGNITO ] || want+=("POST /register"$'\t'NONE$'\t'-$'\t'-)
    awsm apigatewayv2 get-routes --api-id "$API_ID" \
        --query "Items[].[RouteId, RouteKey, AuthorizationType, AuthorizerId || '-', join(',', AuthorizationScopes || \`[\"-\"]\`), Target]" --output text
    local have=$AWS_OUT line id key type authz sc target w n=0 found
    while IFS=$'\t' read -r id key type authz sc target; do # routes no longer wanted
        [ -n "$id" ] || continue
        found=0
        for w in "${want[@]}"; do [ "${w%%$'\t'*}" = "$key" ] && found=1; done
        if [ $found = 0 ]; then awsm apigatewayv2 delete-route --api-id "$API_ID" --route-id "$id"; n=$((n + 1)); fi
    done <<<"$have"
    for w in "${want[@]}"; do
        local wkey wtype wauthz wsc
        IFS=$'\t' read -r wkey wtype wauthz wsc <<<"$w"
        local -a args=(--authorization-type "$wtype" --target "integrations/$INTEGRATION_ID")
        [ "$wauthz" = - ] || args+=(--authorizer-id "$wauthz")
        [ "$wsc" = - ] || args+=(--authorization-scopes "$wsc")
        line=$(awk -F'\t' -v k="$wkey" '$2 == k' <<<"$have" | head -n 1)
        if [ -z "$line" ]; then
            awsm apigatewayv2 create-route --api-id "$API_ID" --route-key "$wkey" "${args[@]}" --query RouteId --output text
            n=$((n + 1))
        else
            IFS=$'\t' read -r id key type authz sc target <<<"$line"
            if [ "$type:$authz:$sc:$target" != "$wtype:$wauthz:$wsc:integrations/$INTEGRATION_ID" ]; then
                awsm apigatewayv2 update-route --api-id "$API_ID" --route-id "$id" "${args[@]}" --query RouteId --output text
                n=$((n + 1))
            fi
        fi
    done
    if [ $n = 0 ]; then say "routes: up to date ($auth)"; else say "routes: $n written ($auth)"; fi
}

ensure_http_stage() {
    local want have
    want="$THROTTLE_RATE"$'\t'"$THROTTLE_BURST"$'\t'
    [ "$ACCESS_LOGS" = false ] || want+=$API_LOG_ARN
    [ "$ACCESS_LOGS" = true ] || want+=None
    awsm apigatewayv2 get-stages --api-id "$API_ID" \
        --query "Items[?StageName=='\$default'].[to_string(DefaultRouteSettings.ThrottlingRateLimit), to_string(DefaultRouteSettings.ThrottlingBurstLimit), AccessLogSettings.DestinationArn]" --output text
    have=$(first_line "$AWS_OUT")
    have=${have/.0$'\t'/$'\t'} # 50.0 and 50 are the same rate
    local -a args=(--default-route-settings "ThrottlingRateLimit=$THROTTLE_RATE,ThrottlingBurstLimit=$THROTTLE_BURST")
    if [ "$ACCESS_LOGS" = true ]; then
        args+=(--access-log-settings '{"DestinationArn":'$(json_str "$API_LOG_ARN")',"Format":'$(json_str "$ACCESS_LOG_FORMAT")'}')
    fi
    if [ -z "$have" ]; then
        awsm apigatewayv2 create-stage --api-id "$API_ID" --stage-name '$default' --auto-deploy "${args[@]}" \
            --query StageName --output text
        say "stage \$default: created (auto-deploy, $THROTTLE_RATE requests/s, burst $THROTTLE_BURST)"
    elif [ "$have" = "$want" ]; then
        say "stage \$default: up to date"
    else
        [ "$ACCESS_LOGS" = true ] || awsm apigatewayv2 delete-access-log-settings --api-id "$API_ID" --stage-name '$default'
        awsm apigatewayv2 update-stage --api-id "$API_ID" --stage-name '$default' "${args[@]}" --query StageName --output text
        say "stage \$default: updated"
    fi
}

ensure_http_front() {
    ensure_http_integration
    ensure_http_authorizer
    ensure_http_routes
    ensure_api_log_group
    ensure_http_stage
    ensure_domain
}

# --- REST API: API, Cognito authorizer, resources and methods, deployment and stage, API key -----------

ensure_rest_api() {
    if [ -z "$API_ID" ]; then
        awsm apigateway create-rest-api --name "$NAME" --description "MCP server $NAME (mcp.c), deployed by deploy.sh" \
            --endpoint-configuration types=REGIONAL --tags "$TAG_KEY=$NAME" --query id --output text
        API_ID=$AWS_OUT
        say "REST API $NAME: created ($API_ID)"
    else
        say "REST API $NAME: up to date"
    fi
    ENDPOINT=https://$API_ID.execute-api.$REGION.amazonaws.com/$STAGE/
}

ensure_rest_authorizer() {
    AUTHORIZER_ID=""
    [ "$AUTH" = COGNITO ] || return 0
    awsm apigateway get-authorizers --rest-api-id "$API_ID" \
        --query "items[?name=='$NAME-cognito'].[id, join(',', providerARNs || \`[]\`)]" --output text
    if [ -n "$AWS_OUT" ]; then
        AUTHORIZER_ID=$(cut -f1 <<<"$(first_line "$AWS_OUT")")
        if [ "$(cut -f2 <<<"$(first_line "$AWS_OUT")")" = "$POOL_ARN" ]; then say "Cognito authorizer: up to date"; return; fi
        awsm apigateway update-authorizer --rest-api-id "$API_ID" --authorizer-id "$AUTHORIZER_ID" \
            --patch-operations "op=replace,path=/providerARNs/0,value=$POOL_ARN" --query id --output text
        REST_CHANGED=1
        say "Cognito authorizer: updated"
        return
    fi
    awsm apigateway create-authorizer --rest-api-id "$API_ID" --name "$NAME-cognito" --type COGNITO_USER_POOLS \
        --provider-arns "$POOL_ARN" --identity-source method.request.header.Authorization --query id --output text
    AUTHORIZER_ID=$AWS_OUT
    REST_CHANGED=1
    say "Cognito authorizer: created"
}

# a REST API streams (INVOKE_MODE=RESPONSE_STREAM) through Lambda's response-streaming path, the
# integration's responseTransferMode STREAM, as template.yaml declares it
rest_uri() {
    if [ "$INVOKE_MODE" = RESPONSE_STREAM ]; then
        printf 'arn:%s:apigateway:%s:lambda:path/2021-11-15/functions/%s/response-streaming-invocations' "$PARTITION" "$REGION" "$ALIAS_ARN"
    else
        printf 'arn:%s:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations' "$PARTITION" "$REGION" "$ALIAS_ARN"
    fi
}

# Methods: ANY / and ANY /{proxy+} behind AUTH; with COGNITO, GET /health, GET
# /.well-known/{proxy+} and POST /register public. Each a Lambda proxy integration (payload 1.0) of the alias.
ensure_rest_methods() {
    local auth=NONE key=false scopes=""
    case $AUTH in AWS_IAM) auth=AWS_IAM ;; COGNITO) auth=COGNITO_USER_POOLS scopes=$NAME/tools ;; API_KEY) key=true ;; esac
    local -a want=("/ ANY $auth $key" "/{proxy+} ANY $auth $key")
    [ "$AUTH" != COGNITO ] || want+=("/health GET NONE false" "/.well-known/{proxy+} GET NONE false" "/register POST NONE false")
    awsm apigateway get-resources --rest-api-id "$API_ID" --embed methods --limit 500 \
        --query "items[].[path, id, resourceMethods.ANY.authorizationType || resourceMethods.GET.authorizationType || resourceMethods.POST.authorizationType || '-', to_string(resourceMethods.ANY.apiKeyRequired || resourceMethods.GET.apiKeyRequired || resourceMethods.POST.apiKeyRequired || \`false\`), resourceMethods.ANY.methodIntegration.uri || resourceMethods.GET.methodIntegration.uri || resourceMethods.POST.methodIntegration.uri || '-']" --output text
    local have=$AWS_OUT w path method wauth wkey line id hauth hkey huri n=0
    for w in "${want[@]}"; do
        read -r path method wauth wkey <<<"$w"
        line=$(awk -F'\t' -v p="$path" '$1 == p' <<<"$have" | head -n 1)
        if [ -z "$line" ]; then
            id=$(rest_resource "$path")
            have+=$'\n'"$path"$'\t'"$id"$'\t'-$'\t'false$'\t'-
            hauth=- hkey=false huri=-
        else
            IFS=$'\t' read -r _ id hauth hkey huri <<<"$line"
        fi
        [ "$hauth:$hkey:$huri" != "$wauth:$wkey:$(rest_uri)" ] || continue
        local -a args=(--authorization-type "$wauth")
        [ "$wauth" != COGNITO_USER_POOLS ] || args+=(--authorizer-id "$AUTHORIZER_ID" --authorization-scopes "$scopes")
        [ "$wkey" = false ] || args+=(--api-key-required)
        [ "$hauth" = - ] || awsm apigateway delete-method --rest-api-id "$API_ID" --resource-id "$id" --http-method "$method"
        awsm apigateway put-method --rest-api-id "$API_ID" --resource-id "$id" --http-method "$method" "${args[@]}" \
            --query httpMethod --output text
        local -a stream=()
        [ "$INVOKE_MODE" != RESPONSE_STREAM ] || stream=(--response-transfer-mode STREAM)
        awsm apigateway put-integration --rest-api-id "$API_ID" --resource-id "$id" --http-method "$method" \
            --type AWS_PROXY --integration-http-method POST --uri "$(rest_uri)" "${stream[@]}" --query type --output text
        n=$((n + 1))
    done
    if [ $n = 0 ]; then say "methods: up to date ($auth${key/false/})"; else REST_CHANGED=1; say "methods: $n written ($AUTH)"; fi
    REST_HAVE=$have
}

# rest_resource PATH: the resource's id, created (with its parents) when missing; REST_HAVE
# lines are "path<TAB>id..." of what exists.
rest_resource() {
    local path=$1 parent part id
    id=$(awk -F'\t' -v p="$path" '$1 == p {print $2}' <<<"$have" | head -n 1)
    if [ -n "$id" ]; then printf '%s' "$id"; return; fi
    parent=${path%/*}
    [ -n "$parent" ] || parent=/
    part=${path##*/}
    local pid
    pid=$(rest_resource "$parent")
    awsm apigateway create-resource --rest-api-id "$API_ID" --parent-id "$pid" --path-part "$part" --query id --output text
    have+=$'\n'"$path"$'\t'"$AWS_OUT"$'\t'-$'\t'false$'\t'-
    printf '%s' "$AWS_OUT"
}

# A deployment to STAGE when the methods changed; then the stage's throttling, access logs, tracing.
ensure_rest_stage() {
    local have
    if ! awsr apigateway get-stage --rest-api-id "$API_ID" --stage-name "$STAGE" \
        --query "[to_string(methodSettings.\"*/*\".throttlingRateLimit), to_string(methodSettings.\"*/*\".throttlingBurstLimit), accessLogSettings.destinationArn, to_string(tracingEnabled)]" --output text; then
        not_found || die 1 "aws apigateway get-stage failed: $(aws_msg)"
        REST_CHANGED=1
        AWS_OUT=""
    fi
    have=$AWS_OUT
    if [ "${REST_CHANGED:-0}" = 1 ]; then
        awsm apigateway create-deployment --rest-api-id "$API_ID" --stage-name "$STAGE" \
            --description "deploy.sh: $NAME:$ALIAS" --query id --output text
        say "deployment to stage $STAGE: $AWS_OUT"
    fi
    local tracing=false dest=None
    [ "$TRACING" != Active ] || tracing=true
    [ "$ACCESS_LOGS" = false ] || dest=$API_LOG_ARN
    local want="$THROTTLE_RATE"$'\t'"$THROTTLE_BURST"$'\t'"$dest"$'\t'"$tracing"
    have=${have/.0$'\t'/$'\t'}
    if [ "$have" = "$want" ]; then say "stage $STAGE: up to date"; return; fi
    local ops='[{"op":"replace","path":"/*/*/throttling/rateLimit","value":"'$THROTTLE_RATE'"},'
    ops+='{"op":"replace","path":"/*/*/throttling/burstLimit","value":"'$THROTTLE_BURST'"},'
    ops+='{"op":"replace","path":"/tracingEnabled","value":"'$tracing'"}'
    if [ "$ACCESS_LOGS" = true ]; then
        ops+=',{"op":"replace","path":"/accessLogSettings/destinationArn","value":'$(json_str "$API_LOG_ARN")'}'
        ops+=',{"op":"replace","path":"/accessLogSettings/format","value":'$(json_str "$ACCESS_LOG_FORMAT")'}'
    elif [ "$(cut -f3 <<<"$have")" != None ] && [ -n "$have" ]; then
        ops+=',{"op":"remove","path":"/accessLogSettings"}'
    fi
    ops+=']'
    if ! awsr apigateway update-stage --rest-api-id "$API_ID" --stage-name "$STAGE" --patch-operations "$ops" --query stageName --output text; then
        [[ $AWS_ERR == *"CloudWatch Logs role ARN must be set"* ]] ||
            die 1 "aws apigateway update-stage failed: $(aws_msg)"
        die 1 "REST API access logs need API Gateway's account-wide CloudWatch Logs role (aws apigateway update-account --patch-operations op=replace,path=/cloudwatchRoleArn,value=ROLE_ARN), or ACCESS_LOGS=false"
    fi
    say "stage $STAGE: $THROTTLE_RATE requests/s, burst $THROTTLE_BURST, access logs $ACCESS_LOGS, tracing $tracing"
}

# AUTH=API_KEY: usage plan NAME on the stage, key NAME-key in it.
ensure_usage_plan() {
    [ "$AUTH" = API_KEY ] || return 0
    awsm apigateway get-usage-plans --query "items[?name=='$NAME'].[id, to_string(throttle.rateLimit), to_string(throttle.burstLimit)]" --output text
    local line=$(first_line "$AWS_OUT") plan rate burst
    if [ -z "$line" ]; then
        awsm apigateway create-usage-plan --name "$NAME" --api-stages "apiId=$API_ID,stage=$STAGE" \
            --throttle "burstLimit=$THROTTLE_BURST,rateLimit=$THROTTLE_RATE" --tags "$TAG_KEY=$NAME" --query id --output text
        plan=$AWS_OUT
        say "usage plan $NAME: created"
    else
        IFS=$'\t' read -r plan rate burst <<<"$line"
        if [ "${rate%.0}:$burst" = "$THROTTLE_RATE:$THROTTLE_BURST" ]; then
            say "usage plan $NAME: up to date"
        else
            awsm apigateway update-usage-plan --usage-plan-id "$plan" --query id --output text --patch-operations \
                "op=replace,path=/throttle/rateLimit,value=$THROTTLE_RATE" "op=replace,path=/throttle/burstLimit,value=$THROTTLE_BURST"
            say "usage plan $NAME: throttling updated"
        fi
    fi
    awsm apigateway get-api-keys --name-query "$NAME-key" --query "items[?name=='$NAME-key'].id" --output text
    API_KEY_ID=$(first_line "$AWS_OUT")
    if [ -z "$API_KEY_ID" ]; then
        awsm apigateway create-api-key --name "$NAME-key" --enabled --tags "$TAG_KEY=$NAME" --query id --output text
        API_KEY_ID=$AWS_OUT
        say "API key $NAME-key: created ($API_KEY_ID)"
    fi
    awsm apigateway get-usage-plan-keys --usage-plan-id "$plan" --query 'items[].id' --output text
    if [[ " $(tr '\t\n' '  ' <<<"$AWS_OUT") " != *" $API_KEY_ID "* ]]; then
        awsm apigateway create-usage-plan-key --usage-plan-id "$plan" --key-id "$API_KEY_ID" --key-type API_KEY --query id --output text
        say "API key $NAME-key: in usage plan $NAME"
    fi
}

ensure_rest_front() {
    REST_CHANGED=0
    ensure_rest_authorizer
    ensure_rest_methods
    ensure_api_log_group
    ensure_rest_stage
    ensure_usage_plan
    ensure_domain
}

# --- custom domain: a regional domain name and its mapping to the API ---------------------------------

# domain_read: DOMAIN_STATE "target<TAB>certificate<TAB>tag" of CUSTOM_DOMAIN, empty when there is none.
domain_read() {
    DOMAIN_STATE=""
    local -a get
    if [ "$FRONT" = HTTP_API ]; then
        get=(apigatewayv2 get-domain-name --domain-name "$CUSTOM_DOMAIN" --query
             "[DomainNameConfigurations[0].ApiGatewayDomainName, DomainNameConfigurations[0].CertificateArn, Tags.\"$TAG_KEY\"]")
    else
        get=(apigateway get-domain-name --domain-name "$CUSTOM_DOMAIN" --query "[regionalDomainName, regionalCertificateArn, tags.\"$TAG_KEY\"]")
    fi
    if awsr "${get[@]}" --output text; then
        DOMAIN_STATE=$AWS_OUT
    else
        not_found || die 1 "aws ${get[0]} get-domain-name failed: $(aws_msg)"
    fi
}

# Pre-flight: CUSTOM_DOMAIN, if it exists, must be deploy.sh's own.
inspect_domain() {
    DOMAIN_STATE="" DOMAIN_TARGET=""
    [ -n "$CUSTOM_DOMAIN" ] || return 0
    domain_read
    [ -z "$DOMAIN_STATE" ] || [ "$(cut -f3 <<<"$DOMAIN_STATE")" = "$NAME" ] ||
        die 3 "pre-flight: the custom domain $CUSTOM_DOMAIN exists in API Gateway but deploy.sh did not create it (no $TAG_KEY=$NAME tag); nothing was changed"
    DOMAIN_TARGET=$(cut -f1 <<<"$DOMAIN_STATE")
}

# The domain (REGIONAL, TLS 1.2, CERTIFICATE_ARN) and one mapping of BASE_PATH to the API's stage;
# mappings to anything else are removed.
ensure_domain() {
    [ -n "$CUSTOM_DOMAIN" ] || return 0
    local cert
    DOMAIN_CREATED=0
    if [ -z "$DOMAIN_STATE" ]; then
        DOMAIN_CREATED=1
        if [ "$FRONT" = HTTP_API ]; then
            awsm apigatewayv2 create-domain-name --domain-name "$CUSTOM_DOMAIN" \
                --domain-name-configurations "CertificateArn=$CERTIFICATE_ARN,EndpointType=REGIONAL,SecurityPolicy=TLS_1_2" \
                --tags "$TAG_KEY=$NAME" --query 'DomainNameConfigurations[0].ApiGatewayDomainName' --output text
        else
            awsm apigateway create-domain-name --domain-name "$CUSTOM_DOMAIN" --regional-certificate-arn "$CERTIFICATE_ARN" \
                --endpoint-configuration types=REGIONAL --security-policy TLS_1_2 --tags "$TAG_KEY=$NAME" \
                --query regionalDomainName --output text
        fi
        DOMAIN_TARGET=$AWS_OUT
        say "custom domain $CUSTOM_DOMAIN: created (point its DNS at $DOMAIN_TARGET)"
    else
        cert=$(cut -f2 <<<"$DOMAIN_STATE")
        if [ "$cert" = "$CERTIFICATE_ARN" ]; then
            say "custom domain $CUSTOM_DOMAIN: up to date"
        elif [ "$FRONT" = HTTP_API ]; then
            awsm apigatewayv2 update-domain-name --domain-name "$CUSTOM_DOMAIN" \
                --domain-name-configurations "CertificateArn=$CERTIFICATE_ARN,EndpointType=REGIONAL,SecurityPolicy=TLS_1_2" \
                --query DomainName --output text
            say "custom domain $CUSTOM_DOMAIN: certificate replaced"
        else
            awsm apigateway update-domain-name --domain-name "$CUSTOM_DOMAIN" \
                --patch-operations "op=replace,path=/regionalCertificateArn,value=$CERTIFICATE_ARN" --query domainName --output text
            say "custom domain $CUSTOM_DOMAIN: certificate replaced"
        fi
    fi
    if [ "$FRONT" = HTTP_API ]; then ensure_api_mapping; else ensure_base_path_mapping; fi
}

ensure_api_mapping() {
    local want="$API_ID"$'\t'"${BASE_PATH:-None}"$'\t''$default' id api key stage found=0
    AWS_OUT="" # a new domain has no mapping yet
    [ "$DOMAIN_CREATED" = 1 ] || awsm apigatewayv2 get-api-mappings --domain-name "$CUSTOM_DOMAIN" --query 'Items[].[ApiMappingId, ApiId, ApiMappingKey || `None`, Stage]' --output text
    while IFS=$'\t' read -r id api key stage; do
        [ -n "$id" ] || continue
        if [ "$api"$'\t'"$key"$'\t'"$stage" = "$want" ]; then found=1; continue; fi
        awsm apigatewayv2 delete-api-mapping --domain-name "$CUSTOM_DOMAIN" --api-mapping-id "$id"
        say "custom domain $CUSTOM_DOMAIN: mapping ${key/None/(none)} -> $api removed"
    done <<<"$AWS_OUT"
    [ $found = 0 ] || return 0
    local -a key_arg=()
    [ -z "$BASE_PATH" ] || key_arg=(--api-mapping-key "$BASE_PATH")
    awsm apigatewayv2 create-api-mapping --domain-name "$CUSTOM_DOMAIN" --api-id "$API_ID" --stage '$default' "${key_arg[@]}" \
        --query ApiMappingId --output text
    say "custom domain $CUSTOM_DOMAIN: /${BASE_PATH} -> HTTP API $API_ID"
}

ensure_base_path_mapping() {
    local want="${BASE_PATH:-(none)}"$'\t'"$API_ID"$'\t'"$STAGE" path api stage found=0
    AWS_OUT="" # a new domain has no mapping yet
    [ "$DOMAIN_CREATED" = 1 ] || awsm apigateway get-base-path-mappings --domain-name "$CUSTOM_DOMAIN" --query 'items[].[basePath, restApiId, stage]' --output text
    while IFS=$'\t' read -r path api stage; do
        [ -n "$path" ] || continue
        if [ "$path"$'\t'"$api"$'\t'"$stage" = "$want" ]; then found=1; continue; fi
        awsm apigateway delete-base-path-mapping --domain-name "$CUSTOM_DOMAIN" --base-path "$path"
        say "custom domain $CUSTOM_DOMAIN: base path $path -> $api removed"
    done <<<"$AWS_OUT"
    [ $found = 0 ] || return 0
    local -a path_arg=()
    [ -z "$BASE_PATH" ] || path_arg=(--base-path "$BASE_PATH")
    awsm apigateway create-base-path-mapping --domain-name "$CUSTOM_DOMAIN" --rest-api-id "$API_ID" --stage "$STAGE" "${path_arg[@]}" \
        --query basePath --output text
    say "custom domain $CUSTOM_DOMAIN: /${BASE_PATH} -> REST API $API_ID stage $STAGE"
}

# destroy: the domain (and with it its mappings), when deploy.sh made it.
destroy_domain() {
    [ -n "$CUSTOM_DOMAIN" ] || return 0
    domain_read
    [ -n "$DOMAIN_STATE" ] || { say "custom domain $CUSTOM_DOMAIN: already gone"; return 0; }
    if [ "$(cut -f3 <<<"$DOMAIN_STATE")" != "$NAME" ]; then
        say "custom domain $CUSTOM_DOMAIN was not created by deploy.sh; left in place"
    elif [ "$FRONT" = HTTP_API ]; then
        gone_ok "custom domain $CUSTOM_DOMAIN" apigatewayv2 delete-domain-name --domain-name "$CUSTOM_DOMAIN"
    else
        gone_ok "custom domain $CUSTOM_DOMAIN" apigateway delete-domain-name --domain-name "$CUSTOM_DOMAIN"
    fi
}

# --- EventBridge schedule --------------------------------------------------------------------------

ensure_schedule() {
    SCHEDULE_ARN=""
    local exists=0
    if awsr events describe-rule --name "$RULE_NAME" --query '[Arn, ScheduleExpression, State]' --output text; then
        exists=1
        SCHEDULE_ARN=$(cut -f1 <<<"$AWS_OUT")
    else
        not_found || die 1 "aws events describe-rule failed: $(aws_msg)"
    fi
    if [ -z "$SCHEDULE" ]; then
        [ $exists = 0 ] || { remove_schedule; SCHEDULE_ARN=""; }
        return 0
    fi
    if [ $exists = 1 ] && [ "$(cut -f2- <<<"$AWS_OUT")" = "$SCHEDULE"$'\t'ENABLED ]; then
        say "schedule $RULE_NAME: up to date ($SCHEDULE)"
    else
        awsm events put-rule --name "$RULE_NAME" --schedule-expression "$SCHEDULE" --state ENABLED \
            --description "Invokes the MCP server $NAME:$ALIAS (deploy.sh)" --tags "Key=$TAG_KEY,Value=$NAME" --query RuleArn --output text
        SCHEDULE_ARN=$AWS_OUT
        say "schedule $RULE_NAME: $SCHEDULE"
    fi
    awsm events list-targets-by-rule --rule "$RULE_NAME" --query 'Targets[].[Id, Arn, Input]' --output text
    if [ "$AWS_OUT" != "mcp"$'\t'"$ALIAS_ARN"$'\t'"$SCHEDULE_INPUT" ]; then
        awsm events put-targets --rule "$RULE_NAME" \
            --targets '[{"Id":"mcp","Arn":'$(json_str "$ALIAS_ARN")',"Input":'$(json_str "$SCHEDULE_INPUT")'}]' \
            --query FailedEntryCount --output text
        say "schedule target: $NAME:$ALIAS with $SCHEDULE_INPUT"
    fi
}

remove_schedule() {
    gone_ok "schedule target" events remove-targets --rule "$RULE_NAME" --ids mcp
    gone_ok "schedule $RULE_NAME" events delete-rule --name "$RULE_NAME"
}

# --- destroy -------------------------------------------------------------------------------------

destroy_front() {
    destroy_domain
    if awsr events describe-rule --name "$RULE_NAME" --query Arn --output text; then remove_schedule; fi
    local id tag
    if awsr apigatewayv2 get-apis --query "Items[?Name=='$NAME'].[ApiId, Tags.\"$TAG_KEY\"]" --output text; then
        while IFS=$'\t' read -r id tag; do
            [ -n "$id" ] && [ "$tag" = "$NAME" ] || continue
            gone_ok "HTTP API $NAME ($id)" apigatewayv2 delete-api --api-id "$id"
        done <<<"$AWS_OUT"
    fi
    if awsr apigateway get-usage-plans --query "items[?name=='$NAME'].[id, apiStages[0].apiId, apiStages[0].stage]" --output text; then
        local plan api stage
        while IFS=$'\t' read -r plan api stage; do
            [ -n "$plan" ] || continue
            if some "$api"; then
                awsr apigateway update-usage-plan --usage-plan-id "$plan" --patch-operations "op=remove,path=/apiStages,value=$api:$stage" || true
            fi
            gone_ok "usage plan $NAME" apigateway delete-usage-plan --usage-plan-id "$plan"
        done <<<"$AWS_OUT"
    fi
    if awsr apigateway get-api-keys --name-query "$NAME-key" --query "items[?name=='$NAME-key'].id" --output text; then
        for id in $AWS_OUT; do gone_ok "API key $NAME-key" apigateway delete-api-key --api-key "$id"; done
    fi
    if awsr apigateway get-rest-apis --query "items[?name=='$NAME'].[id, tags.\"$TAG_KEY\"]" --output text; then
        while IFS=$'\t' read -r id tag; do
            [ -n "$id" ] && [ "$tag" = "$NAME" ] || continue
            gone_ok "REST API $NAME ($id)" apigateway delete-rest-api --rest-api-id "$id"
        done <<<"$AWS_OUT"
    fi
    awsr logs describe-log-groups --log-group-name-prefix "$API_LOG_GROUP" --query "logGroups[?logGroupName=='$API_LOG_GROUP'].logGroupName" --output text || true
    [ -z "$AWS_OUT" ] || gone_ok "log group $API_LOG_GROUP" logs delete-log-group --log-group-name "$API_LOG_GROUP"
    if awsr cognito-idp list-user-pools --max-results 60 --query "UserPools[?Name=='$POOL_NAME'].Id" --output text; then
        for id in $AWS_OUT; do
            awsr cognito-idp describe-user-pool --user-pool-id "$id" --query "[UserPool.UserPoolTags.\"$TAG_KEY\", UserPool.Domain]" --output text || continue
            [ "$(cut -f1 <<<"$AWS_OUT")" = "$NAME" ] || { say "user pool $POOL_NAME ($id) was not created by deploy.sh; left in place"; continue; }
            local domain
            domain=$(cut -f2 <<<"$AWS_OUT")
            ! some "$domain" || gone_ok "user pool domain $domain" cognito-idp delete-user-pool-domain --domain "$domain" --user-pool-id "$id"
            gone_ok "user pool $POOL_NAME ($id), its app client and resource server" cognito-idp delete-user-pool --user-pool-id "$id"
        done
    fi
}
