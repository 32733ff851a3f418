// lists.mjs: lists that change while serving, against the official MCP TypeScript SDK
// client over stdio: build/conformance's test_add_entries adds a tool, a resource and a
// prompt, test_remove_entries removes them; each change reaches the client as
// notifications/{tools,resources,prompts}/list_changed, and the lists read after it show it.
// Over Streamable HTTP listChanged is false (no channel between requests). Exact results.
//
//   . test/node.sh && "$NODE22" test/lists.mjs build/conformance
import path from 'node:path';
import { checks } from './checks.mjs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema, ResourceListChangedNotificationSchema, PromptListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const BINARY = path.resolve(process.argv[2] || 'build/conformance');
const { eq, within, sleep, done } = checks(30);

const client = new Client({ name: 'lists-test', version: '1.0.0' });
const seen = [];
client.setNotificationHandler(ToolListChangedNotificationSchema, () => seen.push('tools'));
client.setNotificationHandler(ResourceListChangedNotificationSchema, () => seen.push('resources'));
client.setNotificationHandler(PromptListChangedNotificationSchema, () => seen.push('prompts'));
await client.connect(new StdioClientTransport({ command: BINARY, args: ['stdio'] }));
const caps = client.getServerCapabilities();
eq('stdio: listChanged declared for tools, resources and prompts', [caps.tools.listChanged, caps.resources.listChanged, caps.prompts.listChanged], [true, true, true]);
const names = async () => [
  (await client.listTools()).tools.some((t) => t.name === 'dynamic_echo'),
  (await client.listResources()).resources.some((r) => r.uri === 'test://dynamic'),
  (await client.listPrompts()).prompts.some((p) => p.name === 'dynamic_prompt'),
];
eq('before: none of the three is listed', await names(), [false, false, false]);
eq('no notification before a change', seen, []);
eq('test_add_entries', (await client.callTool({ name: 'test_add_entries', arguments: {} })).content, [{ type: 'text', text: 'added' }]);
for (let i = 0; i < 100 && seen.length < 3; i++) await sleep(20);
eq('after adding: tools, resources and prompts list_changed, in that order', seen, ['tools', 'resources', 'prompts']);
eq('after adding: all three are listed', await names(), [true, true, true]);
eq('the added tool answers', (await client.callTool({ name: 'dynamic_echo', arguments: { text: 'hi' } })).content, [{ type: 'text', text: 'hi' }]);
eq('the added resource reads', (await client.readResource({ uri: 'test://dynamic' })).contents[0].text, 'a document added while serving');
seen.length = 0;
eq('test_remove_entries', (await client.callTool({ name: 'test_remove_entries', arguments: {} })).content, [{ type: 'text', text: 'removed' }]);
for (let i = 0; i < 100 && seen.length < 3; i++) await sleep(20);
eq('after removing: three list_changed notifications', seen, ['tools', 'resources', 'prompts']);
eq('after removing: none is listed', await names(), [false, false, false]);
const gone = await client.callTool({ name: 'dynamic_echo', arguments: { text: 'hi' } }).then((r) => r, (e) => ({ code: e.code }));
eq('the removed tool is unknown (-32602)', gone, { code: -32602 });
eq('removing again: a tool error', (await client.callTool({ name: 'test_remove_entries', arguments: {} })).isError, true);
await client.close();
done();
