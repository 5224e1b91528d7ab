/* Strings: one flat JSON file per language in i18n/<lang>.json. French is the reference and the
   fallback for any missing key. Elements carry `data-i18n="key"` (text) and
   `data-i18n-aria-label="key"`; placeholders are written {name}. Text is always set with
   textContent or text nodes, never as HTML. */
(function () {
  'use strict';

  const FALLBACK = 'fr';
  const RTL = ['ar', 'he', 'fa', 'ur', 'ps', 'ckb'];
  const LANG_RE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/;

  let strings = {};
  let reference = {};
  let current = FALLBACK;

  function fetchStrings(lang) {
    return fetch('i18n/' + lang + '.json', { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error('i18n ' + lang + ': ' + r.status);
      return r.json();
    }).then(function (obj) {
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('i18n ' + lang + ': not an object');
      return obj;
    });
  }

  /** Chooses the language: ?lang= in the page address, then the one given, then French. */
  function pick(lang) {
    let fromUrl = null;
    try { fromUrl = new URLSearchParams(window.location.search).get('lang'); } catch (e) { /* ignore */ }
    if (fromUrl && LANG_RE.test(fromUrl)) return fromUrl;
    if (typeof lang === 'string' && LANG_RE.test(lang)) return lang;
    return FALLBACK;
  }

  /** Loads the strings, sets lang/dir on <html> and fills the page. Resolves to true when strings loaded. */
  function load(lang) {
    const wanted = pick(lang);
    return fetchStrings(FALLBACK).catch(function () { return {}; }).then(function (ref) {
      reference = ref;
      if (wanted === FALLBACK) return ref;
      return fetchStrings(wanted).catch(function () { return null; });
    }).then(function (obj) {
      current = obj ? wanted : FALLBACK;
      strings = obj || reference;
      const root = document.documentElement;
      root.lang = current;
      root.dir = RTL.indexOf(current.split('-')[0]) >= 0 ? 'rtl' : 'ltr';
      apply(document);
      return Object.keys(reference).length > 0;
    });
  }

  function raw(key) {
    if (Object.prototype.hasOwnProperty.call(strings, key) && typeof strings[key] === 'string') return strings[key];
    if (Object.prototype.hasOwnProperty.call(reference, key) && typeof reference[key] === 'string') return reference[key];
    return null;
  }

  function has(key) { return raw(key) !== null; }

  /** The text for `key` with {placeholders} replaced; the key itself when unknown. */
  function t(key, params) {
    const s = raw(key);
    if (s === null) return key;
    return s.replace(/\{([A-Za-z0-9_]+)\}/g, function (m, name) {
      return params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m;
    });
  }

  /** Fills `el` with the text for `key`; a param may be a DOM node (e.g. a <strong> made with textContent). */
  function render(el, key, params) {
    const s = raw(key);
    el.textContent = '';
    if (s === null) { el.textContent = key; return el; }
    const re = /\{([A-Za-z0-9_]+)\}/g;
    let last = 0;
    let m;
    while ((m = re.exec(s)) !== null) {
      if (m.index > last) el.appendChild(document.createTextNode(s.slice(last, m.index)));
      const v = params && Object.prototype.hasOwnProperty.call(params, m[1]) ? params[m[1]] : m[0];
      el.appendChild(v instanceof Node ? v : document.createTextNode(String(v)));
      last = re.lastIndex;
    }
    if (last < s.length) el.appendChild(document.createTextNode(s.slice(last)));
    return el;
  }

  function apply(root) {
    root.querySelectorAll('[data-i18n]').forEach(function (el) {
      const key = el.getAttribute('data-i18n');
      if (has(key)) el.textContent = t(key);
    });
    root.querySelectorAll('[data-i18n-aria-label]').forEach(function (el) {
      const key = el.getAttribute('data-i18n-aria-label');
      if (has(key)) el.setAttribute('aria-label', t(key));
    });
  }

  window.BorneI18n = {
    load: load,
    t: t,
    has: has,
    render: render,
    apply: apply,
    get lang() { return current; }
  };
})();
