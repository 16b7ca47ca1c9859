// The end-to-end scenario, run by tests/e2e/run once oidc-provider, the demo API and Home
// Assistant are started. Drives Chromium through Home Assistant's own frontend; HTTP APIs are
// only used to onboard, to observe (states, stored tokens, provider counters) and to revoke the
// grant at the provider, plus as a clearly reported fallback where a UI step cannot be driven.
import fs from 'node:fs/promises';
import path from 'node:path';

import {
  CLIENT, DEMO_CLIENT, DEMO_LOGIN, HA_USER, HomeAssistant, env, launchBrowser, log,
  providerStats, request, revokeAllGrants, sleep, storedEntry, waitFor,
} from './lib.mjs';

const DOMAIN = 'oauth2_rest';
const ENDPOINT_NAME = 'E2E counter';
const SCOPES = 'openid offline_access profile api';
const PROVIDER_LOGIN = { login: 'alice', password: 'wonderland' };
const UI_TIMEOUT = 20000;

const shotsDir = path.join(env.artifacts, 'screenshots');
const results = { ui: 0, api: 0, failed: 0, scenarios: 0, scenarioFailed: 0, fallbacks: [] };
let page;
let context;
let myForwards = [];
// The redirect URI each place showed the user.
const shownRedirect = {};
let shotIndex = 0;
const ha = new HomeAssistant(env.haUrl);

// Screenshots that make good README pictures are also saved under stable names in
// artifacts/e2e/docs/ (`tests/e2e/run --update-screenshots` copies them to docs/screenshots/).
const DOCS_SHOTS = {
  credentials: 'link-account-credentials',
  'endpoint-preview': 'endpoint-preview',
  'sensor-more-info': 'sensor-value',
  'account-device': 'account-health',
  'pick-values': 'pick-values',
  'device-login-qr': 'device-login-qr',
};

async function screenshot(name, target = page) {
  if (!target || target.isClosed()) return;
  shotIndex += 1;
  const file = path.join(shotsDir, `${String(shotIndex).padStart(2, '0')}-${name}.png`);
  try {
    await target.screenshot({ path: file, timeout: 10000 });
    if (DOCS_SHOTS[name]) {
      await fs.mkdir(path.join(env.artifacts, 'docs'), { recursive: true });
      await fs.copyFile(file, path.join(env.artifacts, 'docs', `${DOCS_SHOTS[name]}.png`));
    }
  } catch (err) {
    log(`  (screenshot ${name} failed: ${err.message})`);
  }
}

/** A picture of one element (the docs copy under its own name, see DOCS_SHOTS). */
async function cardScreenshot(locator, name) {
  await fs.mkdir(path.join(env.artifacts, 'docs'), { recursive: true });
  shotIndex += 1;
  const file = path.join(shotsDir, `${String(shotIndex).padStart(2, '0')}-${name}.png`);
  await locator.screenshot({ path: file, timeout: 10000 });
  await fs.copyFile(file, path.join(env.artifacts, 'docs', `${name}.png`));
}

/** One step: kind 'ui' (drives the browser) or 'api' (HTTP only). */
async function step(kind, name, fn) {
  const t0 = Date.now();
  try {
    const note = await fn();
    results[kind] += 1;
    log(`  ok   [${kind}] ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)${note ? ` - ${note}` : ''}`);
  } catch (err) {
    results.failed += 1;
    log(`  FAIL [${kind}] ${name}: ${err.stack ?? err}`);
    await screenshot(`FAILED-${name.replace(/\W+/g, '-').slice(0, 40)}`);
    for (const p of context?.pages() ?? []) if (p !== page) await screenshot('FAILED-popup', p);
    throw err;
  }
}

/**
 * A UI step that, if the UI cannot be driven, is done through HA's HTTP API instead: reported
 * loudly (and in the summary), counted as an API step, never as a browser step.
 */
