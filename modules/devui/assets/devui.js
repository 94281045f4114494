// Titan dev UI: the service explorer and tester, the event monitor, the
// peers and a glance at the metrics of a Titan app. Plain JavaScript, no
// build step, nothing loaded from elsewhere; the API it uses is served
// beside it (api/..., relative URLs), as the package doc of modules/devui
// describes.
'use strict';

(() => {
  // The token is kept for the tab by the UI's path: the UIs of several
  // apps behind one origin (a reverse proxy's paths) share the tab's
  // session storage, and the token of one is not the token of another.
  const TOKEN_KEY = 'titan-devui-token ' + new URL('.', location.href).pathname;
  const MAX_EVENTS = 500;

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    info: null,
    services: [],
    current: null, // {service, method}
    form: null, // {read(): args}
    jsonMode: false,
    stream: null, // AbortController of the running stream
    socket: null,
    pending: [], // messages waiting for the socket to open
    patterns: new Map(), // pattern -> 'pending' | 'active'
    events: 0,
    timers: {},
  };

  // ---- small helpers ----

  const $ = (sel, root = document) => root.querySelector(sel);

  // h builds an element: h('div', {class: 'x', text: 'y'}, child, ...).
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else if (k in e && typeof v !== 'string') e[k] = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // parseJSON parses JSON text keeping each integer beyond 2^53 as its
  // text (JSON.rawJSON, which JSON.stringify writes as it came): a 64-bit
  // id is shown and sent as the app has it, not rounded to the nearest
  // JavaScript number. A browser without JSON.rawJSON parses as usual.
  const exactIntegers = typeof JSON.rawJSON === 'function';
  const integerText = /^-?(0|[1-9][0-9]*)$/;

  function parseJSON(text) {
    if (!exactIntegers) return JSON.parse(text);
    return JSON.parse(text, (k, v, ctx) => (typeof v === 'number' && !Number.isSafeInteger(v) &&
      ctx && integerText.test(ctx.source) ? JSON.rawJSON(ctx.source) : v));
  }

  // valueText is String(v) for a value parseJSON returned: the text of an
  // integer it kept (which String refuses) as the app wrote it.
  function valueText(v) {
    return exactIntegers && JSON.isRawJSON(v) ? v.rawJSON : String(v);
  }

  function pretty(v) {
    if (v === undefined) return '';
    return JSON.stringify(v, null, 2);
  }

  function qualified(s) {
    return s.version ? `${s.name}@${s.version}` : s.name;
  }

  function headers(extra) {
    const hd = Object.assign({}, extra || {});
    if (state.token) hd['Authorization'] = 'Bearer ' + state.token;
    return hd;
  }

  // failure is the {code, message} of a failed answer or request.
  function failure(res, body) {
    if (body && body.error) return body.error;
    if (res) return { code: String(res.status), message: res.statusText || 'the request failed' };
    return { code: 'unavailable', message: 'the app did not answer' };
  }

  // getJSON GETs path and returns its JSON answer; exact keeps the
  // integers beyond 2^53 as parseJSON does (the values of contracts).
  async function getJSON(path, exact) {
    let res;
    try {
      res = await fetch(path, { headers: headers(), cache: 'no-store' });
    } catch (e) {
      throw { code: 'unavailable', message: 'the app did not answer: ' + e.message };
    }
    let body = null;
    try {
      body = exact ? parseJSON(await res.text()) : await res.json();
    } catch (e) {
      body = null;
    }
    if (!res.ok || body === null) throw failure(res, body);
    return body;
  }

  function errorBox(err, cls) {
    return h('div', { class: cls || 'failure' },
      h('span', { class: 'code', text: err.code || 'unknown' }), ' ',
      h('span', { class: 'message', text: err.message || '' }));
  }

  // ---- tabs ----

  function showView(name) {
    for (const tab of document.querySelectorAll('.tab')) {
      const on = tab.dataset.view === name;
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      $('#view-' + tab.dataset.view).hidden = !on;
    }
    clearInterval(state.timers.refresh);
    if (name === 'peers') {
      loadPeers();
      state.timers.refresh = setInterval(loadPeers, 5000);
    } else if (name === 'metrics') {
      loadMetrics();
      state.timers.refresh = setInterval(loadMetrics, 5000);
    }
  }

  // ---- header ----

  async function loadInfo() {
    try {
      state.info = await getJSON('api/info');
      const i = state.info;
      $('#app-info').textContent = i.remote ? `${i.app} (remote) · ${i.id}` : `${i.app} · ${i.id}`;
      if (!i.patterns) {
        $('#event-pattern').value = '';
        $('#event-pattern').placeholder = 'an event name, such as calculator.computed';
        $('#pattern-hint').textContent = 'A remote app sends the events a peer names exactly: give an event name (no * or >).';
      }
    } catch (err) {
      $('#app-info').textContent = `${err.code}: ${err.message}`;
    }
  }

  // ---- services ----

  async function loadServices() {
    const list = $('#services');
    try {
      state.services = await getJSON('api/services', true);
    } catch (err) {
      state.services = [];
      list.replaceChildren(h('p', { class: 'muted', text: 'The services could not be listed:' }), errorBox(err));
      return;
    }
    renderServices();
    const sel = selectionFromHash();
    if (sel && find(sel.service, sel.method)) {
      select(sel.service, sel.method);
    } else if (state.current && find(state.current.service, state.current.method)) {
      select(state.current.service, state.current.method);
    } else if (state.current) {
      state.current = null;
      $('#method').replaceChildren(h('div', { class: 'placeholder' },
        h('h2', { text: 'Pick a method' }),
        h('p', { class: 'muted', text: 'The method shown before is not among those the token may call.' })));
    }
  }

  function find(service, method) {
    const s = state.services.find((x) => qualified(x) === service);
    return s && s.methods.find((m) => m.name === method) ? { s, m: s.methods.find((m) => m.name === method) } : null;
  }

  function renderServices() {
    const list = $('#services');
    if (state.services.length === 0) {
      list.replaceChildren(h('p', { class: 'muted pad',
        text: state.token ? 'The token may call no service of the app.' :
          'No service is shown: the app serves none here, or it shows its services only to callers with a token.' }));
      return;
    }
    list.replaceChildren(...state.services.map((s) => h('section', { class: 'service' },
      h('h3', { text: qualified(s) }),
      h('div', { class: 'sid', text: s.id, title: 'definition id' }),
      s.transports && s.transports.length ? h('div', { class: 'sid', text: 'transports: ' + s.transports.join(', ') }) : null,
      h('ul', {}, s.methods.map((m) => h('li', {},
        h('button', {
          type: 'button', class: 'method-button', 'data-service': qualified(s), 'data-method': m.name,
          onclick: () => select(qualified(s), m.name),
        }, h('span', { text: m.name }), badges(m))))))));
  }

  function badges(m) {
    return h('span', {},
      m.stream ? h('span', { class: 'badge stream', text: 'stream' }) : null,
      m.void ? h('span', { class: 'badge void', text: 'void' }) : null);
  }

  function selectionFromHash() {
    const m = /^#\/([^/]+)\/([^/]+)$/.exec(location.hash);
    if (!m) return null;
    try {
      return { service: decodeURIComponent(m[1]), method: decodeURIComponent(m[2]) };
    } catch (e) {
      return null; // not a method's fragment: a stray "%"
    }
  }

  function select(service, method) {
    const found = find(service, method);
    if (!found) return;
    stopStream();
    state.current = { service, method };
    state.jsonMode = false;
    const hash = `#/${encodeURIComponent(service)}/${encodeURIComponent(method)}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
    for (const b of document.querySelectorAll('.method-button')) {
      b.setAttribute('aria-current', b.dataset.service === service && b.dataset.method === method ? 'true' : 'false');
    }
    renderMethod(found.s, found.m);
  }

  function renderMethod(s, m) {
    const input = parseSchema(m.input);
    const output = parseSchema(m.output);
    const form = h('form', { id: 'call-form', class: 'args', novalidate: true });
    const fields = h('div', { id: 'fields', class: 'args' });
    state.form = buildArgs(input);
    fields.append(state.form.node);
    const jsonArea = h('textarea', { id: 'args-json', spellcheck: 'false', rows: 6, hidden: true,
      placeholder: '[ ...the positional arguments... ]' });
    const toggle = h('button', { id: 'json-toggle', type: 'button', text: 'Edit as JSON' });
    toggle.addEventListener('click', () => {
      if (!state.jsonMode) {
        let args = [];
        try {
          args = state.form.read();
        } catch (e) {
          args = [];
        }
        jsonArea.value = JSON.stringify(args, null, 2);
      }
      state.jsonMode = !state.jsonMode;
      jsonArea.hidden = !state.jsonMode;
      fields.hidden = state.jsonMode;
      toggle.textContent = state.jsonMode ? 'Edit as a form' : 'Edit as JSON';
    });
    const call = h('button', { id: 'call-button', type: 'submit', class: 'primary', text: m.stream ? 'Open stream' : 'Call' });
    const stop = h('button', { id: 'stop-button', type: 'button', text: 'Stop', hidden: true, onclick: stopStream });
    form.append(fields, jsonArea, h('div', { class: 'actions' }, call, stop, h('span', { class: 'spacer' }), toggle));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      run(s, m, jsonArea);
    });

    const schemas = h('details', { class: 'schemas card', open: true },
      h('summary', { text: 'Contracts (JSON Schema 2020-12)' }),
      h('h4', { text: 'Input (the positional arguments)' }),
      h('pre', { id: 'input-schema', class: 'schema', text: input ? pretty(withoutDialect(input)) : 'none published' }),
      h('h4', { text: m.stream ? 'Output (each item)' : 'Output' }),
      h('pre', { id: 'output-schema', class: 'schema', text: m.void ? 'none: the method is void' : (output ? pretty(withoutDialect(output)) : 'none published') }));

    $('#method').replaceChildren(
      h('div', { class: 'method-head' },
        h('h2', { id: 'method-title' }, h('span', { class: 'svc', text: qualified(s) + ' · ' }), m.name), badges(m)),
      h('div', { class: 'columns' },
        h('div', {},
          h('div', { class: 'card' }, h('h3', { text: 'Call' }), form),
          h('div', { id: 'result', class: 'result', hidden: true })),
        schemas));
  }

  // withoutDialect leaves out "$schema", the same for every contract
  // (JSON Schema 2020-12).
  function withoutDialect(schema) {
    if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return schema;
    const out = Object.assign({}, schema);
    delete out.$schema;
    return out;
  }

  function parseSchema(text) {
    if (text === undefined || text === null) return null;
    if (typeof text === 'object') return text;
    try {
      return parseJSON(text);
    } catch (e) {
      return null;
    }
  }

  // ---- the form made from the input schema ----

  // deref follows "$ref": "#/$defs/..." within the schema's root, adding
  // the references it follows to refs when given.
  function deref(s, root, refs) {
    let cur = s || {};
    for (let i = 0; i < 32 && cur && typeof cur.$ref === 'string'; i++) {
      const ref = cur.$ref;
      if (refs) refs.push(ref);
      if (!ref.startsWith('#/')) return {};
      let target = root;
      for (const part of ref.slice(2).split('/')) {
        const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
        target = target && typeof target === 'object' ? target[key] : undefined;
      }
      cur = target || {};
    }
    return cur || {};
  }

  let fieldSeq = 0;

  // buildArgs returns the form of the positional arguments: {node, read}.
  function buildArgs(schema) {
    const root = schema || {};
    const s = deref(schema, root);
    const wrap = h('div', { class: 'args' });
    if (!schema) {
      const f = jsonField({}, 'arguments (a JSON array)', 'args', false, root);
      wrap.append(f.node);
      return { node: wrap, read: () => {
        const r = f.read();
        if (!r.set) return [];
        if (!Array.isArray(r.value)) throw new Error('the arguments must be a JSON array');
        return r.value;
      } };
    }
    const items = Array.isArray(s.prefixItems) ? s.prefixItems : null;
    if (!items) {
      const f = jsonField(s, 'arguments (a JSON array)', 'args', false, root);
      wrap.append(f.node);
      return { node: wrap, read: () => {
        const r = f.read();
        return r.set ? r.value : [];
      } };
    }
    if (items.length === 0) {
      wrap.append(h('p', { class: 'muted', text: 'The method takes no arguments.' }));
      return { node: wrap, read: () => [] };
    }
    const fields = items.map((item, i) => {
      const d = deref(item, root);
      const f = field(item, d.title || `argument ${i + 1}`, String(i), true, root);
      wrap.append(f.node);
      return f;
    });
    return { node: wrap, read: () => fields.map((f) => {
      const r = f.read();
      return r.set ? r.value : null;
    }) };
  }

  function typeName(s) {
    if (Array.isArray(s.type)) return s.type.join(' | ');
    if (s.type) return s.type;
    if (s.enum) return 'enum';
    return 'JSON';
  }

  function labelFor(id, text, s, required) {
    return h('label', { for: id },
      text,
      required ? h('span', { class: 'req', text: '*', title: 'required' }) : null,
      h('span', { class: 'type', text: typeName(s) }));
  }

  // field returns the input of one value: {node, read() -> {set, value}}.
  // expanding holds the "$ref"s of the objects it is within: an object
  // whose schema comes back to one of them (a recursive schema) is
  // entered as JSON.
  function field(schema, label, path, required, root, expanding) {
    const refs = [];
    let s = deref(schema, root, refs);
    const alts = s.anyOf || s.oneOf;
    let nullable = false;
    if (Array.isArray(alts)) {
      const nonNull = alts.filter((a) => deref(a, root).type !== 'null');
      if (nonNull.length === 1 && nonNull.length < alts.length) {
        const d = deref(nonNull[0], root, refs);
        s = Object.assign({}, d, { description: s.description || d.description });
        nullable = true;
      } else {
        return jsonField(s, label, path, required, root);
      }
    }
    let type = s.type;
    if (Array.isArray(type)) {
      const nonNull = type.filter((t) => t !== 'null');
      nullable = nullable || nonNull.length < type.length;
      type = nonNull.length === 1 ? nonNull[0] : undefined;
    }
    if (Array.isArray(s.enum)) return enumField(s, label, path, required);
    switch (type) {
      case 'number':
      case 'integer':
        return numberField(s, type, label, path, required);
      case 'string':
        return stringField(s, label, path, required, nullable);
      case 'boolean':
        return boolField(s, label, path);
      case 'object':
        expanding = expanding || new Set();
        if (s.properties && typeof s.properties === 'object' && !refs.some((r) => expanding.has(r))) {
          return objectField(s, label, path, required, root, new Set([...expanding, ...refs]));
        }
        return jsonField(s, label, path, required, root);
      default:
        return jsonField(s, label, path, required, root);
    }
  }

  function fieldID(path) {
    fieldSeq += 1;
    return 'arg-' + path.replace(/[^A-Za-z0-9_-]/g, '_') + '-' + fieldSeq;
  }

  function describe(s) {
    return s.description ? h('div', { class: 'desc', text: s.description }) : null;
  }

  function numberField(s, type, label, path, required) {
    const id = fieldID(path);
    const input = h('input', { id, type: 'number', step: type === 'integer' ? '1' : 'any', 'data-path': path,
      placeholder: s.default !== undefined ? valueText(s.default) : type });
    if (s.minimum !== undefined) input.min = valueText(s.minimum);
    if (s.maximum !== undefined) input.max = valueText(s.maximum);
    return {
      node: h('div', { class: 'field' }, labelFor(id, label, s, required), input, describe(s)),
      read: () => {
        const text = input.value.trim();
        if (text === '') return { set: false };
        const n = Number(text);
        if (!Number.isFinite(n)) throw new Error(`${label}: ${input.value} is not a number`);
        if (exactIntegers && !Number.isSafeInteger(n) && integerText.test(text)) return { set: true, value: JSON.rawJSON(text) };
        return { set: true, value: n };
      },
    };
  }

  function stringField(s, label, path, required, nullable) {
    const id = fieldID(path);
    const input = h('input', { id, type: 'text', spellcheck: 'false', 'data-path': path,
      placeholder: s.format || (s.default !== undefined ? valueText(s.default) : 'string') });
    return {
      node: h('div', { class: 'field' }, labelFor(id, label, s, required), input, describe(s)),
      read: () => {
        if (input.value === '' && (!required || nullable)) return { set: false };
        return { set: true, value: input.value };
      },
    };
  }

  function boolField(s, label, path) {
    const id = fieldID(path);
    const input = h('input', { id, type: 'checkbox', 'data-path': path });
    if (s.default === true) input.checked = true;
    return {
      node: h('div', { class: 'field check' }, input, labelFor(id, label, s, false), describe(s)),
      read: () => ({ set: true, value: input.checked }),
    };
  }

  function enumField(s, label, path, required) {
    const id = fieldID(path);
    const select = h('select', { id, 'data-path': path },
      h('option', { value: '', text: required ? '— pick one —' : '— none —' }),
      s.enum.map((v, i) => h('option', { value: String(i), text: JSON.stringify(v) })));
    return {
      node: h('div', { class: 'field' }, labelFor(id, label, s, required), select, describe(s)),
      read: () => (select.value === '' ? { set: false } : { set: true, value: s.enum[Number(select.value)] }),
    };
  }

  function objectField(s, label, path, required, root, expanding) {
    const req = new Set(Array.isArray(s.required) ? s.required : []);
    const set = h('fieldset', { 'data-path': path },
      h('legend', {}, label, required ? h('span', { class: 'req', text: '*' }) : null));
    const d = describe(s);
    if (d) set.append(d);
    const props = Object.entries(s.properties).map(([name, ps]) => {
      const f = field(ps, name, path + '.' + name, req.has(name), root, expanding);
      set.append(f.node);
      return [name, f];
    });
    return {
      node: set,
      read: () => {
        // No prototype: a field named __proto__ is a field like the
        // others, not the object's prototype.
        const out = Object.create(null);
        let any = false;
        for (const [name, f] of props) {
          const r = f.read();
          if (r.set) {
            out[name] = r.value;
            any = true;
          }
        }
        return { set: any || required, value: out };
      },
    };
  }

  function jsonField(s, label, path, required, root) {
    const id = fieldID(path);
    const area = h('textarea', { id, rows: 3, spellcheck: 'false', 'data-path': path,
      placeholder: s.type === 'array' ? '[ ... ]' : 'JSON' });
    return {
      node: h('div', { class: 'field' }, labelFor(id, label, s, required), area, describe(s)),
      read: () => {
        if (area.value.trim() === '') return { set: false };
        try {
          return { set: true, value: parseJSON(area.value) };
        } catch (e) {
          throw new Error(`${label}: not valid JSON (${e.message})`);
        }
      },
    };
  }

  // ---- calls ----

  function readArgs(jsonArea) {
    if (!state.jsonMode) return state.form.read();
    const text = jsonArea.value.trim();
    if (text === '') return [];
    let args;
    try {
      args = parseJSON(text);
    } catch (e) {
      throw new Error('the arguments are not valid JSON: ' + e.message);
    }
    if (!Array.isArray(args)) throw new Error('the arguments must be a JSON array');
    return args;
  }

  function showResult(node, cls) {
    const r = $('#result');
    if (!r) return;
    r.className = 'result ' + cls;
    r.hidden = false;
    r.replaceChildren(...node.filter((n) => n !== null && n !== undefined));
  }

  function showError(err, extra) {
    showResult([
      h('div', { class: 'head' }, h('span', { id: 'error-code', class: 'code', text: err.code || 'unknown' }), extra || null),
      h('p', { id: 'error-message', class: 'message', text: err.message || '' }),
      err.details !== undefined ? h('pre', { class: 'details', text: pretty(err.details) }) : null,
    ], 'error');
  }

  async function run(s, m, jsonArea) {
    let args;
    try {
      args = readArgs(jsonArea);
    } catch (e) {
      showError({ code: 'invalid_argument', message: e.message }, 'not sent');
      return;
    }
    const body = JSON.stringify({ service: qualified(s), method: m.name, args });
    if (m.stream) {
      runStream(body);
      return;
    }
    const button = $('#call-button');
    button.disabled = true;
    showResult([h('div', { class: 'head', text: 'Calling…' })], 'pending');
    let res;
    let data = null;
    try {
      res = await fetch('api/call', { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body });
      try {
        data = parseJSON(await res.text());
      } catch (e) {
        data = null;
      }
    } catch (e) {
      showError({ code: 'unavailable', message: 'the app did not answer: ' + e.message });
      return;
    } finally {
      button.disabled = false;
    }
    if (!res.ok || !data || data.error) {
      showError(failure(res, data), h('span', { text: `HTTP ${res.status}` }));
      return;
    }
    showResult([
      h('div', { class: 'head' }, h('span', { text: 'Result' }), h('span', { text: `${data.ms} ms` })),
      m.void ? h('p', { id: 'result-value', class: 'value muted', text: 'done (the method is void)' }) :
        h('pre', { id: 'result-value', class: 'value', text: pretty(data.result) }),
    ], 'ok');
  }

  function stopStream() {
    if (state.stream) {
      state.stream.abort();
      state.stream = null;
    }
  }

  async function runStream(body) {
    stopStream();
    const ctrl = new AbortController();
    state.stream = ctrl;
    const call = $('#call-button');
    const stop = $('#stop-button');
    call.disabled = true;
    stop.hidden = false;
    const list = h('ol', { id: 'stream-items', class: 'items', start: '1' });
    const status = h('span', { id: 'stream-status', text: 'receiving…' });
    const count = h('span', { id: 'stream-count', text: '0 items' });
    showResult([h('div', { class: 'head' }, h('span', { text: 'Stream' }), count, status), list], 'ok');
    let items = 0;
    const done = () => {
      call.disabled = false;
      stop.hidden = true;
      if (state.stream === ctrl) state.stream = null;
    };
    let res;
    try {
      res = await fetch('api/stream', { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body, signal: ctrl.signal });
    } catch (e) {
      done();
      if (e.name === 'AbortError') status.textContent = 'stopped';
      else showError({ code: 'unavailable', message: 'the app did not answer: ' + e.message });
      return;
    }
    if (!res.ok) {
      let data = null;
      try {
        data = parseJSON(await res.text());
      } catch (e) {
        data = null;
      }
      done();
      showError(failure(res, data), h('span', { text: `HTTP ${res.status}` }));
      return;
    }
    const handle = (line) => {
      if (line.trim() === '') return;
      let msg;
      try {
        msg = parseJSON(line);
      } catch (e) {
        status.textContent = 'an unreadable line arrived';
        return;
      }
      if ('item' in msg) {
        items += 1;
        list.append(h('li', {}, h('pre', { text: pretty(msg.item) })));
        count.textContent = `${items} item${items === 1 ? '' : 's'}`;
      } else if (msg.error) {
        const r = $('#result');
        r.className = 'result error';
        status.replaceChildren(h('span', { id: 'error-code', class: 'code', text: msg.error.code }), ' ',
          h('span', { id: 'error-message', text: msg.error.message }));
      } else if (msg.end) {
        status.textContent = msg.stopped ? msg.stopped : `ended after ${msg.items} item${msg.items === 1 ? '' : 's'} in ${msg.ms} ms`;
      }
    };
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buf += decoder.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          handle(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      }
      handle(buf + decoder.decode());
    } catch (e) {
      status.textContent = e.name === 'AbortError' ? 'stopped' : 'the stream broke off: ' + e.message;
    } finally {
      done();
    }
  }

  // ---- events ----

  function socketURL() {
    const u = new URL('api/events', location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.toString();
  }

  function send(msg) {
    const s = state.socket;
    if (s && s.readyState === WebSocket.OPEN) {
      s.send(JSON.stringify(msg));
      return;
    }
    state.pending.push(msg);
    if (!s || s.readyState === WebSocket.CLOSING || s.readyState === WebSocket.CLOSED) openSocket();
  }

  function eventsStatus(text, bad) {
    const st = $('#events-status');
    st.textContent = text;
    st.classList.toggle('bad', !!bad);
  }

  function openSocket() {
    let s;
    try {
      s = new WebSocket(socketURL());
    } catch (e) {
      eventsStatus('The event feed could not be opened: ' + e.message, true);
      return;
    }
    state.socket = s;
    eventsStatus('Connecting to the event feed…');
    s.addEventListener('open', () => {
      eventsStatus('Connected.');
      const queued = state.pending;
      state.pending = [];
      for (const m of queued) s.send(JSON.stringify(Object.assign({}, m, m.subscribe ? { token: state.token || undefined } : {})));
    });
    s.addEventListener('message', (ev) => {
      if (state.socket !== s) return; // a feed of the token before
      let msg;
      try {
        msg = parseJSON(ev.data);
      } catch (e) {
        return;
      }
      onFeed(msg);
    });
    s.addEventListener('close', (ev) => {
      if (state.socket !== s) return;
      state.socket = null;
      for (const p of state.patterns.keys()) state.patterns.set(p, 'closed');
      renderChips();
      eventsStatus(`The event feed closed${ev.reason ? ': ' + ev.reason : ''}. Subscribe again to reopen it.`, true);
    });
  }

  function onFeed(msg) {
    if (msg.event) {
      addEvent(msg.event);
    } else if (msg.subscribed !== undefined) {
      state.patterns.set(msg.subscribed, 'active');
      renderChips();
      eventsStatus(`Subscribed to ${msg.subscribed}.`);
    } else if (msg.unsubscribed !== undefined) {
      state.patterns.delete(msg.unsubscribed);
      renderChips();
      eventsStatus(`Unsubscribed from ${msg.unsubscribed}.`);
    } else if (msg.error) {
      if (msg.pattern) {
        state.patterns.delete(msg.pattern);
        renderChips();
      }
      eventsStatus(`${msg.error.code}: ${msg.error.message}`, true);
    } else if (msg.dropped) {
      eventsStatus(`${msg.dropped} events were left out: the page read them too slowly.`, true);
    }
  }

  function addEvent(e) {
    state.events += 1;
    const list = $('#event-list');
    const item = h('li', { class: 'event', 'data-topic': e.topic },
      h('div', { class: 'meta' },
        h('span', { class: 'topic', text: e.topic }),
        h('span', { text: e.time }),
        h('span', { text: 'matched ' + e.pattern }),
        e.peer ? h('span', { text: 'from peer ' + e.peer }) : null),
      e.payloadError ? h('p', { class: 'muted', text: e.payloadError }) : h('pre', { text: pretty(e.payload) }));
    list.prepend(item);
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
  }

  function renderChips() {
    const box = $('#subscriptions');
    box.replaceChildren(...[...state.patterns.entries()].map(([p, st]) => h('span', { class: 'chip', 'data-pattern': p, 'data-state': st, title: st },
      p + (st === 'active' ? '' : ` (${st})`),
      h('button', { type: 'button', title: 'unsubscribe', 'aria-label': 'unsubscribe from ' + p, text: '×',
        onclick: () => unsubscribe(p) }))));
  }

  function subscribe(pattern) {
    pattern = pattern.trim();
    if (pattern === '') {
      eventsStatus('Give an event name or pattern.', true);
      return;
    }
    state.patterns.set(pattern, 'pending');
    renderChips();
    const s = state.socket;
    if (s && s.readyState === WebSocket.OPEN) {
      s.send(JSON.stringify({ subscribe: pattern, token: state.token || undefined }));
    } else if (s && s.readyState === WebSocket.CONNECTING) {
      state.pending.push({ subscribe: pattern }); // sent once it opens
    } else {
      // Reopening: every pattern is subscribed again.
      state.pending = [...state.patterns.keys()].map((p) => ({ subscribe: p }));
      openSocket();
    }
  }

  // resubscribe makes the subscriptions again with the token now
  // entered, on a new feed: those of the feed open were the token's
  // before.
  function resubscribe() {
    const s = state.socket;
    if (!s) return;
    state.socket = null;
    s.close(1000, 'the token changed');
    if (state.patterns.size === 0) return;
    for (const p of state.patterns.keys()) state.patterns.set(p, 'pending');
    renderChips();
    state.pending = [...state.patterns.keys()].map((p) => ({ subscribe: p }));
    openSocket();
  }

  function unsubscribe(pattern) {
    const s = state.socket;
    if (s && s.readyState === WebSocket.OPEN && state.patterns.get(pattern) === 'active') {
      send({ unsubscribe: pattern });
    } else {
      state.patterns.delete(pattern);
      renderChips();
    }
  }

  // ---- peers and metrics ----

  async function loadPeers() {
    const body = $('#peers-table tbody');
    const st = $('#peers-status');
    let peers;
    try {
      peers = await getJSON('api/peers');
    } catch (err) {
      st.textContent = `${err.code}: ${err.message}`;
      st.classList.add('bad');
      body.replaceChildren();
      return;
    }
    st.classList.remove('bad');
    st.textContent = `${peers.length} peer${peers.length === 1 ? '' : 's'} · ${new Date().toLocaleTimeString()}`;
    body.replaceChildren(...peers.map((p) => h('tr', {},
      h('td', { class: 'mono', text: p.id || '—' }),
      h('td', { class: 'mono', text: p.remoteAddr }),
      h('td', { text: p.transport }),
      h('td', { text: p.dialled ? 'dialled by this app' : 'dialled this app' }),
      h('td', { text: p.connected ? 'connected' : 'reconnecting' }),
      h('td', { class: 'num', text: String(p.inFlight) }))));
    if (peers.length === 0) body.append(h('tr', {}, h('td', { colspan: '6', class: 'muted', text: 'No peer is connected.' })));
  }

  function formatFigure(f) {
    if (f.unit === 'bytes') {
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let v = f.value;
      let i = 0;
      while (v >= 1024 && i < units.length - 1) {
        v /= 1024;
        i += 1;
      }
      return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
    }
    if (f.unit === 'seconds') return `${f.value.toFixed(2)} s`;
    return Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(2);
  }

  async function loadMetrics() {
    const st = $('#metrics-status');
    const figures = $('#figures');
    const body = $('#calls-table tbody');
    let g;
    try {
      g = await getJSON('api/metrics');
    } catch (err) {
      st.textContent = `${err.code}: ${err.message}`;
      st.classList.add('bad');
      figures.replaceChildren();
      body.replaceChildren();
      return;
    }
    st.classList.remove('bad');
    if (!g.available) {
      st.textContent = g.reason || 'no metrics';
      figures.replaceChildren();
      body.replaceChildren();
      return;
    }
    st.textContent = new Date().toLocaleTimeString();
    figures.replaceChildren(...(g.figures || []).map((f) => h('div', {}, h('dt', { text: f.name }), h('dd', { text: formatFigure(f) }))));
    body.replaceChildren(...(g.calls || []).map((c) => h('tr', {},
      h('td', { text: c.service }),
      h('td', { class: 'mono', text: c.method }),
      h('td', { class: 'num', text: String(c.started) }),
      h('td', { class: 'num', text: String(c.ok) }),
      h('td', { class: 'num', title: c.codes ? Object.entries(c.codes).map(([k, v]) => `${k}: ${v}`).join(', ') : '', text: String(c.failed) }),
      h('td', { class: 'num', text: String(c.inFlight) }),
      h('td', { class: 'num', text: `${(c.meanSeconds * 1000).toFixed(2)} ms` }))));
    if (!g.calls || g.calls.length === 0) body.append(h('tr', {}, h('td', { colspan: '7', class: 'muted', text: 'No call served yet.' })));
  }

  // ---- start ----

  function start() {
    for (const tab of document.querySelectorAll('.tab')) {
      tab.addEventListener('click', () => showView(tab.dataset.view));
    }
    const token = $('#token');
    token.value = state.token;
    token.addEventListener('change', () => {
      state.token = token.value.trim();
      if (state.token) sessionStorage.setItem(TOKEN_KEY, state.token);
      else sessionStorage.removeItem(TOKEN_KEY);
      resubscribe();
      loadServices();
      if (!$('#view-peers').hidden) loadPeers();
      if (!$('#view-metrics').hidden) loadMetrics();
    });
    $('#subscribe-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      subscribe($('#event-pattern').value);
    });
    $('#clear-events').addEventListener('click', () => {
      $('#event-list').replaceChildren();
    });
    $('#refresh-peers').addEventListener('click', loadPeers);
    $('#refresh-metrics').addEventListener('click', loadMetrics);
    window.addEventListener('hashchange', () => {
      const sel = selectionFromHash();
      if (sel && (!state.current || sel.service !== state.current.service || sel.method !== state.current.method)) select(sel.service, sel.method);
    });
    loadInfo();
    loadServices();
  }

  start();
})();
