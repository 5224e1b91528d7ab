// A minimal W3C WebDriver client over Node's built-in fetch (no npm dependency).
// Works against tauri-driver (which proxies to WebKitWebDriver) and WebKitWebDriver itself.

const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';

export class WebDriverError extends Error {
  constructor(method, path, status, value) {
    const code = value?.error || `http ${status}`;
    const msg = value?.message || (typeof value === 'string' ? value : JSON.stringify(value));
    super(`WebDriver ${method} ${path} failed: ${code}: ${msg}`);
    this.name = 'WebDriverError';
    this.status = status;
    this.code = code;
    this.body = value;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value (returned) or `timeoutMs` passes (throws, with the last error). */
export async function waitFor(fn, timeoutMs = 5000, { interval = 100, message = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= end) {
      throw new Error(`waitFor(${message}) timed out after ${timeoutMs} ms${last ? `: ${last.message}` : ''}`);
    }
    await sleep(interval);
  }
}

export class WebDriver {
  /** @param {string} base e.g. http://127.0.0.1:4444 */
  constructor(base = 'http://127.0.0.1:4444', { commandTimeoutMs = 60000 } = {}) {
    this.base = base.replace(/\/$/, '');
    this.sessionId = null;
    this.capabilities = null;
    this.commandTimeoutMs = commandTimeoutMs;
  }

  /**
   * One command. The kiosk gives every person a new content view (borne's session.rs), so the
   * content's window handle changes at each session end: a command sent to the closed view is sent
   * again to the new content view (the one handle that is not the toolbar), found once it exists.
   */
  async request(method, path, body, timeoutMs = this.commandTimeoutMs) {
    try {
      return await this.#send(method, path, body, timeoutMs);
    } catch (e) {
      if (!(e instanceof WebDriverError) || e.code !== 'no such window' || !this.sessionId) throw e;
      await this.followContent();
      // Switching to the closed view's handle: done, we are on its successor.
      if (method === 'POST' && path === this.s('/window')) return null;
      return this.#send(method, path, body, timeoutMs);
    }
  }