async function stepWithFallback(name, uiFn, fallbackName, apiFn) {
  const t0 = Date.now();
  try {
    await uiFn();
    results.ui += 1;
    log(`  ok   [ui] ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return;
  } catch (err) {
    log(`  UI FAILED [ui] ${name}: ${err.message}`);
    await screenshot(`UI-FALLBACK-${name.replace(/\W+/g, '-').slice(0, 40)}`);
    await page.keyboard.press('Escape').catch(() => {});
  }
  results.fallbacks.push(`${name} -> ${fallbackName}`);
  await step('api', `FALLBACK (not through the UI): ${fallbackName}`, apiFn);
}

async function scenario(name, fn) {
  log(`scenario: ${name}`);
  try {
    await fn();
    results.scenarios += 1;
    log(`scenario passed: ${name}`);
  } catch (err) {
    results.scenarioFailed += 1;
    log(`scenario FAILED: ${name}`);
    throw err;
  }
}

// -- UI helpers ----------------------------------------------------------------------------

/** The open data entry flow dialog (config, options, subentry or repair flow). */
const flowDialog = () => page.locator('dialog-data-entry-flow, dialog-repairs-issue').first();

async function submit() {
  await page.getByRole('button', { name: 'Submit' }).click({ timeout: UI_TIMEOUT });
}

/** Log in and consent at oidc-provider in the window HA's external step opened. */
async function authorizeInPopup(popup) {
  await popup.waitForLoadState('domcontentloaded', { timeout: UI_TIMEOUT });
  const login = popup.locator('input[name=login]');
  const consent = popup.getByRole('button', { name: 'Continue' });
  await login.or(consent).first().waitFor({ timeout: UI_TIMEOUT });
  const closed = popup.waitForEvent('close', { timeout: UI_TIMEOUT });
  closed.catch(() => {});
  let loggedIn = false;
  if (await login.isVisible()) {
    await screenshot('provider-login', popup);
    await login.fill(PROVIDER_LOGIN.login);
    await popup.locator('input[name=password]').fill(PROVIDER_LOGIN.password);
    await popup.getByRole('button', { name: 'Sign-in' }).click();
    loggedIn = true;
  }
  await consent.waitFor({ timeout: UI_TIMEOUT });
  await screenshot('provider-consent', popup);
  await consent.click();
  // The provider redirects to my.home-assistant.io (routed to HA's /auth/external/callback, see
  // routeMyHomeAssistant), which closes the window.
  await closed;
  return loggedIn ? 'logged in + consented' : 'already logged in at the provider; consented';
}

/** The redirect URIs a form or dialog names (HA's callback or My Home Assistant's). */
async function redirectUrisIn(locator) {
  // getByText looks into shadow roots (innerText of the dialog does not).
  const shown = locator.getByText(/^\s*https?:\/\/\S+(?:\/auth\/external\/callback|\/redirect\/oauth)\s*$/);
  const texts = await shown.allInnerTexts();
  return [...new Set(texts.map((t) => t.trim()))];
}

/**
 * With `my` loaded, the provider sends the browser to my.home-assistant.io, which forwards the
 * query to the user's Home Assistant (at /auth/external/callback). Offline, this route does that.
 */
async function routeMyHomeAssistant(ctx) {
  const forwarded = [];
  await ctx.route((url) => url.href.startsWith(env.redirectUri), async (route) => {
    const { search } = new URL(route.request().url());
    forwarded.push(search);
    log(`    my.home-assistant.io -> ${env.haUrl}/auth/external/callback (${search.length} chars of query)`);
    await route.fulfill({ status: 302, headers: { location: `${env.haUrl}/auth/external/callback${search}` } });
  });
  return forwarded;
}

const ENDPOINT_REQUEST = { name: ENDPOINT_NAME, url: '/api/counter', scan_interval: 10 };
const ENDPOINT_VALUE = { name: 'Count', value_template: '{{ value_json.value }}' };

/**
 * Drive the endpoint subentry flow through the dialog, whatever its shape: one form (request +
 * template), or request -> preview -> values menu -> value form -> menu -> save. Recognises each
 * screen by what is on it; returns the screens it went through.
 */
async function driveEndpointDialog() {
  const dialog = flowDialog();
  const success = dialog.getByText(/Created configuration|Success/i).first();
  const menuAdd = dialog.getByText('Add a sensor value', { exact: true });
  const menuRequest = dialog.getByText('Enter the request', { exact: true });
  const menuSave = dialog.getByText('Save the endpoint', { exact: true });
  const urlInput = dialog.locator('input[name="url"]');
  const templateLabel = dialog.getByText('Value template', { exact: false });
  const submitButton = page.getByRole('button', { name: 'Submit' });
  const seen = [];
  let valueAdded = false;
  for (let i = 0; i < 10; i += 1) {
    await success.or(menuAdd).or(menuRequest).or(urlInput).or(submitButton).first().waitFor({ timeout: UI_TIMEOUT });
    await sleep(400); // let the dialog settle (forms render their fields after the step arrives)
    if (await success.isVisible()) {
      seen.push('created');
      return seen;
    }
    if (await menuRequest.isVisible()) {
      seen.push('menu: enter the request');
      await menuRequest.click();
      continue;
    }
    if (await menuAdd.isVisible()) {
      if (valueAdded && await menuSave.isVisible()) {
        seen.push('menu: save');
        await screenshot('endpoint-values-menu');
        await menuSave.click();
      } else {
        seen.push('menu: add sensor');
        await menuAdd.click();
      }
      continue;
    }
    const templates = dialog.locator('ha-code-editor .cm-content');
    if (await urlInput.isVisible()) {
      seen.push('request');
      await dialog.locator('input[name="name"]').fill(ENDPOINT_REQUEST.name);
      await urlInput.fill(ENDPOINT_REQUEST.url);
      const interval = dialog.getByRole('spinbutton', { name: /update interval/i });
      if (await interval.count()) await interval.first().fill(String(ENDPOINT_REQUEST.scan_interval));
      if (await templateLabel.count() && await templateLabel.first().isVisible()) {
        // Single-form flow: the value template sits on the request form (the last editor).
        await templates.last().fill(ENDPOINT_VALUE.value_template);
        valueAdded = true;
      }
      await screenshot('endpoint-request');
    } else if (await templateLabel.count() && await templateLabel.first().isVisible()) {
      seen.push('value');
      await dialog.locator('input[name="name"]').fill(ENDPOINT_VALUE.name);
      await templates.first().fill(ENDPOINT_VALUE.value_template);
      await screenshot('endpoint-value');
      valueAdded = true;
    } else {
      // Another screen (the response preview): take a picture and go on.
      const preview = await dialog.getByText(/preview/i).count();
      seen.push(preview ? 'preview' : 'other');
      await screenshot(preview ? 'endpoint-preview' : 'endpoint-step');
    }
    await submitButton.click();
    await sleep(500);
    const error = dialog.locator('ha-alert[alert-type="error"]');
    if (await error.count() && await error.first().isVisible()) {
      throw new Error(`the form reports: ${await error.first().innerText()}`);
    }
  }
  throw new Error(`the flow did not finish; screens: ${seen.join(' -> ')}`);
}

/** The endpoint subentry through HA's HTTP API (what the frontend posts), step by step. */
async function addEndpointApi(entryId = null, request = ENDPOINT_REQUEST, value = ENDPOINT_VALUE) {
  const entry = entryId ? { entry_id: entryId } : (await ha.entries(DOMAIN))[0];
  const seen = [];
  let valueAdded = false;
  let result = await ha.api('/api/config/config_entries/subentries/flow', {
    method: 'POST', json: { handler: [entry.entry_id, 'endpoint'], show_advanced_options: false },
  });
  for (let i = 0; i < 10 && ['form', 'menu'].includes(result.type); i += 1) {
    seen.push(result.step_id);
    let body;
    if (result.type === 'menu') {
      const options = Array.isArray(result.menu_options)
        ? result.menu_options : Object.keys(result.menu_options);
      let next = valueAdded && options.includes('finish') ? 'finish' : 'add_sensor';
      if (result.step_id === 'user') next = 'request'; // typed in, not a recipe or YAML
      if (!options.includes(next)) throw new Error(`menu ${result.step_id} lacks ${next}`);
      body = { next_step_id: next };
    } else {
      const known = result.step_id.endsWith('_value') ? value : { ...request, ...value, name: request.name };
      body = {};
      for (const field of result.data_schema ?? []) {
        if (field.name in known) body[field.name] = known[field.name];
        else if (field.required && field.default === undefined) {
          throw new Error(`step ${result.step_id} needs ${field.name}, which this test does not know`);
        }
      }
      if ('value_template' in body) valueAdded = true;
    }
    result = await ha.api(`/api/config/config_entries/subentries/flow/${result.flow_id}`, {
      method: 'POST', json: body,
    });
    if (result.errors && Object.keys(result.errors).length) {
      throw new Error(`step ${result.step_id}: ${JSON.stringify(result.errors)}`);
    }
  }
  if (result.type !== 'create_entry') throw new Error(`flow ended with ${result.type} after ${seen.join(' -> ')}`);
  return `subentry created over HTTP (${seen.join(' -> ')})`;
}

// -- observations --------------------------------------------------------------------------

async function endpointSensor() {
  const states = await ha.states();
  return states.find((s) => s.entity_id.startsWith('sensor.')
    && String(s.attributes.friendly_name ?? '').includes(ENDPOINT_NAME)) ?? null;
}

/** entity_id of one of the account's health sensors (by unique_id suffix), if it exists. */
async function healthSensorId(key) {
  try {
    const file = path.join(env.haConfig, '.storage', 'core.entity_registry');
    const reg = JSON.parse(await fs.readFile(file, 'utf8'));
    return reg.data.entities.find((e) => e.platform === DOMAIN && e.unique_id.endsWith(`_${key}`))
      ?.entity_id ?? null;
  } catch {
    return null;
  }
}

function isNumber(state) {
  return state !== null && /^-?\d+(\.\d+)?$/.test(String(state));
}

/** Watch the endpoint sensor and the provider for up to timeoutMs until done(obs) is true. */
async function observe(what, done, timeoutMs) {
  const obs = {
    values: [], unavailable: 0, refreshTokens: new Set(), lastRefresh: new Set(),
    start: await providerStats(), stats: null,
  };
  const lastRefreshId = await healthSensorId('last_token_refresh');
  await waitFor(what, async () => {
    const sensor = await endpointSensor();
    const value = sensor?.state ?? null;
    if (value === 'unavailable') obs.unavailable += 1;
    if (isNumber(value) && obs.values.at(-1) !== value) obs.values.push(value);
    const entry = await storedEntry(env.haConfig, DOMAIN).catch(() => null);
    if (entry?.data?.token?.refresh_token) obs.refreshTokens.add(entry.data.token.refresh_token);
    if (lastRefreshId) {
      const s = await ha.state(lastRefreshId);
      if (s && s.state !== 'unknown' && s.state !== 'unavailable') obs.lastRefresh.add(s.state);
    }
    obs.stats = await providerStats();
    return done(obs);
  }, { timeoutMs, intervalMs: 1000 });
  obs.lastRefreshId = lastRefreshId;
  return obs;
}

const refreshes = (obs) => obs.stats.refresh_token - obs.start.refresh_token;

// -- the scenarios -------------------------------------------------------------------------

let deviceEntry = null;

async function main() {
  await fs.mkdir(shotsDir, { recursive: true });
  log(`HA ${env.haVersion} at ${env.haUrl}, issuer ${env.issuer}, API ${env.apiUrl}, access tokens ${env.accessTtl} s`);

  await scenario('link an account through Home Assistant\'s UI (discovery, PKCE, login + consent)', async () => {
    await step('api', 'Home Assistant is up and onboarded through its API', async () => {
      await ha.waitUntilUp(120000);
      await ha.onboard();
      // Onboarding adds a few default integrations; the ones that need the internet fail
      // offline and would clutter the screenshots.
      for (const e of await ha.api('/api/config/config_entries/entry')) {
        if (['google_translate', 'shopping_list', 'met', 'radio_browser'].includes(e.domain)) {
          await ha.api(`/api/config/config_entries/entry/${e.entry_id}`, { method: 'DELETE' });
        }
      }
    });

    const browser = await launchBrowser();
    process.on('exit', () => { browser.close().catch(() => {}); });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(UI_TIMEOUT);
    page = await context.newPage();
    myForwards = await routeMyHomeAssistant(context);

    await step('ui', 'log in to Home Assistant', async () => {
      await page.goto(env.haUrl);
      await page.getByRole('textbox', { name: 'Username' }).fill(HA_USER.username);
      await page.getByRole('textbox', { name: 'Password' }).fill(HA_USER.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('link', { name: 'Settings' }).or(page.getByText('Settings', { exact: true }))
        .first().waitFor();
    });

    await stepWithFallback(
      'Settings -> Application credentials -> Add -> OAuth2 REST: the dialog names a redirect URI',
      async () => {
        await page.goto(`${env.haUrl}/config/application_credentials`);
        await page.getByRole('button', { name: /add application credential/i }).first().click();
        const dialog = page.locator('dialog-add-application-credential');
        await dialog.getByText(/integration/i).first().waitFor();
        await sleep(500);
        await dialog.getByText('Integration', { exact: false }).first().click();
        const search = dialog.getByRole('textbox', { name: /search/i })
          .or(dialog.locator('input[type="search"], input[placeholder*="Search" i]')).first();
        await search.waitFor();
        await search.fill('OAuth2 REST');
        // The list sits in the dialog's shadow root: Playwright's hit test sees the dialog. (Some
        // frontends list the domain until the integration's name has loaded.)
        await dialog.getByText(new RegExp(`^\\s*(OAuth2 REST|${DOMAIN})\\s*$`)).last().click({ force: true });
        const description = dialog.getByText(/redirect \(callback\) URI/i).first();
        await description.waitFor();
        const uris = await redirectUrisIn(dialog);
        if (uris.length !== 1) throw new Error(`the dialog names ${uris.length} redirect URIs: ${uris.join(', ')}`);
        [shownRedirect.dialog] = uris;
        await screenshot('application-credentials-dialog');
      },
      "application_credentials/config over the frontend's own websocket connection",
      async () => {
        const config = await page.evaluate(() => document.querySelector('home-assistant').hass
          .callWS({ type: 'application_credentials/config' }));
        shownRedirect.dialog = config.integrations[DOMAIN].description_placeholders.redirect_uri;
        return shownRedirect.dialog;
      },
    );

    await step('ui', 'Settings -> Devices & services -> Add integration -> OAuth2 REST', async () => {
      await page.goto(env.haUrl); // (away from the Application Credentials dialog)
      await page.getByText('Settings', { exact: true }).first().click();
      await page.getByText('Devices & services', { exact: true }).click();
      await page.waitForURL(/\/config\/integrations/);
      await page.getByRole('button', { name: 'Add integration' }).click();
      await page.getByText('Select brand').or(page.getByRole('dialog')).first().waitFor();
      await sleep(500);
      await page.keyboard.type('OAuth2 REST');
      // The list is in the dialog's shadow root: HA 2026.11's dialog "intercepts" the hit test.
      await page.locator('dialog-add-integration').getByText('OAuth2 REST', { exact: true }).first()
        .click({ force: true });
      await page.getByText('Discover from the issuer URL').waitFor();
      await screenshot('add-integration-menu');
    });

    await step('ui', 'menu "Discover from the issuer URL" -> issuer URL', async () => {
      await page.getByText('Discover from the issuer URL').click();
      await page.getByRole('textbox', { name: 'Issuer URL' }).fill(env.issuer);
      await submit();
    });

    await step('ui', 'what discovery found (endpoints, grants) -> "Continue"', async () => {
      await page.getByText('Grants offered', { exact: false }).first().waitFor();
      await screenshot('discovered');
      await page.getByText('Continue', { exact: true }).click();
      await page.getByRole('textbox', { name: 'Client ID' }).waitFor();
    });

    let popup;
    await step('ui', 'client id, secret, scopes, API base URL -> the authorize window opens', async () => {
      await page.getByRole('textbox', { name: 'Client ID' }).fill(CLIENT.id);
      await page.getByRole('textbox', { name: 'Client secret' }).fill(CLIENT.secret);
      await page.getByRole('textbox', { name: 'Scopes' }).fill(SCOPES);
      await page.getByRole('textbox', { name: 'API base URL' }).fill(env.apiUrl);
      await flowDialog().getByText(/redirect URI/i).first().waitFor();
      const uris = await redirectUrisIn(flowDialog());
      if (uris.length !== 1) throw new Error(`the form names ${uris.length} redirect URIs: ${uris.join(', ')}`);
      [shownRedirect.form] = uris;
      await screenshot('credentials');
      const opened = context.waitForEvent('page', { timeout: UI_TIMEOUT });
      await submit();
      popup = await opened;
      return `redirect URI shown: ${shownRedirect.form}`;
    });

    await step('ui', 'log in and consent at oidc-provider', () => authorizeInPopup(popup));

    await step('api', 'the provider got the redirect URI the form and the Application Credentials dialog show', async () => {
      // Home Assistant exchanges the code once the callback reached it.
      const got = await waitFor('Home Assistant to redeem the authorization code', async () => {
        const { redirect_uris: uris } = await providerStats();
        return uris.token.length > 0 && uris;
      }, { timeoutMs: 30000 });
      const sent = [got.authorize.at(-1), got.token.at(-1)];
      const shown = [shownRedirect.form, shownRedirect.dialog];
      if (new Set([...sent, ...shown]).size !== 1) {
        throw new Error(`shown ${JSON.stringify(shownRedirect)}, provider got ${JSON.stringify(got)}`);
      }
      if (sent[0] !== env.redirectUri) throw new Error(`${sent[0]} is not ${env.redirectUri} (is \`my\` loaded?)`);
      if (!myForwards.length) throw new Error('the browser never went through my.home-assistant.io');
      return `${sent[0]} (authorization request and code exchange; the browser went through it ${myForwards.length}x)`;
    });

    await step('ui', 'back in Home Assistant: the account entry is created', async () => {
      await flowDialog().getByText('Successfully authenticated').waitFor({ timeout: 30000 });
      await screenshot('entry-created');
      const finish = page.getByRole('button', { name: /skip and finish|finish/i });
      await finish.first().click();
      const entries = await waitFor('the entry to load', async () => {
        const list = await ha.entries(DOMAIN);
        return list.length === 1 && list[0].state === 'loaded' && list;
      });
      // HA writes .storage with a short delay.
      await waitFor('HA to store the refresh token', async () => (
        (await storedEntry(env.haConfig, DOMAIN).catch(() => null))?.data?.token?.refresh_token
      ), { timeoutMs: 20000 });
      return `entry "${entries[0].title}" loaded, refresh token stored`;
    });
  });

  await scenario('an endpoint subentry against the demo API shows the API value', async () => {
    const addEndpointUi = async () => {
      // E2E_FORCE_FALLBACK=1 exercises the HTTP fallback (to keep it working).
      if (process.env.E2E_FORCE_FALLBACK === '1') throw new Error('E2E_FORCE_FALLBACK=1');
      await page.goto(`${env.haUrl}/config/integrations/integration/${DOMAIN}`);
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const seen = await driveEndpointDialog();
      log(`    screens: ${seen.join(' -> ')}`);
      await screenshot('endpoint-created');
      await page.getByRole('button', { name: 'Finish' }).click();
    };
    await stepWithFallback(
      'integration page -> Add endpoint -> fill the form(s) -> created',
      addEndpointUi,
      'subentry flow over /api/config/config_entries/subentries/flow',
      addEndpointApi,
    );

    let sensor;
    await step('api', 'the sensor has a numeric value from the API (/api/states)', async () => {
      sensor = await waitFor('the endpoint sensor to show a number', async () => {
        const s = await endpointSensor();
        return s && isNumber(s.state) && s;
      }, { timeoutMs: 30000 });
      return `${sensor.entity_id} = ${sensor.state}`;
    });

    await step('ui', 'the sensor value shows in Home Assistant\'s UI', async () => {
      // (The dialog just closed may still move the page back: go until it stays there.)
      await waitFor('the entities page', async () => {
        if (!page.url().includes('/config/entities')) await page.goto(`${env.haUrl}/config/entities`);
        await sleep(500);
        return page.url().includes('/config/entities');
      }, { timeoutMs: UI_TIMEOUT });
      const { entity_id: entityId } = await endpointSensor();
      await page.getByPlaceholder(/^Search/).filter({ visible: true }).first().fill(entityId);
      // The entity's row (its name cell), not the device's group header.
      await page.locator('ha-data-table').getByText(ENDPOINT_VALUE.name, { exact: true }).first().click();
      // The more-info dialog shows the current state (it changes every few seconds).
      const dialog = page.locator('ha-more-info-dialog');
      let shown;
      await waitFor('the more-info dialog to show the current value', async () => {
        const now = String((await endpointSensor()).state);
        if (await dialog.getByText(now, { exact: true }).first().isVisible()) shown = now;
        return shown;
      }, { timeoutMs: UI_TIMEOUT });
      await sleep(1500); // let the history chart draw
      await screenshot('sensor-more-info');
      await page.keyboard.press('Escape');
      return `more-info shows ${shown}`;
    });
  });

  await scenario('a second endpoint by ticking values of the preview (no Jinja), without a reload', async () => {
    let before;
    await step('ui', 'Add endpoint -> /api/weather -> preview -> "Pick values" -> tick temperature + humidity -> save', async () => {
      before = (await ha.entries(DOMAIN))[0];
      await page.goto(`${env.haUrl}/config/integrations/integration/${DOMAIN}`);
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const dialog = flowDialog();
      await dialog.getByText('Enter the request', { exact: true }).click({ timeout: UI_TIMEOUT });
      const urlInput = dialog.locator('input[name="url"]');
      await urlInput.waitFor({ timeout: UI_TIMEOUT });
      await dialog.locator('input[name="name"]').fill('Weather');
      await urlInput.fill('/api/weather');
      await submit();
      await dialog.getByText(/"temperature"/).first().waitFor({ timeout: UI_TIMEOUT });
      await submit(); // the preview -> the values menu
      await dialog.getByText('Pick values from the response', { exact: true }).click({ timeout: UI_TIMEOUT });
      const temperature = dialog.getByRole("checkbox", { name: /temperature = / }).first();
      await temperature.waitFor({ timeout: UI_TIMEOUT });
      await sleep(400);
      await temperature.click({ force: true });
      await dialog.getByRole("checkbox", { name: /humidity = / }).first().click({ force: true });
      await screenshot('pick-values');
      await submit();
      await dialog.getByText('Save the endpoint', { exact: true }).click({ timeout: UI_TIMEOUT });
      await dialog.getByText(/Created configuration|Success/i).first().waitFor({ timeout: UI_TIMEOUT });
      await page.getByRole('button', { name: 'Finish' }).click();
      return 'request -> preview -> pick values -> save';
    });

    await step('api', 'the ticked values are sensors with their unit and device class; the account stays loaded', async () => {
      const found = await waitFor('the picked sensors to show numbers', async () => {
        const states = await ha.states();
        const byId = Object.fromEntries(states.map((s) => [s.entity_id, s]));
        const t = byId['sensor.weather_temperature'];
        const h = byId['sensor.weather_humidity'];
        return t && h && isNumber(t.state) && isNumber(h.state) && { t, h };
      }, { timeoutMs: 30000 });
      if (found.t.attributes.unit_of_measurement !== '°C') throw new Error(`temperature unit ${found.t.attributes.unit_of_measurement}`);
      if (found.t.attributes.device_class !== 'temperature') throw new Error('temperature has no device class');
      if (found.h.attributes.unit_of_measurement !== '%') throw new Error(`humidity unit ${found.h.attributes.unit_of_measurement}`);
      const after = (await ha.entries(DOMAIN))[0];
      if (after.state !== 'loaded' || before.state !== 'loaded') throw new Error(`entry ${before.state} -> ${after.state}`);
      return `temperature ${found.t.state} °C, humidity ${found.h.state} %`;
    });
  });

  await scenario('values keep updating while the short-lived access token is refreshed', async () => {
    const ttl = env.accessTtl;
    let obs;
    await step('api', `>= 2 refreshes (rotated refresh tokens) and changing values over > ${ttl} s`, async () => {
      const since = Date.now();
      obs = await observe('2 refreshes, value changes and one access token lifetime', (o) => (
        refreshes(o) >= 2 && o.values.length >= 3 && o.refreshTokens.size >= 2
        && Date.now() - since > (ttl + 5) * 1000
      ), Math.max(120000, (ttl * 4 + 30) * 1000));
      if (obs.unavailable) throw new Error(`the sensor was unavailable ${obs.unavailable} times`);
      if (obs.stats.refresh_errors !== obs.start.refresh_errors) throw new Error('a refresh failed');
      const ha = obs.lastRefreshId ? `, HA's ${obs.lastRefreshId} took ${obs.lastRefresh.size} values` : '';
      return `provider: ${refreshes(obs)} refresh grants; HA stored ${obs.refreshTokens.size} `
        + `different refresh tokens${ha}; values ${obs.values.join(' -> ')}`;
    });

    await step('ui', 'the integration page lists account + endpoint; the account device shows its token health', async () => {
      await page.goto(`${env.haUrl}/config/integrations/integration/${DOMAIN}`);
      await page.getByText(ENDPOINT_NAME).first().waitFor();
      const sensor = await endpointSensor();
      if (!isNumber(sensor.state)) throw new Error(`sensor is ${sensor.state}`);
      await screenshot('integration-page');
      const [entry] = await ha.entries(DOMAIN);
      // The account's device row (not the endpoint's): its title, with the health sensors.
      await page.getByText(entry.title, { exact: true }).last().click();
      await page.waitForURL(/\/config\/devices\/device\//);
      const health = page.getByText('Last token refresh', { exact: true }).first();
      const found = await health.waitFor({ timeout: 10000 }).then(() => true, () => false);
      await screenshot('account-device');
      return found ? 'device page shows "Last token refresh"' : 'device page opened (no health sensor named "Last token refresh")';
    });
  });

  await scenario('our brand icon on the integrations dashboard (served from brand/ by HA)', async () => {
    await step('ui', 'the OAuth2 REST card shows brand/icon.png; its request returns 200 with our file', async () => {
      await page.goto(`${env.haUrl}/config/integrations/dashboard`);
      const card = page.locator('ha-integration-card').filter({ hasText: 'OAuth2 REST' }).first();
      const img = card.locator(`img[src*="/api/brands/integration/${DOMAIN}/"]`).first();
      await img.waitFor();
      // Loaded and decoded: not the broken-image or placeholder fallback.
      await waitFor('the brand image to load', () => img.evaluate((el) => el.complete && el.naturalWidth > 0));
      const src = await img.getAttribute('src');
      const response = await page.request.get(new URL(src, env.haUrl).toString());
      if (response.status() !== 200) throw new Error(`${src} answered ${response.status()}`);
      const name = new URL(src, env.haUrl).pathname.split('/').pop();
      const ours = await fs.readFile(new URL(`../../custom_components/${DOMAIN}/brand/${name}`, import.meta.url));
      if (!(await response.body()).equals(ours)) throw new Error(`${name} served is not brand/${name}`);
      await card.scrollIntoViewIfNeeded();
      await screenshot('integrations-dashboard');
      await cardScreenshot(card, 'integration-card');
      return `${name}: 200, identical to brand/${name} (${ours.length} bytes)`;
    });
  });

  await scenario('a revoked grant asks for reauth in the UI; re-linking resumes the values', async () => {
    await step('api', 'revoke the grant at the provider (its admin route destroys grant + tokens)', async () => {
      const { revoked } = await revokeAllGrants();
      if (revoked < 1) throw new Error('no grant to revoke');
      return `${revoked} grant(s) revoked`;
    });

    await step('ui', 'Settings shows the re-authentication repair', async () => {
      await page.goto(`${env.haUrl}/config/dashboard`);
      const repair = page.getByText(/Authentication expired for|Re-authentication required/i).first();
      await waitFor('the reauth repair in Settings', async () => {
        if (await repair.isVisible()) return true;
        await page.reload();
        await repair.waitFor({ timeout: 5000 }).catch(() => {});
        return repair.isVisible();
      }, { timeoutMs: Math.max(90000, env.accessTtl * 3000) });
      await screenshot('reauth-repair');
      const sensor = await endpointSensor();
      return `sensor now ${sensor?.state}`;
    });

    let popup;
    await step('ui', 'open the repair -> "Re-link" -> the authorize window opens', async () => {
      await page.getByText(/Authentication expired for|Re-authentication required/i).first().click();
      await flowDialog().getByText(/Re-link/).first().waitFor();
      await screenshot('reauth-confirm');
      const opened = context.waitForEvent('page', { timeout: UI_TIMEOUT });
      await submit();
      popup = await opened;
    });

    await step('ui', 'consent again at oidc-provider', () => authorizeInPopup(popup));

    await step('ui', 'Home Assistant reports the re-authentication as successful', async () => {
      await page.getByText(/Re-authentication was successful|re-linked/i).first().waitFor({ timeout: 30000 });
      await screenshot('reauth-done');
      await page.getByRole('button', { name: /close|finish/i }).first().click();
    });

    await step('api', 'the entry is loaded again and the values resume (with refreshes)', async () => {
      await waitFor('the entry to load', async () => {
        const list = await ha.entries(DOMAIN);
        return list[0]?.state === 'loaded';
      });
      const stats = await providerStats();
      if (stats.authorization_code < 2) throw new Error('no second authorization code was redeemed');
      const haLog = await fs.readFile(path.join(env.haConfig, 'home-assistant.log'), 'utf8').catch(() => '');
      if (haLog.includes('should use it for scheduling a reload')) {
        throw new Error('Home Assistant logged the update-listener reload deprecation for the re-link');
      }
      if (stats.redirect_uris.token.at(-1) !== shownRedirect.form) {
        throw new Error(`re-linking sent redirect_uri ${stats.redirect_uris.token.at(-1)}, not ${shownRedirect.form}`);
      }
      const obs = await observe('values to change after re-linking', (o) => (
        o.values.length >= 3 && refreshes(o) >= 1
      ), Math.max(90000, (env.accessTtl * 3 + 30) * 1000));
      const sensor = await endpointSensor();
      if (!isNumber(sensor.state)) throw new Error(`sensor is ${sensor.state}`);
      return `values ${obs.values.join(' -> ')}, ${refreshes(obs)} refresh grant(s)`;
    });
  });

  await scenario('the client credentials grant and the device login with its QR code, at the demo provider', async () => {
    const openDiscovery = async (issuer) => {
      await page.goto(`${env.haUrl}/config/integrations/dashboard`);
      await page.getByRole('button', { name: 'Add integration' }).click();
      await page.getByText('Select brand').or(page.getByRole('dialog')).first().waitFor();
      await sleep(500);
      await page.keyboard.type('OAuth2 REST');
      // The list is in the dialog's shadow root: HA 2026.11's dialog "intercepts" the hit test.
      await page.locator('dialog-add-integration').getByText('OAuth2 REST', { exact: true }).first()
        .click({ force: true });
      await page.getByText('Discover from the issuer URL').click();
      await page.getByRole('textbox', { name: 'Issuer URL' }).fill(issuer);
      await submit();
      // What discovery found (endpoints, grants): go on with it.
      await page.getByText('Grants offered', { exact: false }).first().waitFor();
      await page.getByText('Continue', { exact: true }).click();
      await page.getByRole('textbox', { name: 'Client ID' }).waitFor();
    };
    const fillDemoClient = async (scopes) => {
      await page.getByRole('textbox', { name: 'Client ID' }).fill(DEMO_CLIENT.id);
      await page.getByRole('textbox', { name: 'Client secret' }).fill(DEMO_CLIENT.secret);
      await page.getByRole('textbox', { name: 'Scopes' }).fill(scopes);
      await page.getByRole('textbox', { name: 'API base URL' }).fill(env.demoUrl);
      await submit();
    };
    const finishFlow = async () => {
      await flowDialog().getByText(/Successfully authenticated|Created configuration|Success/i)
        .first().waitFor({ timeout: 30000 });
      await page.getByRole('button', { name: /skip and finish|finish/i }).first().click();
    };
    const entryFor = async (uniqueSuffix) => waitFor(`the entry ...${uniqueSuffix} to load`, async () => {
      const list = await ha.entries(DOMAIN);
      const found = [];
      for (const e of list) {
        const stored = await storedEntry(env.haConfig, DOMAIN, e.entry_id).catch(() => null);
        if (stored?.unique_id?.endsWith(uniqueSuffix) && e.state === 'loaded') found.push(e);
      }
      return found[0];
    }, { timeoutMs: 30000 });

    let ccEntry;
    await step('ui', 'discover the demo provider -> client id/secret -> "No login" (client credentials) -> entry created, no browser window', async () => {
      await openDiscovery(env.demoUrl);
      let popups = 0;
      const count = () => { popups += 1; };
      context.on('page', count);
      await fillDemoClient('api:read');
      const noLogin = flowDialog().getByText("No login: the application's own access (client credentials)");
      await noLogin.waitFor();
      await screenshot('login-menu-client-credentials');
      await noLogin.click();
      await finishFlow();
      context.off('page', count);
      if (popups) throw new Error(`${popups} window(s) opened`);
      ccEntry = await entryFor(`#${DEMO_CLIENT.id}`);
      return `entry "${ccEntry.title}" loaded`;
    });

    await step('api', 'an endpoint of the client-credentials account polls the demo API, its token renewed without refresh token', async () => {
      const request = { name: 'E2E client weather', url: '/api/weather', scan_interval: 10 };
      const note = await addEndpointApi(ccEntry.entry_id, request, { name: 'Temperature', value_template: '{{ value_json.temperature }}' });
      const sensorOf = async () => (await ha.states()).find((st) => st.entity_id.startsWith('sensor.')
        && String(st.attributes.friendly_name ?? '').includes(request.name)) ?? null;
      const tokens = new Set();
      let unavailable = 0;
      const values = [];
      const since = Date.now();
      await waitFor('two client-credentials tokens and values over a token lifetime', async () => {
        const sensor = await sensorOf();
        if (sensor?.state === 'unavailable') unavailable += 1;
        if (isNumber(sensor?.state) && values.at(-1) !== sensor.state) values.push(sensor.state);
        const stored = await storedEntry(env.haConfig, DOMAIN, ccEntry.entry_id).catch(() => null);
        const token = stored?.data?.token;
        if (token?.refresh_token) throw new Error('a client-credentials token with a refresh token');
        if (token?.access_token) tokens.add(token.access_token);
        return tokens.size >= 2 && values.length >= 1 && Date.now() - since > (env.demoTtl + 5) * 1000;
      }, { timeoutMs: Math.max(90000, (env.demoTtl * 4 + 30) * 1000), intervalMs: 1000 });
      if (unavailable) throw new Error(`the sensor was unavailable ${unavailable} times`);
      return `${note}; ${tokens.size} access tokens stored, values ${values.join(' -> ')}`;
    });

    let approvePage;
    await step('ui', 'device login: the QR code, the code and the link in HA\'s dialog', async () => {
      await openDiscovery(env.demoUrl);
      await fillDemoClient('openid profile api:read api:write');
      await flowDialog().getByText('Log in on another device (with a code)').click();
      const dialog = flowDialog();
      const qr = dialog.locator('ha-selector-qr_code, ha-qr-code').first();
      await qr.waitFor({ timeout: UI_TIMEOUT });
      // The QR code is drawn (canvas or image) with a size.
      await waitFor('the QR code to be drawn', async () => {
        const box = await qr.boundingBox();
        return box && box.width > 50 && box.height > 50;
      }, { timeoutMs: 10000 });
      const link = dialog.getByRole('link', { name: 'this link' });
      const href = await link.getAttribute('href');
      if (!href?.includes('user_code=')) throw new Error(`no direct link: ${href}`);
      await sleep(500);
      await screenshot('device-login-qr');
      approvePage = href;
      return `QR of ${href}`;
    });

    await step('ui', 'on "another device": open the QR\'s link, log in at the demo provider, allow', async () => {
      const phone = await context.browser().newContext();
      const other = await phone.newPage();
      await other.goto(approvePage);
      await other.locator('input[name=username]').fill(DEMO_LOGIN.username);
      await other.locator('input[name=password]').fill(DEMO_LOGIN.password);
      await other.getByRole('button', { name: 'Sign in' }).click();
      await other.getByRole('button', { name: 'Allow' }).click();
      await other.getByText('Device connected').waitFor();
      await phone.close();
    });

    await step('ui', 'Submit in HA: it waits for (or finds) the approval; the account is linked', async () => {
      await submit();
      await finishFlow();
      deviceEntry = await entryFor('#user-demo');
      return `entry "${deviceEntry.title}" loaded`;
    });
  });

  await scenario('controls at the demo API: a switch made and flipped in the UI, a button pressed, a message sent', async () => {
    if (!deviceEntry) throw new Error('no demo account (the device login failed)');
    const entryId = deviceEntry.entry_id;
    const writes = async () => (await request(`${env.demoUrl}/demo/requests`)).requests;
    const lampWrites = async () => (await writes()).filter((r) => r.path.endsWith('/api/lamp'));
    const lampState = async () => (await ha.state('switch.e2e_lamp'))?.state;
    // HA writes its entity registry a few seconds late: wait until it holds the entity.
    const deviceOf = (entityId) => waitFor(`${entityId} in the entity registry file`, async () => {
      const file = path.join(env.haConfig, '.storage', 'core.entity_registry');
      const reg = JSON.parse(await fs.readFile(file, 'utf8').catch(() => '{"data":{"entities":[]}}'));
      return reg.data.entities.find((e) => e.entity_id === entityId)?.device_id;
    }, { timeoutMs: 30000, intervalMs: 1000 });

    await step('ui', 'Add control -> Switch -> name -> turn on / turn off requests -> state from its own request -> test -> save', async () => {
      await page.goto(`${env.haUrl}/config/integrations/integration/${DOMAIN}`);
      await page.getByRole('button', { name: 'Add control' }).first().click({ timeout: UI_TIMEOUT });
      // Several accounts are linked by now: HA asks which one the control belongs to.
      await page.locator('dialog-pick-config-entry').getByText(deviceEntry.title, { exact: true })
        .first().click({ timeout: UI_TIMEOUT, force: true });
      const dialog = flowDialog();
      await dialog.getByText('Switch', { exact: true }).click({ timeout: UI_TIMEOUT });
      await dialog.locator('input[name="name"]').fill('E2E lamp');
      await submit();
      for (const on of [true, false]) {
        const url = dialog.locator('input[name="url"]');
        await url.waitFor({ timeout: UI_TIMEOUT });
        await sleep(400);
        await url.fill('/api/lamp');
        await dialog.locator('ha-code-editor .cm-content').first().fill(`{"on": ${on}}`);
        if (on) await screenshot('control-turn-on');
        await submit();
        await sleep(500);
      }
      await dialog.getByText('From a request of its own, polled').click({ timeout: UI_TIMEOUT });
      const stateUrl = dialog.locator('input[name="url"]');
      await stateUrl.waitFor({ timeout: UI_TIMEOUT });
      await sleep(400);
      await stateUrl.fill('/api/lamp');
      await dialog.locator('ha-code-editor .cm-content').first().fill('{{ value_json.on }}');
      await dialog.getByRole('spinbutton', { name: /update interval/i }).first().fill('10');
      await submit();
      // The test step: nothing sent unless picked; its state read now.
      await dialog.getByText('State now:', { exact: false }).first().waitFor({ timeout: UI_TIMEOUT });
      await screenshot('control-test');
      await submit(); // "Save, send nothing" is the default
      await dialog.getByText(/Created configuration|Success/i).first().waitFor({ timeout: UI_TIMEOUT });
      await page.getByRole('button', { name: 'Finish' }).click();
      await waitFor('switch.e2e_lamp to be off', async () => (await lampState()) === 'off', { timeoutMs: 20000 });
      if ((await lampWrites()).length) throw new Error('a request was sent before it was asked for');
      return 'kind -> switch -> turn on -> turn off -> state request -> test -> saved';
    });

    await step('ui', 'flip the switch on its device page: the demo API gets {"on": true}, the state follows', async () => {
      await page.goto(`${env.haUrl}/config/devices/device/${await deviceOf('switch.e2e_lamp')}`);
      const toggle = page.locator('ha-entity-toggle ha-switch, ha-entity-toggle').first();
      await toggle.waitFor({ timeout: UI_TIMEOUT });
      await sleep(500);
      await toggle.click();
      await waitFor('the lamp request and the switch on', async () => {
        const sent = await lampWrites();
        return sent.length === 1 && (await lampState()) === 'on';
      }, { timeoutMs: 20000 });
      const [sent] = await lampWrites();
      if (sent.method !== 'POST' || JSON.stringify(sent.body) !== '{"on":true}') {
        throw new Error(`the API got ${sent.method} ${JSON.stringify(sent.body)}`);
      }
      await screenshot('control-switch-on');
      return `${sent.method} ${sent.path} ${JSON.stringify(sent.body)}`;
    });

    await step('api', 'a button and a notify entity added through the control flow over HTTP (their test steps send one request each)', async () => {
      const notes = [];
      for (const [kind, answers] of [
        ['button', {
          button: { name: 'E2E toggle' },
          press: { method: 'POST', url: '/api/lamp/toggle' },
        }],
        ['notify', {
          notify: { name: 'E2E messages', send_as: 'json', message_param: 'message', title_param: 'title', data: 'source=e2e' },
          send: { method: 'POST', url: '/api/messages' },
        }],
      ]) notes.push(await addControlApi(entryId, kind, answers));
      return notes.join('; ');
    });

    // The button's test press toggled the lamp off; pressing it in the UI turns it on again.
    await step('ui', 'press the button on its device page: the demo API gets the toggle, the switch follows at its next poll', async () => {
      const before = (await writes()).length;
      await page.goto(`${env.haUrl}/config/devices/device/${await deviceOf('button.e2e_toggle')}`);
      const press = page.getByRole('button', { name: /^press$/i }).first();
      await press.waitFor({ timeout: UI_TIMEOUT });
      await sleep(500);
      await press.click();
      await waitFor('the toggle request', async () => (await writes()).length > before, { timeoutMs: 20000 });
      const sent = (await writes()).slice(before);
      if (!sent.some((r) => r.method === 'POST' && r.path.endsWith('/api/lamp/toggle'))) {
        throw new Error(`the API got ${JSON.stringify(sent)}`);
      }
      await waitFor('the switch on again (its own state request polls every 10 s)',
        async () => (await lampState()) === 'on', { timeoutMs: 30000 });
      return 'POST /api/lamp/toggle; switch.e2e_lamp on';
    });

    await step('api', 'notify.send_message: the demo API stores the message, title and extra field as JSON', async () => {
      const before = (await writes()).length;
      await ha.api('/api/services/notify/send_message', {
        method: 'POST',
        json: { entity_id: 'notify.e2e_messages', message: 'Door open', title: 'E2E' },
      });
      const sent = (await writes()).slice(before);
      const message = sent.find((r) => r.path.endsWith('/api/messages'));
      const expected = { message: 'Door open', title: 'E2E', source: 'e2e' };
      if (!message || message.content_type !== 'application/json'
        || JSON.stringify(message.body) !== JSON.stringify(expected)) {
        throw new Error(`the API got ${JSON.stringify(sent)}`);
      }
      return `POST /api/messages ${JSON.stringify(message.body)}`;
    });
  });

  await scenario('from link to live sensors: an endpoint from the demo\'s recipe, and core RESTful YAML imported', async () => {
    if (!deviceEntry) throw new Error('no demo account (the device login failed)');
    const openAddEndpoint = async () => {
      await page.goto(`${env.haUrl}/config/integrations/integration/${DOMAIN}`);
      await page.getByRole('button', { name: 'Add endpoint' }).first().click({ timeout: UI_TIMEOUT });
      await page.locator('dialog-pick-config-entry').getByText(deviceEntry.title, { exact: true })
        .first().click({ timeout: UI_TIMEOUT, force: true });
    };
    const sensorNamed = async (prefix, name) => (await ha.states()).find((st) => st.entity_id.startsWith(prefix)
      && String(st.attributes.friendly_name ?? '').endsWith(name)) ?? null;

    await step('ui', 'Add endpoint -> "Start from a recipe" -> the demo\'s weather -> preview with real values -> save', async () => {
      await openAddEndpoint();
      const dialog = flowDialog();
      await dialog.getByText('Start from a recipe', { exact: true }).click({ timeout: UI_TIMEOUT });
      await dialog.getByText('Demo provider: weather', { exact: true }).last().click({ timeout: UI_TIMEOUT });
      await screenshot('recipe-choice');
      await submit();
      await dialog.getByText(/"temperature"/).first().waitFor({ timeout: UI_TIMEOUT });
      await screenshot('recipe-preview');
      await submit(); // the preview -> the values menu
      await dialog.getByText('Save the endpoint', { exact: true }).click({ timeout: UI_TIMEOUT });
      await dialog.getByText(/Created configuration|Success/i).first().waitFor({ timeout: UI_TIMEOUT });
      await page.getByRole('button', { name: 'Finish' }).click();
      const temperature = await waitFor('the recipe\'s temperature sensor', async () => {
        const st = await sensorNamed('sensor.', 'Temperature');
        return st && isNumber(st.state) && st.attributes.unit_of_measurement === '°C' ? st : null;
      }, { timeoutMs: 20000 });
      return `${temperature.entity_id} = ${temperature.state} °C (device class ${temperature.attributes.device_class})`;
    });

    await step('ui', 'Add endpoint -> "Import from core RESTful YAML" -> paste -> the summary -> create everything', async () => {
      const yaml = [
        'rest:',
        `  - resource: ${env.demoUrl}/api/status`,
        '    scan_interval: 15',
        '    headers:',
        '      Authorization: !secret demo_token',
        '    binary_sensor:',
        '      - name: Demo online',
        '        value_template: "{{ value_json.online }}"',
        '        device_class: connectivity',
        'switch:',
        '  - platform: rest',
        '    name: Imported lamp',
        `    resource: ${env.demoUrl}/api/lamp`,
        '    body_on: \'{"on": true}\'',
        '    body_off: \'{"on": false}\'',
        '    is_on_template: "{{ value_json.on }}"',
      ].join('\n');
      await openAddEndpoint();
      const dialog = flowDialog();
      await dialog.getByText('Import from core RESTful YAML', { exact: true }).click({ timeout: UI_TIMEOUT });
      const box = dialog.locator('textarea').first();
      await box.waitFor({ timeout: UI_TIMEOUT });
      await box.fill(yaml);
      await submit();
      await dialog.getByText('What the YAML maps to', { exact: false }).first().waitFor({ timeout: UI_TIMEOUT });
      if (!await dialog.getByText('!secret demo_token', { exact: false }).count()) {
        throw new Error('the summary does not report the !secret');
      }
      await screenshot('import-summary');
      await dialog.getByText('Create everything listed', { exact: true }).click({ timeout: UI_TIMEOUT });
      await dialog.getByText(/Imported: 1 endpoint/i).first().waitFor({ timeout: UI_TIMEOUT });
      await page.getByRole('button', { name: /finish|close|ok/i }).first().click().catch(() => {});
      const online = await waitFor('the imported binary sensor', async () => {
        const st = await sensorNamed('binary_sensor.', 'Demo online');
        return st && ['on', 'off'].includes(st.state) ? st : null;
      }, { timeoutMs: 30000 });
      const lamp = await waitFor('the imported switch', async () => {
        const st = await sensorNamed('switch.', 'Imported lamp');
        return st && ['on', 'off'].includes(st.state) ? st : null;
      }, { timeoutMs: 30000 });
      return `${online.entity_id} = ${online.state}; ${lamp.entity_id} = ${lamp.state}`;
    });
  });
}

