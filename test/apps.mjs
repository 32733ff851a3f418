// apps.mjs: build/apps (examples/apps.c) against the official MCP TypeScript SDK client:
// icons on the server and a tool, _meta on tools, resources and results, the MCP Apps view
// (ui:// resource, text/html;profile=mcp-app, the extension declared), and a resource
// subscription that fires over stdio; over Streamable HTTP the server declares
// subscribe: false. Exact expected results.
//
//   . test/node.sh && "$NODE22" test/apps.mjs build/apps
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { checks } from './checks.mjs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const BINARY = path.resolve(process.argv[2] || 'build/apps');
const { eq, within, sleep, done } = checks(60);

const VIEW = 'ui://weather/view.html';
const TOOL_ICON = { src: 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=', mimeType: 'image/svg+xml', sizes: ['any'] };

async function common(client, how) {
  const info = client.getServerVersion();
  eq(`${how}: serverInfo carries its icon`, info.icons, [{ src: 'https://example.com/weather-48.png', mimeType: 'image/png', sizes: ['48x48'] }]);
  eq(`${how}: capabilities declare MCP Apps (extensions io.modelcontextprotocol/ui)`, client.getServerCapabilities().extensions, { 'io.modelcontextprotocol/ui': {} });
  const { tools } = await within(client.listTools(), 5000, 'tools/list');
  const t = tools.find((x) => x.name === 'show_weather');
  eq(`${how}: tools/list: show_weather's icons`, t?.icons, [TOOL_ICON]);
  eq(`${how}: tools/list: show_weather's _meta links the view`, t?._meta, { ui: { resourceUri: VIEW }, 'ui/resourceUri': VIEW });
  const { resources } = await within(client.listResources(), 5000, 'resources/list');
  eq(`${how}: resources/list: the view, its MIME type and _meta.ui`, resources.find((r) => r.uri === VIEW),
    { uri: VIEW, name: 'weather-view', description: 'The weather view', mimeType: 'text/html;profile=mcp-app', _meta: { ui: { prefersBorder: true, csp: { connectDomains: [] } } } });
  const read = await within(client.readResource({ uri: VIEW }), 5000, 'resources/read');
  const c = read.contents[0];
  eq(`${how}: resources/read: the view is HTML with the resource's _meta`, [c.uri, c.mimeType, c.text.startsWith('<!doctype html>'), c._meta],
    [VIEW, 'text/html;profile=mcp-app', true, { ui: { prefersBorder: true, csp: { connectDomains: [] } } }]);
  const r = await within(client.callTool({ name: 'show_weather', arguments: { city: 'Oslo' } }), 5000, 'tools/call');
  eq(`${how}: tools/call: content, structuredContent and the result's _meta`, r,
    { content: [{ type: 'text', text: 'Oslo: sunny, 21 C' }], structuredContent: { city: 'Oslo', summary: 'Sunny, 21 C', tempC: 21 }, _meta: { 'com.example/source': 'demo' } });
}

// stdio: subscribe, then a call that changes the resource sends notifications/resources/updated
{
  const client = new Client({ name: 'apps-test', version: '1.0.0' });
  const updates = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => { updates.push(n.params.uri); });
  await within(client.connect(new StdioClientTransport({ command: BINARY, args: ['stdio'] })), 10000, 'connect over stdio');
  eq('stdio: resources.subscribe and listChanged are declared', client.getServerCapabilities().resources, { subscribe: true, listChanged: true });
  await common(client, 'stdio');
  eq('stdio: no update before subscribing (the call above changed weather://last)', updates, []);
  await within(client.subscribeResource({ uri: 'weather://last' }), 5000, 'resources/subscribe');
  await within(client.callTool({ name: 'show_weather', arguments: { city: 'Bergen' } }), 5000, 'tools/call');
  await within((async () => { while (!updates.length) await new Promise((r) => setTimeout(r, 20)); })(), 5000, 'the update');
  eq('stdio: after subscribing, a change sends notifications/resources/updated for weather://last', updates, ['weather://last']);
  eq('stdio: the resource reads the new value', (await client.readResource({ uri: 'weather://last' })).contents[0].text, 'Bergen');
  await within(client.unsubscribeResource({ uri: 'weather://last' }), 5000, 'resources/unsubscribe');
  await within(client.callTool({ name: 'show_weather', arguments: { city: 'Tromso' } }), 5000, 'tools/call');
  await new Promise((r) => setTimeout(r, 200));
  eq('stdio: after unsubscribing, no more updates', updates, ['weather://last']);
  await client.close();
}

// Streamable HTTP (serve): no channel between requests, so subscribe is not declared
{
  const port = await new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
  const srv = spawn(BINARY, ['serve', '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
  try {
    let client;
    for (let i = 0; i < 100; i++) {
      try {
        client = new Client({ name: 'apps-test', version: '1.0.0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
        break;
      } catch { client = null; await new Promise((r) => setTimeout(r, 50)); }
    }
    if (!client) throw new Error('serve did not accept connections');
    eq('http: resources.subscribe is false (no channel between requests)', client.getServerCapabilities().resources, { subscribe: false, listChanged: false });
    await common(client, 'http');
    await client.close();
  } finally { srv.kill('SIGKILL'); }
}
done();
