// bench/secrets/peer.mjs: the Node peer of bench/secrets.sh. What a Node 22 MCP server on
// Lambda does at a cold start with secrets: the AWS SDK v3 clients fetch the five SSM
// parameters (one GetParameters, decrypted) and the secret (GetSecretValue) named by its
// environment, as the SDKs' documentation shows, in parallel; then the hello server on the
// official MCP SDK (bench/peer/server.mjs) answers its first tools/call (add 2 3) through an
// in-memory transport, and the result is printed as one line of JSON, as `hello call` prints it.
import { SSMClient, GetParametersCommand } from '@aws-sdk/client-ssm';
import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { makeServer } from '../peer/server.mjs';

const refs = Object.entries(process.env).filter(([, v]) => v.startsWith('ssm:') || v.startsWith('secretsmanager:'));
const ssmRefs = refs.filter(([, v]) => v.startsWith('ssm:'));
const secretRefs = refs.filter(([, v]) => v.startsWith('secretsmanager:'));
const ssm = new SSMClient({});
const sm = new SecretsManagerClient({});
await Promise.all([
  ssm.send(new GetParametersCommand({ Names: ssmRefs.map(([, v]) => v.slice(4)), WithDecryption: true })).then((r) => {
    for (const [k, v] of ssmRefs) {
      const p = r.Parameters.find((x) => x.Name === v.slice(4));
      if (!p) throw new Error(`${k}=${v}: not found`);
      process.env[k] = p.Value;
    }
  }),
  ...secretRefs.map(([k, v]) => {
    const [id, key] = v.slice(15).split('#');
    return sm.send(new GetSecretValueCommand({ SecretId: id })).then((r) => {
      process.env[k] = key ? String(JSON.parse(r.SecretString)[key]) : r.SecretString;
    });
  }),
]);
const [ct, st] = InMemoryTransport.createLinkedPair();
await makeServer().connect(st);
const client = new Client({ name: 'bench', version: '1' });
await client.connect(ct);
const r = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
process.stdout.write(JSON.stringify(r) + '\n');
process.exit(0);
