/*
 * Support gateway web chat widget. Served by the gateway as /widget.js; a site embeds it with
 *   <script src="https://support.example.com/widget.js" data-gateway="https://support.example.com"
 *           data-title="Chat with us" data-ask-contact="true" async></script>
 * Plain browser JavaScript, no dependencies. Everything lives in a Shadow DOM so the page's styles do not
 * reach it; every text from the server is inserted with textContent, never as HTML.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__supportGatewayWebchat) return;
  window.__supportGatewayWebchat = true;

  // ---- texts, in the visitor's language (data-lang, else the browser's), English when there is none ------
  var TEXTS = {
    en: {
      title: 'Chat with us',
      close: 'Close',
      empty: 'Ask us anything \u2014 we usually answer within minutes.',
      contactQuestion: 'Before we start: how can we reach you?',
      name: 'Your name',
      email: 'Email (optional)',
      start: 'Start chat',
      attach: 'Attach a file',
      input: 'Type your message\u2026',
      send: 'Send',
      edited: 'edited',
      file: 'file',
      support: 'Support',
      connecting: 'Connecting\u2026',
      connectingWithQueue: 'Connecting\u2026 your messages will be sent shortly.',
      otherTab: 'The chat is open in another tab.',
      offline: 'You are offline. Your messages will be sent when the connection is back.',
      reconnecting: 'Reconnecting\u2026',
      typing: 'Support is typing\u2026',
      tooFast: 'You are sending messages too fast; we will send this one in a moment.',
      notSavedYet: 'We could not save your message yet; it will be sent automatically.',
      failed: 'This message could not be sent.',
      uploadOffline: 'The file could not be uploaded: you seem to be offline.'
    },
    ru: {
      title: 'Напишите нам',
      close: 'Закрыть',
      empty: 'Спросите нас о чём угодно — обычно мы отвечаем за несколько минут.',
      contactQuestion: 'Прежде чем начать: как с вами связаться?',
      name: 'Ваше имя',
      email: 'Email (необязательно)',
      start: 'Начать чат',
      attach: 'Прикрепить файл',
      input: 'Напишите сообщение…',
      send: 'Отправить',
      edited: 'изменено',
      file: 'файл',
      support: 'Поддержка',
      connecting: 'Подключаемся…',
      connectingWithQueue: 'Подключаемся… ваши сообщения скоро будут отправлены.',
      otherTab: 'Чат открыт в другой вкладке.',
      offline: 'Нет соединения. Сообщения будут отправлены, когда связь восстановится.',
      reconnecting: 'Переподключаемся…',
      typing: 'Поддержка печатает…',
      tooFast: 'Вы отправляете сообщения слишком быстро; это сообщение уйдёт чуть позже.',
      notSavedYet: 'Пока не удалось сохранить сообщение; оно будет отправлено автоматически.',
      failed: 'Это сообщение не удалось отправить.',
      uploadOffline: 'Файл не загрузился: похоже, нет соединения.'
    }
  };
  var lang = (script.getAttribute('data-lang') || navigator.language || 'en').toLowerCase().split('-')[0];
  var words = TEXTS[lang] || TEXTS.en;
  function t(key) {
    return words[key] || TEXTS.en[key];
  }

  var base = (script.getAttribute('data-gateway') || new URL(script.src, location.href).origin).replace(/\/+$/, '');
  var title = script.getAttribute('data-title') || t('title');
  var askContactAttr = script.getAttribute('data-ask-contact');
  var storeKey = 'support-gateway-webchat:' + base;
  var TYPING_HINT_MS = 5000;
  var TYPING_SEND_MS = 3000;
  /** Tries of a message the server failed to store for an unexpected reason before it is shown as failed. */
  var MAX_FAILED_TRIES = 5;

  // ---- persistent state (token, contact, offline queue) -------------------------------------------------
  var memory = {};
  function load() {
    try {
      return JSON.parse(localStorage.getItem(storeKey) || '{}') || {};
    } catch (e) {
      return memory;
    }
  }
  var store = load();
  store.queue = Array.isArray(store.queue) ? store.queue : [];
  function save() {
    try {
      localStorage.setItem(storeKey, JSON.stringify(store));
    } catch (e) {
      memory = store;
    }
  }

  var session = { askContact: askContactAttr === 'true', maxFileSize: 0, allowedFileTypes: [] };
  var socket = null;
  var attempt = 0;
  var reconnectTimer = null;
  var typingTimer = null;
  var opened = false;
  var started = false;
  // Closed by the server because the chat is open in too many tabs: this tab reconnects only when used again.
  var evicted = false;
  var unread = 0;
  var rendered = {};
  // Delivery of queued messages on the current socket, by clientId: sent and waiting for the answer, waiting
  // to be sent again, how many tries the server could not store, and how many of those ended in `failed`.
  // A message leaves the queue on its ack only.
  var inFlight = {};
  var retryTimers = {};
  var tries = {};
  var failures = {};

  // ---- DOM ---------------------------------------------------------------------------------------------------
  var CSS = [
    ':host{all:initial}',
    '*{box-sizing:border-box}',
    '.root{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2937;text-align:left}',
    '.launcher{width:56px;height:56px;border-radius:50%;border:0;background:#2563eb;color:#fff;cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;position:relative;padding:0;margin:0}',
    '.launcher:hover{background:#1d4ed8}',
    '.launcher svg{width:28px;height:28px;fill:#fff}',
    '.badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;border-radius:10px;background:#dc2626;color:#fff;font-size:12px;line-height:20px;text-align:center;padding:0 5px;display:none}',
    '.panel{position:absolute;right:0;bottom:72px;width:340px;max-width:calc(100vw - 40px);height:460px;max-height:calc(100vh - 110px);background:#fff;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.25);display:none;flex-direction:column;overflow:hidden}',
    '.root.open .panel{display:flex}',
    '.header{background:#2563eb;color:#fff;padding:12px 14px;display:flex;align-items:center;justify-content:space-between;font-weight:600;font-size:15px}',
    '.close{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:0 2px}',
    '.status{font-size:12px;color:#92400e;background:#fef3c7;padding:4px 12px;display:none}',
    '.status.show{display:block}',
    '.list{flex:1;overflow-y:auto;padding:12px;background:#f3f4f6;display:flex;flex-direction:column;gap:8px}',
    '.empty{color:#6b7280;text-align:center;margin:auto 0;font-size:13px}',
    '.msg{max-width:80%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;overflow-wrap:anywhere}',
    '.msg.visitor{align-self:flex-end;background:#2563eb;color:#fff;border-bottom-right-radius:4px}',
    '.msg.operator{align-self:flex-start;background:#fff;color:#111827;border-bottom-left-radius:4px;box-shadow:0 1px 2px rgba(0,0,0,.08)}',
    '.choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}',
    '.choice{all:unset;box-sizing:border-box;min-width:36px;padding:6px 10px;border-radius:8px;border:1px solid #2563eb;color:#2563eb;background:#fff;font:inherit;text-align:center;cursor:pointer}',
    '.choice:hover{background:#eff6ff}',
    '.msg.system{align-self:center;background:#e5e7eb;color:#374151;font-size:13px}',
    '.msg.pending{opacity:.6}',
    '.msg.failed{background:#fee2e2;color:#991b1b}',
    '.msg img{display:block;max-width:100%;max-height:200px;border-radius:8px;margin-top:4px}',
    '.msg a{color:inherit;text-decoration:underline}',
    '.meta{font-size:11px;opacity:.75;margin-top:2px}',
    '.typing{font-size:12px;color:#6b7280;padding:2px 14px;height:18px;background:#f3f4f6}',
    '.composer{display:flex;gap:6px;padding:8px;border-top:1px solid #e5e7eb;background:#fff;align-items:flex-end}',
    '.composer textarea{flex:1;resize:none;border:1px solid #d1d5db;border-radius:8px;padding:7px 9px;font:inherit;color:#111827;background:#fff;height:36px;max-height:96px;outline:none}',
    '.composer textarea:focus{border-color:#2563eb}',
    '.btn{border:0;border-radius:8px;background:#2563eb;color:#fff;font:inherit;font-weight:600;padding:0 12px;height:36px;cursor:pointer}',
    '.btn.icon{background:#e5e7eb;color:#374151;width:36px;padding:0;font-size:18px}',
    '.btn:disabled{opacity:.5;cursor:default}',
    '.form{padding:16px;display:none;flex-direction:column;gap:10px;flex:1;background:#fff}',
    '.form.show{display:flex}',
    '.form p{margin:0;color:#374151}',
    '.form input{border:1px solid #d1d5db;border-radius:8px;padding:8px 10px;font:inherit;color:#111827;background:#fff}',
    '.notice{font-size:12px;color:#991b1b;padding:0 12px;min-height:0}',
  ].join('\n');

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var host = el('div');
  host.setAttribute('data-support-gateway-webchat', '');
  // The page's rules for `div` would style the host element itself; inline !important declarations win over them.
  host.setAttribute('style', 'all:initial !important;display:block !important;position:fixed !important;right:0 !important;bottom:0 !important;width:0 !important;height:0 !important;margin:0 !important;padding:0 !important;border:0 !important;z-index:2147483000 !important');
  var shadow = host.attachShadow({ mode: 'open' });
  var style = el('style');
  style.textContent = CSS;
  var rootEl = el('div', 'root');
  var launcher = el('button', 'launcher');
  launcher.type = 'button';
  launcher.setAttribute('aria-label', title);
  var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  var path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2zm3 6v2h10V9H7zm0 4v2h7v-2H7z');
  svg.appendChild(path);
  launcher.appendChild(svg);
  var badge = el('span', 'badge');
  launcher.appendChild(badge);

  var panel = el('div', 'panel');
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-label', title);
  var header = el('div', 'header');
  header.appendChild(el('span', 'title', title));
  var closeBtn = el('button', 'close', '\u00d7');
  closeBtn.type = 'button';
  closeBtn.setAttribute('aria-label', t('close'));
  header.appendChild(closeBtn);
  var statusEl = el('div', 'status');
  var list = el('div', 'list');
  var emptyEl = el('div', 'empty', t('empty'));
  list.appendChild(emptyEl);
  var typingEl = el('div', 'typing');

  var form = el('form', 'form');
  form.appendChild(el('p', '', t('contactQuestion')));
  var nameInput = el('input');
  nameInput.name = 'name';
  nameInput.placeholder = t('name');
  nameInput.maxLength = 100;
  var emailInput = el('input');
  emailInput.name = 'email';
  emailInput.type = 'email';
  emailInput.placeholder = t('email');
  emailInput.maxLength = 200;
  var startBtn = el('button', 'btn', t('start'));
  startBtn.type = 'submit';
  form.appendChild(nameInput);
  form.appendChild(emailInput);
  form.appendChild(startBtn);

  var notice = el('div', 'notice');
  var composer = el('div', 'composer');
  var fileInput = el('input');
  fileInput.type = 'file';
  fileInput.style.display = 'none';
  var attachBtn = el('button', 'btn icon attach', '+');
  attachBtn.type = 'button';
  attachBtn.title = t('attach');
  attachBtn.setAttribute('aria-label', t('attach'));
  var input = el('textarea');
  input.placeholder = t('input');
  input.rows = 1;
  input.maxLength = 4000;
  var sendBtn = el('button', 'btn send', t('send'));
  sendBtn.type = 'button';
  composer.appendChild(fileInput);
  composer.appendChild(attachBtn);
  composer.appendChild(input);
  composer.appendChild(sendBtn);

  panel.appendChild(header);
  panel.appendChild(statusEl);
  panel.appendChild(form);
  panel.appendChild(list);
  panel.appendChild(typingEl);
  panel.appendChild(notice);
  panel.appendChild(composer);
  rootEl.appendChild(panel);
  rootEl.appendChild(launcher);
  shadow.appendChild(style);
  shadow.appendChild(rootEl);

  // ---- rendering ---------------------------------------------------------------------------------------------
  function fileUrl(url) {
    return base + url + (url.indexOf('?') >= 0 ? '&' : '?') + 'token=' + encodeURIComponent(store.token || '');
  }

  /** A message whose text was changed after it was sent: the new text, marked as edited. */
  function showEdited(node, text) {
    var textEl = node.querySelector('.text');
    if (!textEl) {
      textEl = el('div', 'text');
      node.insertBefore(textEl, node.firstChild);
    }
    textEl.textContent = text;
    if (!node.querySelector('.edited')) node.appendChild(el('div', 'meta edited', t('edited')));
  }

  function renderLine(line, state) {
    var key = line.clientId ? 'c:' + line.clientId : 'i:' + line.id;
    var node = rendered[key];
    if (node) {
      node.className = 'msg ' + line.from + (state ? ' ' + state : '');
      return node;
    }
    node = el('div', 'msg ' + line.from + (state ? ' ' + state : ''));
    if (line.text) node.appendChild(el('div', 'text', line.text));
    (line.files || []).forEach(function (file) {
      if (file.url && /^image\//.test(file.mimeType || '')) {
        var img = el('img');
        img.alt = file.fileName || 'image';
        img.src = fileUrl(file.url);
        node.appendChild(img);
      } else if (file.url) {
        var link = el('a', 'file', '\ud83d\udcce ' + (file.fileName || t('file')));
        link.href = fileUrl(file.url);
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
        node.appendChild(link);
      } else {
        node.appendChild(el('div', 'file', '\ud83d\udcce ' + (file.fileName || file.kind || t('file'))));
      }
    });
    if (line.from === 'operator' || line.from === 'system') node.appendChild(el('div', 'meta', line.from === 'operator' ? t('support') : ''));
    // Buttons belong to the newest message only: anything new takes the old ones away.
    removeChoices();
    if (line.quickReplies && line.quickReplies.length) node.appendChild(choicesOf(line.quickReplies));
    if (line.edited) node.appendChild(el('div', 'meta edited', t('edited')));
    rendered[key] = node;
    if (line.id) rendered['i:' + line.id] = node;
    emptyEl.style.display = 'none';
    list.appendChild(node);
    list.scrollTop = list.scrollHeight;
    return node;
  }

  function choicesOf(labels) {
    var row = el('div', 'choices');
    labels.forEach(function (label) {
      var button = el('button', 'choice', label);
      button.type = 'button';
      button.addEventListener('click', function () {
        removeChoices();
        queueMessage(label, []);
      });
      row.appendChild(button);
    });
    return row;
  }

  function removeChoices() {
    var rows = list.querySelectorAll('.choices');
    for (var i = 0; i < rows.length; i++) rows[i].parentNode.removeChild(rows[i]);
  }

  function clearList() {
    rendered = {};
    while (list.firstChild) list.removeChild(list.firstChild);
    list.appendChild(emptyEl);
    emptyEl.style.display = '';
  }

  function setStatus(text) {
    statusEl.textContent = text || '';
    statusEl.className = 'status' + (text ? ' show' : '');
  }

  function showNotice(text) {
    notice.textContent = text || '';
    if (text) setTimeout(function () { if (notice.textContent === text) notice.textContent = ''; }, 6000);
  }

  function setBadge() {
    badge.textContent = String(unread);
    badge.style.display = unread > 0 && !opened ? 'block' : 'none';
  }

  function needsContact() {
    return session.askContact && !store.contact && Object.keys(rendered).length === 0 && store.queue.length === 0;
  }

  function refreshForm() {
    var show = needsContact();
    form.className = 'form' + (show ? ' show' : '');
    list.style.display = show ? 'none' : '';
    composer.style.display = show ? 'none' : '';
  }

  // ---- session and connection ----------------------------------------------------------------------------------
  function api(pathName, options) {
    return fetch(base + pathName, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          var error = new Error(body.error || 'HTTP ' + response.status);
          error.status = response.status;
          throw error;
        }
        return body;
      });
    });
  }

  function ensureSession() {
    return api('/webchat/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: store.token || undefined }),
    }).then(function (answer) {
      if (store.visitorId && store.visitorId !== answer.visitorId) {
        // A new identity (the old token expired or was refused): nothing of the old chat is shown any more.
        store.queue = [];
        clearList();
      }
      store.token = answer.token;
      store.visitorId = answer.visitorId;
      session.askContact = askContactAttr === null ? Boolean(answer.askContact) : askContactAttr === 'true';
      session.maxFileSize = answer.maxFileSize || 0;
      session.allowedFileTypes = answer.allowedFileTypes || [];
      save();
      refreshForm();
    });
  }

  function connect() {
    if (socket || reconnectTimer) return;
    started = true;
    evicted = false;
    setStatus(store.queue.length ? t('connectingWithQueue') : t('connecting'));
    ensureSession().then(
      function () {
        var ws = new WebSocket(base.replace(/^http/, 'ws') + '/webchat/ws?token=' + encodeURIComponent(store.token));
        socket = ws;
        ws.onopen = function () {
          setStatus('');
        };
        ws.onmessage = function (event) {
          var frame;
          try {
            frame = JSON.parse(event.data);
          } catch (e) {
            return;
          }
          onFrame(frame);
        };
        ws.onclose = function (event) {
          if (socket === ws) socket = null;
          // Answers for what was sent on this socket will never come: everything unacked goes again on the next one.
          resetDelivery();
          if (event.code === 4401) {
            store.token = null;
            save();
            scheduleReconnect(0);
          } else if (event.code === 4409) {
            evicted = true;
            setStatus(t('otherTab'));
          } else {
            scheduleReconnect();
          }
        };
      },
      function () {
        scheduleReconnect();
      },
    );
  }

  function scheduleReconnect(delay) {
    if (reconnectTimer) return;
    var wait = delay !== undefined ? delay : Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
    attempt += 1;
    setStatus(store.queue.length ? t('offline') : t('reconnecting'));
    reconnectTimer = setTimeout(function () {
      reconnectTimer = null;
      connect();
    }, wait);
  }

  function onFrame(frame) {
    if (frame.type === 'history') {
      // Only a connection that got its history counts as working: one the server closes at once keeps backing off.
      attempt = 0;
      clearList();
      var stored = {};
      frame.messages.forEach(function (line) {
        if (line.clientId) stored[line.clientId] = true;
        renderLine(line);
      });
      store.queue = store.queue.filter(function (item) { return !stored[item.clientId]; });
      save();
      store.queue.forEach(function (item) { renderLine(lineOf(item), 'pending'); });
      refreshForm();
      flush();
      confirm(frame.messages.filter(function (line) { return line.confirm; }).map(function (line) { return line.id; }));
    } else if (frame.type === 'ack') {
      settle(frame.clientId, '');
    } else if (frame.type === 'message') {
      renderLine(frame.message);
      if (frame.message.confirm) confirm([frame.message.id]);
      typingEl.textContent = '';
      if (frame.message.from !== 'visitor' && !opened) {
        unread += 1;
        setBadge();
      }
    } else if (frame.type === 'edit') {
      var edited = rendered['i:' + frame.id];
      if (edited) showEdited(edited, frame.text);
    } else if (frame.type === 'delete') {
      var removed = rendered['i:' + frame.id];
      if (removed && removed.parentNode) removed.parentNode.removeChild(removed);
    } else if (frame.type === 'typing') {
      typingEl.textContent = t('typing');
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typingEl.textContent = ''; }, TYPING_HINT_MS);
    } else if (frame.type === 'error' && frame.clientId) {
      var id = frame.clientId;
      delete inFlight[id];
      if (frame.code === 'unavailable' || frame.code === 'failed') tries[id] = (tries[id] || 0) + 1;
      if (frame.code === 'failed') failures[id] = (failures[id] || 0) + 1;
      if (frame.code === 'rate_limited') {
        showNotice(t('tooFast'));
        retryLater(id, frame.retryAfterMs || 3000);
      } else if (frame.code === 'unavailable' || (frame.code === 'failed' && failures[id] < MAX_FAILED_TRIES)) {
        // Not stored (the chat's database is unreachable, or a hiccup): it stays queued and goes again, later each time.
        setStatus(t('notSavedYet'));
        retryLater(id, Math.max(frame.retryAfterMs || 0, backoff(tries[id])));
      } else {
        settle(frame.clientId, 'failed');
        showNotice(t('failed'));
      }
    }
  }

  /** Tells the server which replies are now shown, so support sees them delivered. */
  function confirm(ids) {
    for (var i = 0; i < ids.length; i += 50) {
      if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: 'received', ids: ids.slice(i, i + 50) }));
    }
  }

  function backoff(n) {
    return Math.min(30000, 1000 * Math.pow(2, n - 1)) * (0.5 + Math.random() / 2);
  }

  function retryLater(clientId, wait) {
    clearTimeout(retryTimers[clientId]);
    retryTimers[clientId] = setTimeout(function () {
      delete retryTimers[clientId];
      flush();
    }, wait);
  }

  function resetDelivery() {
    Object.keys(retryTimers).forEach(function (id) { clearTimeout(retryTimers[id]); });
    inFlight = {};
    retryTimers = {};
  }

  function settle(clientId, state) {
    clearTimeout(retryTimers[clientId]);
    delete retryTimers[clientId];
    delete inFlight[clientId];
    delete tries[clientId];
    delete failures[clientId];
    var item = store.queue.filter(function (i) { return i.clientId === clientId; })[0];
    store.queue = store.queue.filter(function (i) { return i.clientId !== clientId; });
    save();
    if (item) renderLine(lineOf(item), state);
    if (!store.queue.length && socket && socket.readyState === 1) setStatus('');
  }

  function lineOf(item) {
    return { id: 'local-' + item.clientId, clientId: item.clientId, from: 'visitor', text: item.text, files: item.files };
  }

  /** Sends every queued message that is neither waiting for its answer nor for its next try. */
  function flush() {
    if (!socket || socket.readyState !== 1) return;
    store.queue.forEach(function (item) {
      if (inFlight[item.clientId] || retryTimers[item.clientId]) return;
      inFlight[item.clientId] = true;
      socket.send(
        JSON.stringify({
          type: 'message',
          clientId: item.clientId,
          text: item.text,
          files: item.files.map(function (f) { return f.id; }),
          profile: Object.assign({ language: navigator.language }, store.contact || {}),
          page: location.href,
        }),
      );
    });
  }

  // ---- sending ----------------------------------------------------------------------------------------------------
  function newClientId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function queueMessage(text, files) {
    var item = { clientId: newClientId(), text: text, files: files || [] };
    store.queue.push(item);
    save();
    renderLine(lineOf(item), 'pending');
    if (!socket || socket.readyState !== 1) {
      setStatus(t('offline'));
      connect();
    } else {
      flush();
    }
  }

  function sendText() {
    var text = input.value.trim();
    if (!text) return;
    input.value = '';
    queueMessage(text, []);
  }

  function upload(file, retried) {
    if (session.maxFileSize && file.size > session.maxFileSize) {
      showNotice('That file is too large (the limit is ' + Math.round(session.maxFileSize / 1048576) + ' MB).');
      return;
    }
    attachBtn.disabled = true;
    var ready = store.token ? Promise.resolve() : ensureSession();
    ready
      .then(function () {
        return api('/webchat/upload', {
          method: 'POST',
          headers: { authorization: 'Bearer ' + store.token, 'content-type': file.type || 'application/octet-stream', 'x-file-name': encodeURIComponent(file.name) },
          body: file,
        });
      })
      .then(
        function (answer) {
          attachBtn.disabled = false;
          queueMessage('', [answer]);
        },
        function (error) {
          attachBtn.disabled = false;
          if (error.status === 401 && !retried) {
            store.token = null;
            return ensureSession().then(function () { upload(file, true); });
          }
          showNotice(error.status ? error.message : t('uploadOffline'));
        },
      );
  }

  // ---- events ------------------------------------------------------------------------------------------------------
  function toggle(open) {
    opened = open;
    rootEl.className = 'root' + (open ? ' open' : '');
    if (open) {
      unread = 0;
      connect();
      refreshForm();
      setTimeout(function () { (needsContact() ? nameInput : input).focus(); }, 0);
    }
    setBadge();
  }

  launcher.addEventListener('click', function () { toggle(!opened); });
  closeBtn.addEventListener('click', function () { toggle(false); });
  sendBtn.addEventListener('click', sendText);
  input.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      sendText();
    }
  });
  // Tells support the visitor is typing, at most every few seconds.
  var typingSentAt = 0;
  input.addEventListener('input', function () {
    var now = Date.now();
    if (!input.value || now - typingSentAt < TYPING_SEND_MS || !socket || socket.readyState !== 1) return;
    typingSentAt = now;
    socket.send(JSON.stringify({ type: 'typing' }));
  });
  attachBtn.addEventListener('click', function () { fileInput.click(); });
  fileInput.addEventListener('change', function () {
    var file = fileInput.files && fileInput.files[0];
    fileInput.value = '';
    if (file) upload(file);
  });
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    store.contact = { name: nameInput.value.trim() || undefined, email: emailInput.value.trim() || undefined };
    save();
    refreshForm();
    input.focus();
  });
  // A tab closed for another one comes back when the visitor looks at it again.
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && evicted && !socket) connect();
  });
  window.addEventListener('online', function () {
    if (!started || socket) return;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    attempt = 0;
    connect();
  });

  function mount() {
    document.body.appendChild(host);
    // A returning visitor (or one with unsent messages) reconnects at once to get replies and send the queue.
    if (store.token || store.queue.length) connect();
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
