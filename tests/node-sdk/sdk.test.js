// The official Feishu Node SDK (@larksuiteoapi/node-sdk, pinned in package-lock.json) against a running ExchangeBridge
// server, with only the base URL changed; and the seed page's curl example, verbatim but for its URL and token.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const lark = require('@larksuiteoapi/node-sdk');

const serverDll = process.env.EXBRIDGE_SERVER_DLL ||
  path.resolve(__dirname, '../../src/ExchangeBridge.Server/bin/Release/net10.0/ExchangeBridge.Server.dll');
const documentedId = 'ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=';
const documentedBody = {
  admin_account: 'email_admin_example@outlook.com',
  exchange_account: 'email_account_example@outlook.com',
  user_id: 'ou_xxxxxxxxxxxxxxxxxx',
};
const statuses = ['doing', 'cal_done', 'timespan_done', 'done'];

let server;
let serverLog;
let dataDir;
let baseUrl;
let bootstrap;

// LoggerLevel.fatal is 0, which the SDK's `loggerLevel || info` turns into info: silence it with a logger instead.
const quiet = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

function stopServer() {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
}
// Also when the runner dies mid-suite (an uncaught error, Ctrl-C): never leave the server behind.
process.on('exit', stopServer);

function serverOutput() {
  try {
    return fs.readFileSync(serverLog, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(no server output)';
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const listener = net.createServer();
    listener.listen(0, '127.0.0.1', () => {
      const { port } = listener.address();
      listener.close(() => resolve(port));
    });
    listener.on('error', reject);
  });
}

async function waitUntilHealthy() {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`the server exited with code ${server.exitCode}:\n${serverOutput()}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the server did not become healthy within a minute:\n${serverOutput()}`);
}

before(async () => {
  assert.ok(fs.existsSync(serverDll), `no server at ${serverDll}: build it (dotnet build -c Release) or set EXBRIDGE_SERVER_DLL`);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exbridge-node-'));
  serverLog = path.join(os.tmpdir(), `${path.basename(dataDir)}.log`);
  const logFd = fs.openSync(serverLog, 'w');
  baseUrl = `http://127.0.0.1:${await freePort()}`;
  server = spawn('dotnet', [serverDll, '--urls', baseUrl, '--data-dir', dataDir, '--demo'], {
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, Logging__LogLevel__Default: 'Warning' },
  });
  fs.closeSync(logFd); // the child holds its own copy
  await waitUntilHealthy();
  bootstrap = JSON.parse(fs.readFileSync(path.join(dataDir, 'bootstrap.json'), 'utf8'));
});

after(() => {
  stopServer();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  if (serverLog) fs.rmSync(serverLog, { force: true });
});

/** An authorization code for the super administrator, from the operator API (standing in for the login page). */
async function mintCode() {
  const answer = await fetch(`${baseUrl}/admin/v1/authorization_codes`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${bootstrap.operator_key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ app_id: bootstrap.app_id, open_id: bootstrap.admin_open_id }),
  });
  return (await answer.json()).data.code;
}

function sdkClient(options = {}) {
  return new lark.Client({
    appId: bootstrap.app_id,
    appSecret: bootstrap.app_secret,
    domain: baseUrl,
    logger: quiet,
    ...options,
  });
}

/** A user token through the SDK's default flow: it fetches its tenant token itself and sends it to the code exchange. */
async function userTokens(client) {
  const answer = await client.authen.oidcAccessToken.create({
    data: { grant_type: 'authorization_code', code: await mintCode() },
  });
  assert.equal(answer.code, 0, JSON.stringify(answer));
  assert.match(answer.data.access_token, /^u-/);
  return answer.data;
}

test('the SDK obtains tokens by itself, then creates, gets and deletes a binding', async () => {
  const client = sdkClient();
  const { access_token: userToken } = await userTokens(client);

  const created = await client.calendar.v4.exchangeBinding.create(
    { params: { user_id_type: 'open_id' }, data: documentedBody },
    lark.withUserAccessToken(userToken),
  );
  assert.equal(created.code, 0);
  assert.equal(created.msg, 'success');
  assert.deepEqual(created.data, { ...documentedBody, status: 'doing', exchange_binding_id: documentedId });

  const got = await client.calendar.v4.exchangeBinding.get(
    { params: { user_id_type: 'open_id' }, path: { exchange_binding_id: documentedId } },
    lark.withUserAccessToken(userToken),
  );
  assert.equal(got.code, 0);
  assert.equal(got.data.exchange_binding_id, documentedId);
  assert.equal(got.data.user_id, 'ou_xxxxxxxxxxxxxxxxxx');
  assert.ok(statuses.includes(got.data.status), got.data.status);

  const deleted = await client.calendar.v4.exchangeBinding.delete(
    { path: { exchange_binding_id: documentedId } },
    lark.withUserAccessToken(userToken),
  );
  assert.equal(deleted.code, 0);

  await assert.rejects(
    client.calendar.v4.exchangeBinding.get({ path: { exchange_binding_id: documentedId } }, lark.withUserAccessToken(userToken)),
    (e) => {
      assert.equal(e.name, 'AxiosError', String(e));
      assert.equal(e.response.status, 404);
      assert.equal(e.response.data.code, 195103);
      assert.equal(e.response.data.msg, 'exchange account binding is not found');
      assert.ok(e.response.headers['x-tt-logid']);
      assert.equal(e.response.data.error.log_id, e.response.headers['x-tt-logid']);
      return true;
    },
  );
});

