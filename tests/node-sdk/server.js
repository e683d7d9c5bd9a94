// A fresh ExchangeBridge server process for a Node SDK test file (--demo, on its own SQLite data folder), and the calls
// every file needs: the SDK client pointed at it, and authorization codes from the operator API.
'use strict';
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const lark = require('@larksuiteoapi/node-sdk');

const serverDll = process.env.EXBRIDGE_SERVER_DLL ||
  path.resolve(__dirname, '../../src/ExchangeBridge.Server/bin/Release/net10.0/ExchangeBridge.Server.dll');

// LoggerLevel.fatal is 0, which the SDK's `loggerLevel || info` turns into info: silence it with a logger instead.
const quiet = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

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

/**
 * Starts the server and waits (a minute at most) until /healthz answers. `env` adds settings of the test file's own
 * (ExchangeBridge__…). `kill()` SIGKILLs it and keeps its folder, `restart()` starts it again on the same folder and port,
 * `stop()` kills it and removes its folder.
 */
async function startServer({ env = {} } = {}) {
  assert.ok(fs.existsSync(serverDll), `no server at ${serverDll}: build it (dotnet build -c Release) or set EXBRIDGE_SERVER_DLL`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exbridge-node-'));
  const serverLog = path.join(os.tmpdir(), `${path.basename(dataDir)}.log`);
  const baseUrl = `http://127.0.0.1:${await freePort()}`;
  let child = null;
  const output = () => {
    try {
      return fs.readFileSync(serverLog, 'utf8').split('\n').slice(-40).join('\n');
    } catch {
      return '(no server output)';
    }
  };
  /** SIGKILL, and resolves once the process is gone. */
  const kill = () => new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
  // Also when the runner dies mid-suite (an uncaught error, Ctrl-C): never leave the server behind.
  process.on('exit', () => child?.kill('SIGKILL'));
  const launch = async () => {
    const logFd = fs.openSync(serverLog, 'a');
    child = spawn('dotnet', [serverDll, '--urls', baseUrl, '--data-dir', dataDir, '--demo'], {
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, Logging__LogLevel__Default: 'Warning', ...env },
    });
    fs.closeSync(logFd); // the child holds its own copy
    const started = child;
    await until('the server start', async () => {
      if (started.exitCode !== null) throw new Error(`the server exited with code ${started.exitCode}:\n${output()}`);
      try {
        return (await fetch(`${baseUrl}/healthz`)).ok;
      } catch {
        return false; // not listening yet
      }
    }, 60_000, output);
  };
  await launch();
  return {
    baseUrl,
    bootstrap: JSON.parse(fs.readFileSync(path.join(dataDir, 'bootstrap.json'), 'utf8')),
    output,
    kill,
    restart: launch,
    async stop() {
      await kill();
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(serverLog, { force: true });
    },
  };
}

/** Waits, a bounded time, for `condition` to give a truthy value (a wait on a condition, not a sleep for timing). */
async function until(what, condition, ms = 60_000, output = () => '') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** An authorization code for a user (the super administrator unless told), from the operator API (standing in for the login page). */
async function mintCode(server, openId = server.bootstrap.admin_open_id) {
  const answer = await fetch(`${server.baseUrl}/admin/v1/authorization_codes`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.bootstrap.operator_key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ app_id: server.bootstrap.app_id, open_id: openId }),
  });
  return (await answer.json()).data.code;
}

function sdkClient(server, options = {}) {
  return new lark.Client({
    appId: server.bootstrap.app_id,
    appSecret: server.bootstrap.app_secret,
    domain: server.baseUrl,
    logger: quiet,
    ...options,
  });
}

module.exports = { startServer, until, mintCode, sdkClient, quiet };