  /** Makes the current content view WebDriver's current window (after a session end replaced it). */
  async followContent(timeoutMs = 10000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      for (const h of await this.#send('GET', this.s('/window/handles'))) {
        try {
          await this.#send('POST', this.s('/window'), { handle: h });
          const url = await this.#send('GET', this.s('/url'));
          if (!String(url).startsWith('tauri://localhost/toolbar.html')) return h;
        } catch (e) {
          if (!(e instanceof WebDriverError)) throw e;
        }
      }
      if (Date.now() >= end) throw new Error(`no content view among the WebDriver window handles after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  async #send(method, path, body, timeoutMs = this.commandTimeoutMs) {
    const url = `${this.base}${path}`;
    let res;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new Error(`WebDriver ${method} ${path}: no answer from ${this.base} (${e.cause?.code || e.name}: ${e.cause?.message || e.message})`);
    }
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new WebDriverError(method, path, res.status, text.slice(0, 500));
    }
    const value = json.value;
    if (!res.ok || (value && typeof value === 'object' && typeof value.error === 'string')) {
      throw new WebDriverError(method, path, res.status, value ?? json);
    }
    return value;
  }

  s(path = '') {
    if (!this.sessionId) throw new Error('no WebDriver session');
    return `/session/${this.sessionId}${path}`;
  }

  // --- sessions ---
  async status() {
    return this.request('GET', '/status', undefined, 5000);
  }

  /** @param {object} caps the whole body, e.g. {capabilities: {alwaysMatch: {...}}} */
  async newSession(caps, timeoutMs = 120000) {
    const value = await this.request('POST', '/session', caps, timeoutMs);
    this.sessionId = value.sessionId;
    this.capabilities = value.capabilities;
    return value;
  }

  async deleteSession() {
    if (!this.sessionId) return;
    try {
      await this.request('DELETE', this.s(), undefined, 30000);
    } finally {
      this.sessionId = null;
    }
  }

  async setTimeouts(t) {
    return this.request('POST', this.s('/timeouts'), t);
  }

  // --- navigation ---
  async navigateTo(url) {
    return this.request('POST', this.s('/url'), { url });
  }
  async getUrl() {
    return this.request('GET', this.s('/url'));
  }
  async getTitle() {
    return this.request('GET', this.s('/title'));
  }
  async back() {
    return this.request('POST', this.s('/back'), {});
  }
  async forward() {
    return this.request('POST', this.s('/forward'), {});
  }
  async refresh() {
    return this.request('POST', this.s('/refresh'), {});
  }

  // --- scripts ---
  async executeScript(script, args = []) {
    return this.request('POST', this.s('/execute/sync'), { script, args });
  }
  /** The script gets its callback as the last argument: arguments[arguments.length - 1]. */
  async executeAsyncScript(script, args = []) {
    return this.request('POST', this.s('/execute/async'), { script, args });
  }

  // --- elements ---
  async findElement(css) {
    const v = await this.request('POST', this.s('/element'), { using: 'css selector', value: css });
    return v[ELEMENT_KEY];
  }
  async findElements(css) {
    const v = await this.request('POST', this.s('/elements'), { using: 'css selector', value: css });
    return v.map((e) => e[ELEMENT_KEY]);
  }
  async click(el) {
    return this.request('POST', this.s(`/element/${await this.#id(el)}/click`), {});
  }
  /**
   * A click whose effect closes the view it lands in (the kiosk ends the session and gives the next
   * person a new content view): the answer may come after the view is gone, as a stale element or a
   * closed window. The click was performed then; WebDriver's current window moves to the new view.
   */
  async clickClosingView(el) {
    const id = await this.#id(el);
    try {
      await this.#send('POST', this.s(`/element/${id}/click`), {});
    } catch (e) {
      if (!(e instanceof WebDriverError) || !['stale element reference', 'no such window'].includes(e.code)) throw e;
    }
    await this.followContent();
  }
  async sendKeys(el, text) {
    return this.request('POST', this.s(`/element/${await this.#id(el)}/value`), { text: String(text) });
  }
  async clear(el) {
    return this.request('POST', this.s(`/element/${await this.#id(el)}/clear`), {});
  }
  async getText(el) {
    return this.request('GET', this.s(`/element/${await this.#id(el)}/text`));
  }
  async getAttribute(el, name) {
    return this.request('GET', this.s(`/element/${await this.#id(el)}/attribute/${encodeURIComponent(name)}`));
  }
  async getRect(el) {
    return this.request('GET', this.s(`/element/${await this.#id(el)}/rect`));
  }
  /** An element reference to pass as a script argument. */
  ref(id) {
    return { [ELEMENT_KEY]: id };
  }
  /** Accepts an element id, or {css: 'selector'} to find it first. */
  async #id(el) {
    if (el && typeof el === 'object' && 'css' in el) return this.findElement(el.css);
    if (typeof el !== 'string') throw new TypeError(`not an element id: ${JSON.stringify(el)}`);
    return el;
  }

  // --- windows and frames ---
  async getWindowHandle() {
    return this.request('GET', this.s('/window'));
  }
  async getWindowHandles() {
    return this.request('GET', this.s('/window/handles'));
  }
  async switchToWindow(handle) {
    return this.request('POST', this.s('/window'), { handle });
  }
  async closeWindow() {
    return this.request('DELETE', this.s('/window'));
  }
  async getWindowRect() {
    return this.request('GET', this.s('/window/rect'));
  }
  /** @param {string|{css:string}|number|null} el an iframe (id or {css}), a frame index, or null for the top. */
  async switchToFrame(el) {
    const id = typeof el === 'number' || el === null ? el : this.ref(await this.#id(el));
    return this.request('POST', this.s('/frame'), { id });
  }
  async switchToParentFrame() {
    return this.request('POST', this.s('/frame/parent'), {});
  }

  // --- screenshots ---
  /** @returns {Promise<Buffer>} PNG bytes of the content view's viewport. */
  async takeScreenshot() {
    const b64 = await this.request('GET', this.s('/screenshot'));
    return Buffer.from(b64, 'base64');
  }

  /** Polls `fn(this)` until truthy; see waitFor. */
  waitFor(fn, timeoutMs = 5000, opts = {}) {
    return waitFor(() => fn(this), timeoutMs, opts);
  }
}
