// The official Feishu Node SDK (@larksuiteoapi/node-sdk, pinned in package-lock.json) against a running ExchangeBridge
// server, with only the base URL changed; and the seed page's curl example, verbatim but for its URL and token.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const lark = require('@larksuiteoapi/node-sdk');
const shared = require('./server');

const { quiet } = shared;
const documentedId = 'ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=';
const documentedBody = {
  admin_account: 'email_admin_example@outlook.com',
  exchange_account: 'email_account_example@outlook.com',
  user_id: 'ou_xxxxxxxxxxxxxxxxxx',
};
const statuses = ['doing', 'cal_done', 'timespan_done', 'done'];

let server;
let baseUrl;

before(async () => {
  server = await shared.startServer();
  baseUrl = server.baseUrl;
});

after(() => server?.stop());

const mintCode = () => shared.mintCode(server);
const sdkClient = (options = {}) => shared.sdkClient(server, options);

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