test('the seed example as written: disableTokenCache with the token passed through withTenantToken', async () => {
  const { access_token: userToken } = await userTokens(sdkClient());
  // As on the page: "disableTokenCache: true" and lark.withTenantToken("<token>").
  const client = new lark.Client({ appId: 'app id', appSecret: 'app secret', domain: baseUrl, disableTokenCache: true,
    logger: quiet });
  const res = await client.calendar.v4.exchangeBinding.create({
    params: { user_id_type: 'open_id' },
    data: { admin_account: 'email_admin_example@outlook.com', exchange_account: 'email_account_example@outlook.com', user_id: 'ou_xxxxxxxxxxxxxxxxxx' },
  }, lark.withTenantToken(userToken));
  assert.equal(res.code, 0);
  assert.equal(res.data.exchange_binding_id, documentedId);
  assert.ok(statuses.includes(res.data.status));

  // The page's literal placeholder token is refused as the gateway refuses an invalid tenant token.
  await assert.rejects(
    client.calendar.v4.exchangeBinding.create({ params: { user_id_type: 'open_id' }, data: documentedBody },
      lark.withTenantToken('t-7f1b******8e560')),
    (e) => {
      assert.equal(e.name, 'AxiosError', String(e));
      assert.equal(e.response.status, 400);
      assert.equal(e.response.data.code, 99991663);
      return true;
    },
  );
});

test('a tenant token (the SDK default) on a user-token endpoint is refused with 99991663', async () => {
  const client = sdkClient();
  await assert.rejects(
    client.calendar.v4.exchangeBinding.get({ path: { exchange_binding_id: documentedId } }),
    (e) => e.response.status === 400 && e.response.data.code === 99991663,
  );
});

test('the user token refreshes through the SDK', async () => {
  const client = sdkClient();
  const first = await userTokens(client);
  const refreshed = await client.authen.oidcRefreshAccessToken.create({
    data: { grant_type: 'refresh_token', refresh_token: first.refresh_token },
  });
  assert.equal(refreshed.code, 0);
  assert.notEqual(refreshed.data.access_token, first.access_token);
  assert.match(refreshed.data.refresh_token, /^ur-/);
  const reused = await client.authen.oidcRefreshAccessToken.create({
    data: { grant_type: 'refresh_token', refresh_token: first.refresh_token },
  });
  assert.notEqual(reused.code, 0); // a refresh token is spent once
});

test("the seed's curl example answers the documented JSON", async () => {
  const { access_token: userToken } = await userTokens(sdkClient());
  await fetch(`${baseUrl}/open-apis/calendar/v4/exchange_bindings/${documentedId}`, {
    method: 'DELETE', headers: { Authorization: `Bearer ${userToken}` },
  });
  const output = execFileSync('curl', ['-i', '-X', 'POST', `${baseUrl}/open-apis/calendar/v4/exchange_bindings?user_id_type=open_id`,
    '-H', `Authorization: Bearer ${userToken}`,
    '-H', 'Content-Type: application/json',
    '-d', '{\n\t"admin_account": "email_admin_example@outlook.com",\n\t"exchange_account": "email_account_example@outlook.com",\n\t"user_id": "ou_xxxxxxxxxxxxxxxxxx"\n}',
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  assert.match(output, /^HTTP\/1\.1 200/);
  assert.match(output, /X-Tt-Logid: \d{14}[0-9A-F]{20}/i);
  const body = JSON.parse(output.slice(output.indexOf('\r\n\r\n') + 4));
  assert.deepEqual(body, {
    code: 0,
    msg: 'success',
    data: { ...documentedBody, status: 'doing', exchange_binding_id: documentedId },
  });
});
