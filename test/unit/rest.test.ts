// The REST layer against a small local HTTP server: 429 back-off honouring Retry-After, time-outs,
// Warning capture, and the preview guard that refuses any write without dryRun.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadKubeConfig } from '../../src/cluster/kubeconfig.js';
import { RestClient } from '../../src/cluster/rest.js';

let server: Server;
let kubeconfig: string;
let hits = 0;
before(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/busy')) {
      hits++;
      if (hits <= 2) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        return res.end(JSON.stringify({ kind: 'Status', reason: 'TooManyRequests', message: 'slow down' }));
      }
      res.writeHead(200, { 'content-type': 'application/json', warning: '299 - "first, with a comma", 299 - "second"' });
      return res.end('{"ok":true}');
    }
    if (req.url?.startsWith('/hang')) return; // never answers
    if (req.url?.startsWith('/readyz')) return res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok');
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kh-rest-'));
  kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: local\n  context: { cluster: c, user: u }\ncurrent-context: local\n`,
  );
});
after(() => server.close());

test('429 is retried after Retry-After seconds, and the warnings of the answer are kept', async () => {
  const waits: number[] = [];
  const rest = new RestClient(loadKubeConfig({ kubeconfig }), { sleep: async (ms) => void waits.push(ms) });
  const r = await rest.request<{ ok: boolean }>({ method: 'GET', path: '/busy' });
  assert.equal(r.body.ok, true);
  assert.deepEqual(r.warnings, ['first, with a comma', 'second']);
  assert.equal(waits.length, 2);
  assert.ok(
    waits.every((w) => w >= 1000 && w < 1200),
    `waits: ${waits}`,
  );
  assert.equal(rest.stats.retries, 2);
  await rest.close();
});

test('a request that gets no answer times out with a clear error', async () => {
  const rest = new RestClient(loadKubeConfig({ kubeconfig }), { timeoutMs: 300 });
  await assert.rejects(rest.request({ method: 'GET', path: '/hang' }), (e: Error & { kind?: string }) => e.kind === 'Timeout' && /timed out/.test(e.message));
  await rest.close();
});

test('read-only (preview) mode refuses any write that is not a dry-run, before sending it', async () => {
  const rest = new RestClient(loadKubeConfig({ kubeconfig }), { readOnly: true });
  await assert.rejects(rest.request({ method: 'PUT', path: '/apis/apps/v1/namespaces/a/deployments/b', body: {} }), /refusing to write in preview mode/);
  await assert.rejects(rest.request({ method: 'DELETE', path: '/api/v1/namespaces/a' }), /refusing to write in preview mode/);
  // A DELETE's body options win over its query: dryRun in the query alone is a real delete.
  await assert.rejects(
    rest.request({ method: 'DELETE', path: '/api/v1/namespaces/a', query: { dryRun: 'All' }, body: { kind: 'DeleteOptions', apiVersion: 'v1' } }),
    /refusing to write in preview mode/,
  );
  assert.equal(rest.stats.requests, 0);
  await assert.rejects(
    rest.request({
      method: 'DELETE',
      path: '/api/v1/namespaces/a',
      query: { dryRun: 'All' },
      body: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] },
    }),
    (e: Error) => !/refusing to write/.test(e.message),
  );
  await rest.close();
});

test('raw: a health endpoint answers plain text (the health gate reads /readyz this way)', async () => {
  const rest = new RestClient(loadKubeConfig({ kubeconfig }));
  assert.equal((await rest.request<string>({ method: 'GET', path: '/readyz', raw: true })).body, 'ok');
  await assert.rejects(rest.request({ method: 'GET', path: '/readyz' }), SyntaxError, 'parsed as JSON without raw');
  await rest.close();
});
