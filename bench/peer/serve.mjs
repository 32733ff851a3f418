// serve.mjs: the SDK server over the SDK's own Streamable HTTP server (Express through
// createMcpExpressApp, stateless, JSON responses; a new server and transport per request,
// as the SDK's simpleStatelessStreamableHttp example does).
//   node serve.mjs [--listen HOST:PORT]       (default 127.0.0.1:8080)
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { makeServer } from './server.mjs';

const i = process.argv.indexOf('--listen');
const [host, port] = (i > 0 ? process.argv[i + 1] : '127.0.0.1:8080').split(':');
const app = createMcpExpressApp({ host });
app.post('/mcp', async (req, res) => {
  const server = makeServer();
  try {
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => { transport.close(); server.close(); });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  } catch (e) {
    if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null });
  }
});
const notAllowed = (req, res) => res.status(405).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
app.get('/mcp', notAllowed);
app.delete('/mcp', notAllowed);
app.listen(Number(port), host, () => console.error(`peer: listening on http://${host}:${port}/mcp`));
