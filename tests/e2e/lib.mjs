// Helpers of the end-to-end scenario: HTTP against Home Assistant, the provider and the API,
// waiting, and the browser.
import fs from 'node:fs/promises';
import path from 'node:path';

import { chromium } from 'playwright-core';

export const env = {
  haUrl: process.env.E2E_HA_URL ?? 'http://127.0.0.1:18123',
  haVersion: process.env.E2E_HA_VERSION ?? '?',
  // The redirect URI Home Assistant sends with `my` loaded (default_config).
  redirectUri: process.env.E2E_REDIRECT_URI ?? 'https://my.home-assistant.io/redirect/oauth',
  issuer: process.env.E2E_ISSUER ?? 'http://127.0.0.1:13000',
  apiUrl: process.env.E2E_API_URL ?? 'http://127.0.0.1:13001',
  // The repo's demo provider (client credentials, device login), a second issuer.
  demoUrl: process.env.E2E_DEMO_URL ?? 'http://127.0.0.1:13002',
  demoTtl: Number(process.env.E2E_DEMO_TTL ?? 40),
  accessTtl: Number(process.env.E2E_ACCESS_TTL ?? 20),
  haConfig: process.env.E2E_HA_CONFIG ?? '',
  artifacts: process.env.E2E_ARTIFACTS ?? 'artifacts/e2e',
  chromium: process.env.E2E_CHROMIUM ?? '/usr/bin/chromium',
  headed: process.env.E2E_HEADED === '1',
  deadline: Number(process.env.E2E_DEADLINE_MS ?? Date.now() + 9 * 60 * 1000),
};

export const HA_USER = { name: 'E2E Admin', username: 'e2e', password: 'e2e-password-1' };
export const CLIENT = { id: 'ha-e2e', secret: 'ha-e2e-secret' };
export const DEMO_CLIENT = { id: 'home-assistant', secret: 'demo-secret' };
export const DEMO_LOGIN = { username: 'demo', password: 'demo' };

export const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

export function log(...args) {
  const t = new Date().toISOString().slice(11, 19);
  console.log(`${t} [e2e]`, ...args);
}

/** Poll fn until it returns a truthy value; throw with the last error after timeoutMs. */
export async function waitFor(what, fn, { timeoutMs = 30000, intervalMs = 500 } = {}) {
  const until = Math.min(Date.now() + timeoutMs, env.deadline);
  let last;
  while (Date.now() < until) {
    try {
      const value = await fn();
      if (value) return value;
      last = undefined;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`
    + (last ? `: ${last.message ?? last}` : ''));
}

export async function request(url, { method = 'GET', token, json, form, timeoutMs = 15000 } = {}) {
  const headers = {};
  let body;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = new URLSearchParams(form);
  }
  const resp = await fetch(url, {
    method, headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual',
  });
  const text = await resp.text();
  let data = text;
  try { data = JSON.parse(text); } catch { /* not JSON */ }
  if (!resp.ok) {
    const err = new Error(`${method} ${url}: HTTP ${resp.status} ${text.slice(0, 300)}`);
    err.status = resp.status;
    throw err;
  }
  return data;
}

/** Home Assistant's REST API, as the onboarded admin. */
export class HomeAssistant {
  constructor(url) {
    this.url = url;
    this.token = null;
  }

  api(pathname, opts = {}) {
    return request(`${this.url}${pathname}`, { token: this.token, ...opts });
  }

  async waitUntilUp(timeoutMs) {
    await waitFor('Home Assistant to serve HTTP', () => request(`${this.url}/api/onboarding`, { timeoutMs: 3000 }), { timeoutMs, intervalMs: 1000 });
  }

  /** Onboard through the API (what the onboarding pages post), keep an access token. */
  async onboard() {
    const clientId = `${this.url}/`;
    const { auth_code: code } = await this.api('/api/onboarding/users', {
      method: 'POST',
      json: { client_id: clientId, language: 'en', ...HA_USER },
    });
    const tokens = await this.api('/auth/token', {
      method: 'POST', form: { grant_type: 'authorization_code', code, client_id: clientId },
    });
    this.token = tokens.access_token;
    await this.api('/api/onboarding/core_config', { method: 'POST', json: {} });
    await this.api('/api/onboarding/analytics', { method: 'POST', json: {} });
    await this.api('/api/onboarding/integration', {
      method: 'POST', json: { client_id: clientId, redirect_uri: `${this.url}/?auth_callback=1` },
    });
  }

  /** Log in as the admin through the login flow API (when already onboarded). */
  async login() {
    const clientId = `${this.url}/`;
    const flow = await this.api('/auth/login_flow', {
      method: 'POST',
      json: { client_id: clientId, handler: ['homeassistant', null], redirect_uri: `${this.url}/` },
    });
    const done = await this.api(`/auth/login_flow/${flow.flow_id}`, {
      method: 'POST',
      json: { client_id: clientId, username: HA_USER.username, password: HA_USER.password },
    });
    const tokens = await this.api('/auth/token', {
      method: 'POST',
      form: { grant_type: 'authorization_code', code: done.result, client_id: clientId },
    });
    this.token = tokens.access_token;
  }

  states() { return this.api('/api/states'); }

  async state(entityId) {
    try {
      return await this.api(`/api/states/${entityId}`);
    } catch (err) {
      if (err.status === 404) return null;
      throw err;
    }
  }

  async entries(domain) {
    const all = await this.api(`/api/config/config_entries/entry?domain=${domain}`);
    return all.filter((e) => e.domain === domain);
  }

  flowsInProgress() { return this.api('/api/config/config_entries/flow'); }
}

/** The integration's entry as HA stores it (token, expires_at) from .storage. */
export async function storedEntry(haConfig, domain, entryId = null) {
  const file = path.join(haConfig, '.storage', 'core.config_entries');
  const data = JSON.parse(await fs.readFile(file, 'utf8'));
  return data.data.entries.find(
    (e) => e.domain === domain && (entryId === null || e.entry_id === entryId),
  ) ?? null;
}

export function providerStats() { return request(`${env.issuer}/e2e/stats`); }
export function revokeAllGrants() { return request(`${env.issuer}/e2e/revoke-grants`, { method: 'POST' }); }

export async function launchBrowser() {
  return chromium.launch({
    executablePath: env.chromium,
    headless: !env.headed,
    timeout: 60000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
