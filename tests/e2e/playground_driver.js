#!/usr/bin/env node
// Drives the Microsoft 365 Agents Playground's web page in headless Chromium
// for the end-to-end tests (tests/e2e/playground.py is the Python side).
//
// Protocol: one JSON request per line on stdin, {"id": n, "op": "...", ...};
// one JSON answer per line on stdout, {"id": n, "ok": true, "result": ...}
// or {"id": n, "ok": false, "error": "..."}. Diagnostics go to stderr.
// The driver never decides whether a test passes: it types, clicks, waits
// for text to appear and reports what the page shows.

'use strict';

const readline = require('node:readline');
const { chromium } = require('playwright-core');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const POLL_MS = 100;
// The compose box (a rich-text editor), not a card's text input.
const COMPOSE = '[role="textbox"][contenteditable="true"]';

let browser = null;
let page = null;

// --- the chat as a person sees it ---------------------------------------------

// Every message in the open conversation, oldest first: who wrote it and its
// visible text (an Adaptive Card's text included). Each message element is
// marked with data-e2e-msg="<index>" so that later steps can act inside it.
async function messages() {
  return page.evaluate(() => {
    const headers = [...document.querySelectorAll('[aria-label="Message header"]')];
    return headers.map((header, index) => {
      const box = header.parentElement;
      box.setAttribute('data-e2e-msg', String(index));
      const author = header.querySelector('[aria-label="Message author"]');
      const text = [...box.children]
        .filter((child) => child !== header)
        .map((child) => child.innerText)
        .join('\n')
        .trim();
      return {
        index,
        author: author ? author.innerText.trim() : null,
        fromBot: author !== null,
        text,
        hasCard: box.querySelector('.ac-adaptiveCard') !== null,
      };
    });
  });
}

// The last message (at or after `since`) whose text contains `within`.
async function messageLocator(within, since = 0) {
  const all = await messages();
  const found = all.filter((m) => m.index >= since && (!within || m.text.includes(within))).pop();
  if (!found) {
    throw new Error(`no message${within ? ` containing ${JSON.stringify(within)}` : ''} on the page`);
  }
  return page.locator(`[data-e2e-msg="${found.index}"]`);
}

// Where a card input is looked for: the message (see messageLocator), or
// within it the card's container (an Adaptive Card Container) showing the
// text `section`, e.g. one measure of a card that asks the same questions
// about several measures.
async function inputScope(within, since, section) {
  const card = await messageLocator(within, since);
  if (!section) return card;
  const part = card.locator('.ac-container:not(.ac-adaptiveCard)').filter({ hasText: section });
  if ((await part.count()) === 0) {
    throw new Error(`no part of the card showing ${JSON.stringify(section)}`);
  }
  return part.last();
}

