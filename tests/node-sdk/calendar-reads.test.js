// The calendar reads of issue 17 through the official Node SDK's own methods: the demo mailbox (a weekly sync with a
// moved and a deleted occurrence, a kick-off with attendees, an all-day holiday) imported, then read as its owner would
// (instance view, a series' instances, attendees, search) and as a colleague would (free/busy, times only).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const lark = require('@larksuiteoapi/node-sdk');
const shared = require('./server');

const documentedBody = {
  admin_account: 'email_admin_example@outlook.com',
  exchange_account: 'email_account_example@outlook.com',
  user_id: 'ou_xxxxxxxxxxxxxxxxxx',
};
const employee = documentedBody.user_id;
const day = 24 * 3600;

let server;
let client;
let adminToken;
let employeeToken;
let calendarId;

async function userToken(openId) {
  const answer = await client.authen.oidcAccessToken.create({
    data: { grant_type: 'authorization_code', code: await shared.mintCode(server, openId) },
  });
  assert.equal(answer.code, 0, JSON.stringify(answer));
  return answer.data.access_token;
}

/** Polls the binding until its import is done (a minute at most). */
async function waitUntilImported() {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await client.calendar.v4.exchangeBinding.get(
      { params: { user_id_type: 'open_id' }, path: { exchange_binding_id: created.exchange_binding_id } },
      lark.withUserAccessToken(adminToken));
    if (got.data.status === 'done') return;
    assert.ok(Date.now() < deadline, `the import did not finish within a minute: ${got.data.status}\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let created;

before(async () => {
  server = await shared.startServer();
  client = shared.sdkClient(server);
  adminToken = await userToken(server.bootstrap.admin_open_id);
  created = (await client.calendar.v4.exchangeBinding.create(
    { params: { user_id_type: 'open_id' }, data: documentedBody }, lark.withUserAccessToken(adminToken))).data;
  await waitUntilImported();
  employeeToken = await userToken(employee);
  const calendars = await client.calendar.v4.calendar.list({}, lark.withUserAccessToken(employeeToken));
  calendarId = calendars.data.calendar_list.find((c) => c.summary === 'Calendar').calendar_id;
});

after(() => server?.stop());

/** The demo's weekly sync starts on the Monday after the server started, 01:00 UTC; a range from now covers it. */
const now = () => Math.floor(Date.now() / 1000);

test('instanceView expands the weekly sync with its moved and deleted occurrences', async () => {
  const view = await client.calendar.v4.calendarEvent.instanceView({
    path: { calendar_id: calendarId },
    params: { start_time: String(now()), end_time: String(now() + 30 * day), user_id_type: 'open_id' },
  }, lark.withUserAccessToken(employeeToken));
  assert.equal(view.code, 0, JSON.stringify(view));
  const syncs = view.data.items.filter((i) => i.summary.startsWith('Weekly sync'));
  assert.ok(syncs.length >= 4, JSON.stringify(syncs));
  const series = syncs[0].recurring_event_id;
  assert.match(series, /_0$/);
  for (const sync of syncs) {
    assert.equal(sync.recurring_event_id, series);
    assert.equal(sync.event_id, `${series.slice(0, -2)}_${sync.event_id.split('_').pop()}`);
  }
  assert.ok(syncs.some((s) => s.summary === 'Weekly sync (moved)' && s.is_exception));
  assert.ok(syncs.some((s) => s.status === 'cancelled'));
  assert.ok(view.data.items.some((i) => i.summary === 'Project kick-off'));

  await assert.rejects(client.calendar.v4.calendarEvent.instanceView({
    path: { calendar_id: calendarId }, params: { start_time: String(now()), end_time: String(now() + 41 * day) },
  }, lark.withUserAccessToken(employeeToken)), (e) => e.response.data.code === 193103);
});

test("instances pages through one series' occurrences", async () => {
  const events = await client.calendar.v4.calendarEvent.list({ path: { calendar_id: calendarId } }, lark.withUserAccessToken(employeeToken));
  const series = events.data.items.find((e) => e.summary === 'Weekly sync' && e.recurrence);
  const ids = [];
  let pageToken;
  do {
    const page = await client.calendar.v4.calendarEvent.instances({
      path: { calendar_id: calendarId, event_id: series.event_id },
      params: { start_time: String(now() - 7 * day), end_time: String(now() + 100 * day), page_size: 10, page_token: pageToken },
    }, lark.withUserAccessToken(employeeToken));
    assert.equal(page.code, 0, JSON.stringify(page));
    ids.push(...page.data.items.map((i) => i.event_id));
    pageToken = page.data.has_more ? page.data.page_token : undefined;
  } while (pageToken);
  assert.equal(ids.length, 12); // a numbered series of 12, the moved and the deleted among them
  assert.equal(new Set(ids).size, 12);
});

test('a colleague reads free/busy (list and batch) with include_external_calendar: times only', async () => {
  const timeMin = new Date(now() * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const timeMax = new Date((now() + 14 * day) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const list = await client.calendar.v4.freebusy.list({
    params: { user_id_type: 'open_id' },
    data: { time_min: timeMin, time_max: timeMax, user_id: employee, include_external_calendar: true, only_busy: true },
  }, lark.withUserAccessToken(adminToken));
  assert.equal(list.code, 0, JSON.stringify(list));
  assert.ok(list.data.freebusy_list.length >= 3, JSON.stringify(list.data));
  for (const item of list.data.freebusy_list) {
    assert.deepEqual(Object.keys(item).sort(), ['end_time', 'start_time']);
    assert.ok(Date.parse(item.start_time) < Date.parse(item.end_time));
  }
  assert.doesNotMatch(JSON.stringify(list.data), /Weekly sync|kick-off|Room 101/);

  const batch = await client.calendar.v4.freebusy.batch({
    params: { user_id_type: 'open_id' },
    data: { time_min: timeMin, time_max: timeMax, user_ids: [server.bootstrap.admin_open_id, employee], include_external_calendar: true },
  }, lark.withUserAccessToken(employeeToken));
  assert.equal(batch.code, 0, JSON.stringify(batch));
  assert.deepEqual(batch.data.freebusy_lists.map((l) => l.user_id), [server.bootstrap.admin_open_id, employee]);
  assert.deepEqual(batch.data.freebusy_lists[0].freebusy_items, []);
  assert.deepEqual(batch.data.freebusy_lists[1].freebusy_items, list.data.freebusy_list);
});

test('attendees are listed page by page and search finds the kick-off', async () => {
  const found = await client.calendar.v4.calendarEvent.search({
    path: { calendar_id: calendarId }, params: { page_size: 10 }, data: { query: 'kick-off' },
  }, lark.withUserAccessToken(employeeToken));
  assert.equal(found.code, 0, JSON.stringify(found));
  assert.deepEqual(found.data.items.map((i) => i.summary), ['Project kick-off']);

  const attendees = [];
  for await (const page of await client.calendar.v4.calendarEventAttendee.listWithIterator({
    path: { calendar_id: calendarId, event_id: found.data.items[0].event_id }, params: { page_size: 10 },
  }, lark.withUserAccessToken(employeeToken))) {
    attendees.push(...page.items);
  }
  assert.deepEqual(attendees.map((a) => a.third_party_email).sort(), ['alisa@example.com', 'email_account_example@outlook.com']);
});