/** A control subentry through HA's HTTP API (what the frontend posts): menus and forms by step id. */
async function addControlApi(entryId, kind, answers) {
  const seen = [];
  let tested = false;
  let result = await ha.api('/api/config/config_entries/subentries/flow', {
    method: 'POST', json: { handler: [entryId, 'control'], show_advanced_options: false },
  });
  for (let i = 0; i < 10 && ['form', 'menu'].includes(result.type); i += 1) {
    seen.push(result.step_id);
    let body;
    if (result.type === 'menu') {
      body = { next_step_id: result.step_id === 'user' ? kind : answers[result.step_id] };
    } else if (result.step_id === 'test' && !tested) {
      // Send the control's first request once (a test acts on the API), then save.
      const choice = result.data_schema.find((f) => f.name === 'test');
      const first = choice.selector.select.options[1];
      body = { test: first.value ?? first };
      if (kind === 'notify') body.message = 'E2E test message';
      tested = true;
    } else if (result.step_id === 'test') {
      const status = result.description_placeholders?.status ?? '';
      if (!/^2\d\d$/.test(status)) throw new Error(`the test request answered ${status}`);
      body = { test: 'nothing' };
    } else {
      body = { ...answers[result.step_id] };
    }
    result = await ha.api(`/api/config/config_entries/subentries/flow/${result.flow_id}`, {
      method: 'POST', json: body,
    });
    if (result.errors && Object.keys(result.errors).length) {
      throw new Error(`step ${result.step_id}: ${JSON.stringify(result.errors)}`);
    }
  }
  if (result.type !== 'create_entry') throw new Error(`flow ended with ${result.type} after ${seen.join(' -> ')}`);
  return `${kind} created over HTTP (${seen.join(' -> ')})`;
}

let rc = 0;
try {
  await main();
} catch {
  rc = 1;
}
const total = results.ui + results.api;
if (results.fallbacks.length) log(`steps driven through the HTTP API instead of the UI: ${results.fallbacks.join('; ')}`);
console.log(`e2e: ${results.ui} browser steps passed, ${results.api} API/observation steps passed, `
  + `${results.scenarios} scenarios passed, ${results.scenarioFailed} failed`
  + (results.fallbacks.length ? ` (${results.fallbacks.length} UI step(s) done over HTTP instead)` : ''));
console.log(`${total} passed, ${results.failed} failed`);
process.exit(rc || results.failed ? 1 : 0);
