// Change events pushed to an app, received by the official SDK's EventDispatcher on its HTTP adapter (adaptDefault on a
// node http server) with the same encrypt key and verification token the app registered; and the sync_token loop of the
// SDK's event list, against a server started with --demo (its simulator holds the example mailbox).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const lark = require('@larksuiteoapi/node-sdk');
const { startServer, until: untilWith, quiet } = require('./server');

const mailbox = 'email_account_example@outlook.com';
const encryptKey = 'node-sdk-test-encrypt-key';
const verificationToken = 'node-sdk-test-verification-token';
const eventPath = '/webhook/event';

let server;
let baseUrl;
let bootstrap;
let receiver;
let receiverUrl;
let employeeToken;
let calendarId;

// What the app saw. The SDK hands each event to the handler; the app drops an event_id it already handled, as the
// platform asks of apps (a redelivery keeps its event_id). `arrivals` keeps every arrival, `handled` the first of each.
const arrivals = [];
const handled = new Map();
let hold = null; // while set, each arrival waits for it before it is answered

const until = (what, condition, ms = 60_000) => untilWith(what, condition, ms, () => server.output());

async function operator(method, route, body) {
  const answer = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { Authorization: `Bearer ${bootstrap.operator_key}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await answer.json();
  assert.equal(json.code, 0, `${method} ${route}: ${JSON.stringify(json)}`);
  return json.data;
}

function sdkClient() {
  return new lark.Client({ appId: bootstrap.app_id, appSecret: bootstrap.app_secret, domain: baseUrl, logger: quiet });
}

async function userToken(client, openId) {
  const { code } = await operator('POST', '/admin/v1/authorization_codes', { app_id: bootstrap.app_id, open_id: openId });
  const answer = await client.authen.oidcAccessToken.create({ data: { grant_type: 'authorization_code', code } });
  assert.equal(answer.code, 0, JSON.stringify(answer));
  return answer.data.access_token;
}

/** The app's request URL: the SDK's dispatcher behind its own HTTP adapter, answering the URL challenge itself. */
function startReceiver() {
  const dispatcher = new lark.EventDispatcher({ encryptKey, verificationToken, logger: quiet }).register({
    'calendar.calendar.event.changed_v4': async (data) => {
      arrivals.push(data);
      if (hold) await hold;
      if (!handled.has(data.event_id)) handled.set(data.event_id, data);
      return 'ok';
    },
  });
  const adapter = lark.adaptDefault(eventPath, dispatcher, { autoChallenge: true });
  receiver = http.createServer((req, res) => {
    res.on('error', () => {}); // an answer to a killed server goes nowhere
    adapter(req, res).catch(() => res.destroy());
  });
  return new Promise((resolve) => receiver.listen(0, '127.0.0.1', () => {
    receiverUrl = `http://127.0.0.1:${receiver.address().port}${eventPath}`;
    resolve();
  }));
}

before(async () => {
  server = await startServer({
    env: {
      ExchangeBridge__Import__SyncIntervalSeconds: '1',
      ExchangeBridge__Import__PollMilliseconds: '50',
      ExchangeBridge__Events__PollMilliseconds: '50',
      // A held push is one in flight for a while; its claim outlives it, then another instance (the restarted one) takes it.
      ExchangeBridge__Events__RequestTimeoutSeconds: '10',
      ExchangeBridge__Events__LeaseSeconds: '12',
      ExchangeBridge__Events__RetryScheduleSeconds: '1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1',
    },
  });
  ({ baseUrl, bootstrap } = server);
  await startReceiver();

  // The developer console's part, through the operator API: the URL is saved once it answered the encrypted challenge.
  const settings = await operator('PUT', `/admin/v1/tenants/${bootstrap.tenant_key}/apps/${bootstrap.app_id}/event_settings`, {
    request_url: receiverUrl, verification_token: verificationToken, encrypt_key: encryptKey,
    event_types: ['calendar.calendar.event.changed_v4', 'calendar.calendar.changed_v4'],
  });
  assert.equal(settings.has_encrypt_key, true);
  assert.equal(settings.encrypt_key, undefined);

  const client = sdkClient();
  const adminToken = await userToken(client, bootstrap.admin_open_id);
  const created = await client.calendar.v4.exchangeBinding.create({
    params: { user_id_type: 'open_id' },
    data: { admin_account: 'email_admin_example@outlook.com', exchange_account: mailbox, user_id: 'ou_xxxxxxxxxxxxxxxxxx' },
  }, lark.withUserAccessToken(adminToken));
  assert.equal(created.code, 0, JSON.stringify(created));
  await until('the import', async () => {
    const got = await client.calendar.v4.exchangeBinding.get({ path: { exchange_binding_id: created.data.exchange_binding_id } },
      lark.withUserAccessToken(adminToken));
    return got.data.status === 'done';
  });

  employeeToken = await userToken(client, 'ou_xxxxxxxxxxxxxxxxxx');
  const calendars = await client.calendar.v4.calendar.list({ params: { page_size: 50 } }, lark.withUserAccessToken(employeeToken));
  calendarId = calendars.data.calendar_list.find((c) => c.summary === 'Calendar').calendar_id;
  const subscribed = await client.calendar.v4.calendarEvent.subscription({ path: { calendar_id: calendarId } },
    lark.withUserAccessToken(employeeToken));
  assert.equal(subscribed.code, 0, JSON.stringify(subscribed));
});

after(async () => {
  await server?.stop();
  if (receiver) await new Promise((resolve) => receiver.close(resolve));
});