async function waitFor(check, timeoutMs, describe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${await describe()}`);
    }
    await page.waitForTimeout(POLL_MS);
  }
}

function dump(list) {
  return JSON.stringify(list.map((m) => `${m.fromBot ? m.author : 'jag'}: ${m.text.slice(0, 400)}`), null, 1);
}

// --- operations -----------------------------------------------------------------

const ops = {
  async launch({ url, width = 1280, height = 1000, timeoutMs = 30000 }) {
    browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width, height }, locale: 'sv-SE' });
    // The page asks for fonts and animations on Microsoft's CDN; nothing but
    // this machine is reached (the Playground falls back to local fonts).
    await context.route(
      (target) => !['localhost', '127.0.0.1', '[::1]'].includes(target.hostname),
      (route) => route.abort('blockedbyclient'),
    );
    page = await context.newPage();
    page.setDefaultTimeout(timeoutMs);
    // A trace of the page's traffic with the Playground server (what the
    // person sent, what reached the page), for diagnosing a failed step.
    const stamp = () => new Date().toISOString().slice(11, 23);
    page.on('pageerror', (error) => process.stderr.write(`${stamp()} page error: ${error.message}\n`));
    page.on('response', (response) => {
      const path = new URL(response.url()).pathname;
      if (!path.startsWith('/static/')) {
        process.stderr.write(`${stamp()} ${response.request().method()} ${path} ${response.status()}\n`);
      }
    });
    page.on('websocket', (socket) => {
      process.stderr.write(`${stamp()} websocket ${new URL(socket.url()).pathname}\n`);
      socket.on('framereceived', (frame) => process.stderr.write(`${stamp()} <- ${String(frame.payload).slice(0, 300)}\n`));
      socket.on('close', () => process.stderr.write(`${stamp()} websocket closed\n`));
    });
    await page.goto(url);
    await page.locator(COMPOSE).waitFor();
    // The log panel (raw HTTP traffic) takes a third of the page; close it so
    // the screenshots show the conversation.
    const toggle = page.locator('button[title="Toggle Log Panel"]');
    if (await page.getByText('Log Panel', { exact: true }).isVisible()) {
      await toggle.click();
      await page.getByText('Log Panel', { exact: true }).waitFor({ state: 'hidden' });
    }
    return { title: await page.title() };
  },

  async messages() {
    return messages();
  },

  // Wait until the messages from index `since` on contain every text in
  // `texts` (all from the bot unless fromBot is false); return those messages.
  async expect({ texts, since = 0, fromBot = true, timeoutMs = 20000 }) {
    let last = [];
    return waitFor(
      async () => {
        last = (await messages()).filter((m) => m.index >= since && (!fromBot || m.fromBot));
        const joined = last.map((m) => m.text).join('\n');
        return texts.every((t) => joined.includes(t)) ? last : null;
      },
      timeoutMs,
      async () => {
        const shown = (await messages()).filter((m) => m.index >= since - 2);
        return `${JSON.stringify(texts)} in the bot's messages from #${since}; the chat shows, from #${Math.max(0, since - 2)}: ${dump(shown)}`;
      },
    );
  },

  // Type a message in the compose box and send it with Enter; returns the
  // index of the sent message (the bot's answers come after it).
  async say({ text }) {
    const before = (await messages()).length;
    const box = page.locator(COMPOSE);
    await box.click();
    await page.keyboard.type(text);
    await page.keyboard.press('Enter');
    const sent = await waitFor(
      async () => (await messages()).find((m) => m.index >= before && !m.fromBot && m.text.includes(text)),
      10000,
      async () => `the sent message ${JSON.stringify(text)} to appear`,
    );
    return { index: sent.index };
  },

  // Click a button by its visible name: in the last message containing
  // `within` (a card's action or a suggested reply), or anywhere in the chat.
  async click({ name, within = null, since = 0 }) {
    const before = (await messages()).length;
    const scope = within ? await messageLocator(within, since) : page;
    await scope.getByRole('button', { name, exact: true }).first().click();
    return { before };
  },

  // Click one of the suggested replies the bot offered under its last message.
  async suggested({ name }) {
    const before = (await messages()).length;
    const button = page.getByRole('button', { name, exact: true }).last();
    await button.click();
    return { before };
  },

  // The names of the buttons visible in the last message containing `within`,
  // and of suggested replies, for assertions.
  async buttons({ within = null, since = 0 }) {
    const scope = within ? await messageLocator(within, since) : page.locator('main, body').first();
    const names = await scope.getByRole('button').evaluateAll((bs) =>
      bs.map((b) => (b.getAttribute('aria-label') || b.innerText || '').trim()).filter(Boolean),
    );
    return names;
  },

  // Fill a card's text input (or a date input) by its label (in `section`
  // of the card, if given).
  async fill({ label, value, within, since = 0, section = null }) {
    const card = await inputScope(within, since, section);
    // A text field (never a check box whose title contains the label: "Beslut" in "beslutat").
    const input = card.getByRole('textbox', { name: label, exact: false }).first();
    await input.click();
    await input.fill(value);
    await input.press('Tab');
    return { value: await input.inputValue() };
  },

  // Pick a date (YYYY-MM-DD) in a card's date input: the Playground renders
  // Input.Date as a calendar pop-up without a text field, so open it, page
  // to the month and click the day, as a person would.
  async pick_date({ label, date, within, since = 0 }) {
    const [year, month, day] = date.split('-').map(Number);
    const monthName = new Date(Date.UTC(year, month - 1, 1)).toLocaleString('en-US', { month: 'long', timeZone: 'UTC' });
    const card = await messageLocator(within, since);
    const input = card.getByRole('combobox', { name: label }).first();
    await input.click();
    const calendar = page.getByRole('dialog').last();
    await calendar.waitFor();
    const target = year * 12 + month - 1;
    for (let i = 0; i < 600; i++) {
      const heading = (await calendar.getByRole('grid').first().getAttribute('aria-label')) || '';
      const m = heading.match(/^(\w+) (\d{4})/);
      if (!m) throw new Error(`unreadable calendar heading ${JSON.stringify(heading)}`);
      const shown = Number(m[2]) * 12 + new Date(`${m[1]} 1, 2000`).getMonth();
      if (shown === target) break;
      await calendar.locator(`button[title^="${shown < target ? 'Next month' : 'Previous month'}"]`).click();
    }
    await calendar.getByRole('button', { name: `${day}, ${monthName}, ${year}`, exact: true }).click();
    await calendar.waitFor({ state: 'hidden' });
    return { value: await input.inputValue() };
  },

  // Choose an option of a card's compact choice set by its label (in
  // `section` of the card, if given).
  async choose({ label, option, within, since = 0, section = null }) {
    const card = await inputScope(within, since, section);
    const combo = card.getByRole('combobox', { name: label }).first();
    await combo.click();
    await page.getByRole('option', { name: option, exact: true }).first().click();
    return { value: await combo.inputValue() };
  },

  // Tick an option of a card's expanded multi-select choice set (a check box
  // by its title); whether it is ticked now.
  async check({ option, within, since = 0, section = null }) {
    const card = await inputScope(within, since, section);
    const box = card.getByRole('checkbox', { name: option }).first();
    await box.check();
    return { value: await box.isChecked() };
  },

  // The current value of a card input, by its label (in `section` of the
  // card, if given).
  async value({ label, within, since = 0, section = null }) {
    const card = await inputScope(within, since, section);
    return card.getByLabel(label, { exact: false }).first().inputValue();
  },

  // A screenshot of the page with the conversation scrolled so that the
  // message containing `within` (or the latest) is in view; with `top`, its
  // top at the top of the conversation (for a message taller than the page,
  // such as a card listing several measures).
  async screenshot({ path, within = null, since = 0, fullPage = false, top = false }) {
    if (within) {
      const message = await messageLocator(within, since);
      if (top) {
        await message.evaluate((element) => element.scrollIntoView({ block: 'start' }));
      } else {
        await message.scrollIntoViewIfNeeded();
      }
    } else {
      const all = await messages();
      if (all.length) await page.locator(`[data-e2e-msg="${all.length - 1}"]`).scrollIntoViewIfNeeded();
    }
    await page.screenshot({ path, fullPage });
    return { path };
  },

  async html() {
    return page.content();
  },

  async close() {
    if (browser) await browser.close();
    browser = null;
    return {};
  },
};

// --- the loop -------------------------------------------------------------------

const input = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();

input.on('line', (line) => {
  queue = queue.then(async () => {
    let request;
    try {
      request = JSON.parse(line);
    } catch (error) {
      process.stdout.write(`${JSON.stringify({ id: null, ok: false, error: `bad request: ${error.message}` })}\n`);
      return;
    }
    const { id, op, ...args } = request;
    process.stderr.write(`${new Date().toISOString().slice(11, 23)} op ${op} ${JSON.stringify(args).slice(0, 200)}\n`);
    try {
      if (!ops[op]) throw new Error(`unknown op ${op}`);
      if (op !== 'launch' && op !== 'close' && !page) throw new Error('launch first');
      const result = await ops[op](args);
      process.stdout.write(`${JSON.stringify({ id, ok: true, result })}\n`);
    } catch (error) {
      process.stdout.write(`${JSON.stringify({ id, ok: false, error: String(error && error.message ? error.message : error) })}\n`);
    }
  });
});

input.on('close', () => {
  queue.then(() => (browser ? browser.close() : null)).finally(() => process.exit(0));
});
