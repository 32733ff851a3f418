// index.mjs: an AWS Lambda custom-runtime loop for the SDK server, the way Node users write
// one: GET /next, turn the function URL event (payload 2.0) into a web Request, hand it to
// the SDK's WebStandardStreamableHTTPServerTransport (stateless, JSON responses; a new
// server and transport per request, as the SDK's stateless example does), POST the
// Response back as {statusCode, headers, body}. Direct invocations (no requestContext) are
// treated as the JSON-RPC message itself. Errors go to /error.
import http from 'node:http';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { makeServer } from './server.mjs';

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const BASE = '/2018-06-01/runtime';

function request(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port: PORT, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function handleHttp(event) {
  const h = new Headers();
  for (const [k, v] of Object.entries(event.headers || {})) h.set(k, v);
  if (event.cookies?.length) h.set('cookie', event.cookies.join('; '));
  const method = event.requestContext.http?.method || event.httpMethod || 'POST';
  const path = event.rawPath || event.path || '/';
  const qs = event.rawQueryString ? `?${event.rawQueryString}` : '';
  const host = h.get('host') || 'localhost';
  let body;
  if (event.body != null && method !== 'GET' && method !== 'HEAD') body = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  const req = new Request(`https://${host}${path}${qs}`, { method, headers: h, body });
  const server = makeServer();
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    const res = await transport.handleRequest(req);
    const headers = {};
    res.headers.forEach((v, k) => { headers[k] = v; });
    return { statusCode: res.status, headers, body: await res.text(), isBase64Encoded: false };
  } finally {
    await transport.close();
    await server.close();
  }
}

async function handleDirect(message) {
  // A direct invocation: the event is the JSON-RPC message; answer with the JSON-RPC response.
  const res = await handleHttp({
    requestContext: { http: { method: 'POST' } }, rawPath: '/mcp',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify(message),
  });
  return res.body ? JSON.parse(res.body) : null;
}

for (;;) {
  const next = await request('GET', `${BASE}/invocation/next`);
  if (next.status !== 200) { console.error(`GET /next: HTTP ${next.status}`); process.exit(1); }
  const id = next.headers['lambda-runtime-aws-request-id'];
  if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
  try {
    const event = JSON.parse(next.body.toString('utf8'));
    const result = event && event.requestContext ? await handleHttp(event) : await handleDirect(event);
    const out = JSON.stringify(result);
    await request('POST', `${BASE}/invocation/${id}/response`, out, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
  } catch (e) {
    const out = JSON.stringify({ errorMessage: String(e?.message || e), errorType: e?.name || 'Error', stackTrace: [] });
    await request('POST', `${BASE}/invocation/${id}/error`, out, {
      'content-type': 'application/vnd.aws.lambda.error+json', 'lambda-runtime-function-error-type': 'Runtime.HandlerError',
      'content-length': Buffer.byteLength(out),
    });
  }
}