/** One sync_token round through the SDK: every page from `syncToken` ('' lists in full) until the page with the next token. */
async function syncRound(syncToken) {
  const client = sdkClient();
  const items = [];
  let pageToken = '';
  for (;;) {
    const page = await client.calendar.v4.calendarEvent.list({
      path: { calendar_id: calendarId },
      params: { page_size: 50, ...(pageToken ? { page_token: pageToken } : { sync_token: syncToken || undefined }) },
    }, lark.withUserAccessToken(employeeToken));
    assert.equal(page.code, 0, JSON.stringify(page));
    items.push(...(page.data.items || []));
    if (!page.data.has_more) return { items, syncToken: page.data.sync_token };
    pageToken = page.data.page_token;
  }
}

function meeting(subject, dayOffset) {
  const start = new Date(Date.now() + dayOffset * 86_400_000);
  start.setUTCMinutes(0, 0, 0);
  return { subject, start: start.toISOString(), end: new Date(start.getTime() + 3_600_000).toISOString() };
}

const item = (id) => `/admin/v1/demo/simulator/mailboxes/${mailbox}/items/${id}`;
const changesOf = (eventId) => [...handled.values()].filter((e) => e.calendar_event_id === eventId).map((e) => e.change_type);

test('the dispatcher receives changed_v4 for a create, an update and a delete, and a sync_token loop sees them', async () => {
  let { syncToken } = await syncRound('');

  await operator('PUT', item('node-events-1'), meeting('Node planning', 3));
  const created = await until('the create in the sync', async () => {
    const round = await syncRound(syncToken);
    const found = round.items.find((e) => e.summary === 'Node planning');
    if (found) syncToken = round.syncToken;
    return found;
  });
  assert.equal(created.status, 'confirmed');
  await until('the create event', () => changesOf(created.event_id).includes('create'));

  await operator('PUT', item('node-events-1'), meeting('Node planning (moved)', 4));
  const updated = await until('the update in the sync', async () => {
    const round = await syncRound(syncToken);
    const found = round.items.find((e) => e.event_id === created.event_id && e.summary === 'Node planning (moved)');
    if (found) syncToken = round.syncToken;
    return found;
  });
  assert.equal(updated.status, 'confirmed');
  await until('the update event', () => changesOf(created.event_id).includes('update'));

  await operator('DELETE', item('node-events-1'));
  const deleted = await until('the delete in the sync', async () => {
    const round = await syncRound(syncToken);
    return round.items.find((e) => e.event_id === created.event_id && e.status === 'cancelled');
  });
  assert.equal(deleted.event_id, created.event_id);
  await until('the delete event', () => changesOf(created.event_id).includes('delete'));

  assert.deepEqual(changesOf(created.event_id), ['create', 'update', 'delete']);
  for (const event of [...handled.values()].filter((e) => e.calendar_event_id === created.event_id)) {
    assert.equal(event.event_type, 'calendar.calendar.event.changed_v4');
    assert.equal(event.schema, '2.0');
    assert.equal(event.token, verificationToken);
    assert.equal(event.app_id, bootstrap.app_id);
    assert.equal(event.tenant_key, bootstrap.tenant_key);
    assert.equal(event.calendar_id, calendarId);
    assert.equal(event.user_id_list[0].open_id, 'ou_xxxxxxxxxxxxxxxxxx');
  }
});

test('a SIGKILL of the server mid-delivery loses nothing: every event arrives, each change under one event_id', async () => {
  // Every push is held unanswered until the three changes are in the log; then the server dies with one in flight.
  let release;
  hold = new Promise((resolve) => { release = resolve; });
  const before = arrivals.length;
  let { syncToken } = await syncRound('');

  await operator('PUT', item('node-events-2'), meeting('Node retro', 5));
  const created = await until('the create in the log', async () => {
    const round = await syncRound(syncToken);
    return round.items.find((e) => e.summary === 'Node retro');
  });
  await operator('PUT', item('node-events-2'), meeting('Node retro (moved)', 6));
  await until('the update in the log', async () => (await syncRound(syncToken)).items
    .some((e) => e.event_id === created.event_id && e.summary === 'Node retro (moved)'));
  await operator('DELETE', item('node-events-2'));
  await until('the delete in the log', async () => (await syncRound(syncToken)).items
    .some((e) => e.event_id === created.event_id && e.status === 'cancelled'));

  await until('a push in flight', () => arrivals.length > before);
  const inFlight = arrivals[arrivals.length - 1].event_id;
  await server.kill();
  const arrivalsAtKill = arrivals.length;
  hold = null;
  release();

  await server.restart();
  await until('every change delivered after the restart', () => changesOf(created.event_id).length === 3, 90_000);

  assert.deepEqual(changesOf(created.event_id), ['create', 'update', 'delete']);
  // The push that was in flight came again with its event_id; the app handled it once.
  assert.ok(arrivals.slice(arrivalsAtKill).some((a) => a.event_id === inFlight), 'the push in flight was not sent again after the restart');
  assert.equal([...handled.keys()].filter((id) => id === inFlight).length, 1);
  // One event_id per change: whatever arrived twice arrived under the same id.
  const ids = new Map();
  for (const a of arrivals.filter((x) => x.calendar_event_id === created.event_id)) {
    const known = ids.get(a.change_type) || new Set();
    known.add(a.event_id);
    ids.set(a.change_type, known);
  }
  assert.deepEqual([...ids.entries()].map(([type, set]) => [type, set.size]), [['create', 1], ['update', 1], ['delete', 1]]);
});
