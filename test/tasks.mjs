// tasks.mjs: tasks as 2025-11-25 defines them, against the official MCP TypeScript SDK
// client's task API (client.experimental.tasks), over stdio and Streamable HTTP, on
// build/conformance (examples/conformance.c: slow_compute optional, failing_job required,
// protocol_error_job optional). The 2026-07-28 extension is the conformance suite's
// (test/conformance.sh). Exact expected results.
//
//   . test/node.sh && "$NODE22" test/tasks.mjs build/conformance
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { checks } from './checks.mjs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, CreateTaskResultSchema } from '@modelcontextprotocol/sdk/types.js';

const BINARY = path.resolve(process.argv[2] || 'build/conformance');
const { eq, within, sleep, done } = checks(90);
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function errorOf(p) {
  try { await p; return null; } catch (e) { return { code: e.code, message: String(e.message).replace(/^MCP error -?\d+: /, '') }; }
}

async function suite(client, how) {
  const caps = client.getServerCapabilities();
  eq(`${how}: capabilities.tasks (list, cancel, tools/call)`, caps.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
  const { tools } = await within(client.listTools(), 5000, 'tools/list');
  const support = Object.fromEntries(tools.filter((t) => t.execution).map((t) => [t.name, t.execution.taskSupport]));
  eq(`${how}: tools/list: execution.taskSupport per tool`, support,
    { slow_compute: 'optional', failing_job: 'required', protocol_error_job: 'optional', confirm_delete: 'optional', multi_input: 'optional', test_tool_with_task: 'required' });

  // the SDK's own flow: taskCreated, status while working, then the result
  const kinds = [];
  let result;
  for await (const m of client.experimental.tasks.callToolStream({ name: 'slow_compute', arguments: { seconds: 1, label: 'one' } })) {
    if (!kinds.includes(m.type)) kinds.push(m.type);
    if (m.type === 'result') result = m.result;
    if (m.type === 'error') result = { error: String(m.error) };
  }
  eq(`${how}: callToolStream(slow_compute): taskCreated, then the result`, [kinds[0], kinds[kinds.length - 1]], ['taskCreated', 'result']);
  eq(`${how}: callToolStream(slow_compute): the tool's result`, result?.content, [{ type: 'text', text: 'computed one after 1 s' }]);

  // a required tool called without a task is refused
  eq(`${how}: failing_job (required) without params.task: -32601`,
    await errorOf(client.request({ method: 'tools/call', params: { name: 'failing_job', arguments: {} } }, CallToolResultSchema)),
    { code: -32601, message: 'tool failing_job must be called as a task (params.task)' });
  // an optional tool called without a task runs in the request
  const sync = await client.request({ method: 'tools/call', params: { name: 'slow_compute', arguments: { seconds: 0, label: 'sync' } } }, CallToolResultSchema);
  eq(`${how}: slow_compute without params.task: a plain result`, sync, { content: [{ type: 'text', text: 'computed sync after 0 s' }] });

  // by hand: create with a ttl, get, list, cancel, cancel again, result of a cancelled task
  const created = await client.request({ method: 'tools/call', params: { name: 'slow_compute', arguments: { seconds: 30, label: 'long' }, task: { ttl: 60000 } } }, CreateTaskResultSchema);
  const t = created.task;
  eq(`${how}: CreateTaskResult: status, ttl (as asked), pollInterval, times`,
    [t.status, t.ttl, t.pollInterval, ISO.test(t.createdAt), ISO.test(t.lastUpdatedAt), /^[0-9a-f]{32}$/.test(t.taskId)],
    ['working', 60000, 500, true, true, true]);
  const got = await client.experimental.tasks.getTask(t.taskId);
  eq(`${how}: tasks/get: working, same task`, [got.taskId, got.status, got.ttl, got.createdAt], [t.taskId, 'working', 60000, t.createdAt]);
  const big = await client.request({ method: 'tools/call', params: { name: 'slow_compute', arguments: { seconds: 0, label: 'ttl' }, task: { ttl: 999999999 } } }, CreateTaskResultSchema);
  eq(`${how}: a ttl above the server's maximum is cut to it (3600000)`, big.task.ttl, 3600000);
  const listed = await client.experimental.tasks.listTasks();
  eq(`${how}: tasks/list has both tasks`, [t.taskId, big.task.taskId].every((id) => listed.tasks.some((x) => x.taskId === id)), true);
  const cancelled = await client.experimental.tasks.cancelTask(t.taskId);
  eq(`${how}: tasks/cancel: the task, cancelled`, [cancelled.taskId, cancelled.status, cancelled.statusMessage], [t.taskId, 'cancelled', 'cancelled by the client']);
  await sleep(300); // the handler sees the cancel within 50 ms and stops; its end is dropped
  eq(`${how}: tasks/get after the cancel: still cancelled`, (await client.experimental.tasks.getTask(t.taskId)).status, 'cancelled');
  eq(`${how}: tasks/cancel of a cancelled task: -32602`, await errorOf(client.experimental.tasks.cancelTask(t.taskId)),
    { code: -32602, message: `Invalid params: task ${t.taskId} is already cancelled` });
  eq(`${how}: tasks/result of a cancelled task: -32602`, await errorOf(client.experimental.tasks.getTaskResult(t.taskId, CallToolResultSchema)),
    { code: -32602, message: `task ${t.taskId} was cancelled` });

  // tasks/result waits for the end: a tool error is a result, a protocol error the error
  const fj = await client.request({ method: 'tools/call', params: { name: 'failing_job', arguments: {} , task: {} } }, CreateTaskResultSchema);
  const fr = await within(client.experimental.tasks.getTaskResult(fj.task.taskId, CallToolResultSchema), 10000, 'tasks/result');
  eq(`${how}: tasks/result of failing_job: isError result, related-task _meta`, fr,
    { content: [{ type: 'text', text: 'the job failed' }], isError: true, _meta: { 'io.modelcontextprotocol/related-task': { taskId: fj.task.taskId } } });
  eq(`${how}: tasks/get of failing_job: completed`, (await client.experimental.tasks.getTask(fj.task.taskId)).status, 'completed');
  const pj = await client.request({ method: 'tools/call', params: { name: 'protocol_error_job', arguments: {}, task: {} } }, CreateTaskResultSchema);
  eq(`${how}: tasks/result of protocol_error_job: its JSON-RPC error`,
    await errorOf(client.experimental.tasks.getTaskResult(pj.task.taskId, CallToolResultSchema)), { code: -32603, message: 'the job broke down' });
  eq(`${how}: tasks/get of protocol_error_job: failed`, (await client.experimental.tasks.getTask(pj.task.taskId)).status, 'failed');
  eq(`${how}: tasks/get of an unknown task: -32602`, await errorOf(client.experimental.tasks.getTask('0123456789abcdef0123456789abcdef')),
    { code: -32602, message: 'Invalid params: no task 0123456789abcdef0123456789abcdef' });
  eq(`${how}: tasks/get without taskId: -32602`, await errorOf(client.request({ method: 'tasks/get', params: {} }, CallToolResultSchema)),
    { code: -32602, message: 'Invalid params: tasks/get needs a string taskId' });
  // arguments are checked before a task is made
  const bad = await client.request({ method: 'tools/call', params: { name: 'slow_compute', arguments: { seconds: 'x' }, task: {} } }, CallToolResultSchema);
  eq(`${how}: bad arguments: a tool error, no task`, [bad.isError, 'task' in bad], [true, false]);
}

async function freePort() {
  return new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
}

{
  const client = new Client({ name: 'tasks-test', version: '1.0.0' }, { capabilities: { tasks: { list: {}, cancel: {} } } });
  await within(client.connect(new StdioClientTransport({ command: BINARY, args: ['stdio'] })), 10000, 'connect over stdio');
  await suite(client, 'stdio');
  await client.close();
}
{
  const port = await freePort();
  const srv = spawn(BINARY, ['serve', '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
  let client;
  for (let i = 0; ; i++) { // until serve listens (5 s at most)
    client = new Client({ name: 'tasks-test', version: '1.0.0' }, { capabilities: { tasks: { list: {}, cancel: {} } } });
    try { await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`))); break; }
    catch (e) { if (i === 100) throw e; await sleep(50); }
  }
  await suite(client, 'http');
  await client.close();
  srv.kill('SIGTERM');
}
done();
