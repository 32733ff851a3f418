// server.mjs: the hello server of examples/hello.c, written with the official MCP TypeScript
// SDK (McpServer, zod schemas): tools add and greet, the resource hello://readme, the
// template hello://users/{id}, the prompt review. Same names, descriptions and answers.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod/v4';

// C's printf("%g"): six significant digits, trailing zeros dropped, exponent when < 1e-4 or
// >= 1e6 (mcp.c's add answers with "%g").
export function formatG(x) {
  if (Number.isNaN(x)) return x < 0 ? '-nan' : 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [m, e] = x.toExponential(5).split('e');
  const exp = Number(e);
  const trim = (s) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 6) return `${trim(m)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return trim(x.toFixed(5 - exp));
}

export function makeServer() {
  const server = new McpServer({ name: 'hello', version: '1.0.0' });
  server.registerTool('add', {
    description: 'Add two numbers',
    inputSchema: { a: z.number(), b: z.number() },
  }, async ({ a, b }) => ({ content: [{ type: 'text', text: formatG(a + b) }] }));
  server.registerTool('greet', {
    description: 'Greet someone by name',
    inputSchema: { name: z.string().optional() },
  }, async ({ name }) => ({ content: [{ type: 'text', text: `Hello, ${name ?? 'world'}!` }] }));
  server.registerResource('readme', 'hello://readme', {
    description: 'What this server offers', mimeType: 'text/plain',
  }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'hello is a demo server: tools add and greet, this resource, one prompt.' }],
  }));
  server.registerResource('user', new ResourceTemplate('hello://users/{id}', { list: undefined }), {
    description: "A user's profile", mimeType: 'application/json',
  }, async (uri, { id }) => ({
    contents: [{ uri: uri.href, mimeType: 'application/json', text: `{"user":"${id}"}` }],
  }));
  server.registerPrompt('review', {
    description: 'Ask for a code review',
    argsSchema: { code: z.string(), language: z.string().optional() },
  }, ({ code, language }) => ({
    description: 'Ask for a code review',
    messages: [{ role: 'user', content: { type: 'text', text: `Please review this ${language ?? ''} code:\n${code}` } }],
  }));
  return server;
}
