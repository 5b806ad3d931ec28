// The grid worker's phone pages (巡查上报, 我的网格): position, photo previews, and reports kept
// on the phone while there is no signal. No build step, no library.
//
// A report is sent with fetch; without signal (or when the send fails on the way) it is kept in
// IndexedDB — fields and photos — and sent again when the phone is back online, from whichever
// grid page is open. Every report carries the idempotency key the server put in the form (a new
// one is made here for the next report), so a report sent twice lands on one case.
(function () {
  'use strict';
  var DB = 'm110-field', STORE = 'reports', URL_REPORT = '/console/grid/report';
  var form = document.getElementById('patrol-form');
  var outbox = document.getElementById('outbox');
  var sending = false;

  function say(key, vars) {
    var s = (form && form.dataset[key]) || sessionStorage.getItem('m110-field-' + key) || '';
    Object.keys(vars || {}).forEach(function (k) { s = s.replace('{' + k + '}', vars[k]); });
    return s;
  }
  // The report page knows the texts; remember them for 我的网格, which flushes the queue too.
  if (form) {
    ['queued', 'pending', 'sent', 'sending', 'offline'].forEach(function (k) {
      try { sessionStorage.setItem('m110-field-' + k, form.dataset[k] || ''); } catch (e) { /* private mode */ }
    });
  }

  function newKey() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return 'r-' + Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }

  // ----- IndexedDB: the reports waiting for signal ------------------------------------------
  function open() {
    return new Promise(function (resolve, reject) {
      var r = indexedDB.open(DB, 1);
      r.onupgradeneeded = function () { r.result.createObjectStore(STORE, { keyPath: 'key' }); };
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = function () { reject(r.error); };
    });
  }
  function tx(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), out;
        t.oncomplete = function () { db.close(); resolve(out); };
        t.onerror = function () { db.close(); reject(t.error); };
        out = fn(t.objectStore(STORE));
      });
    });
  }
  function queued() {
    return tx('readonly', function (s) {
      var box = [];
      s.openCursor().onsuccess = function (e) {
        var c = e.target.result;
        if (c) { box.push(c.value); c.continue(); }
      };
      return box;
    });
  }
  function keep(item) { return tx('readwrite', function (s) { s.put(item); }); }
  function drop(key) { return tx('readwrite', function (s) { s.delete(key); }); }

  // ----- sending -----------------------------------------------------------------------------
  // Resolves {ok, body} on an answer from the server; rejects when the network failed (keep it).
  function send(item) {
    var fd = new FormData();
    item.fields.forEach(function (f) { fd.append(f[0], f[1]); });
    item.files.forEach(function (f) { fd.append('photos', new File([f.blob], f.name, { type: f.type })); });
    return fetch(URL_REPORT, {
      method: 'POST', body: fd, credentials: 'same-origin', headers: { Accept: 'application/json' }
    }).then(function (r) {
      var json = (r.headers.get('content-type') || '').indexOf('application/json') === 0;
      // Not JSON: the session ended (a login page) or the server failed — keep it, try later.
      if (!json || r.status >= 500) { throw new Error('retry later (' + r.status + ')'); }
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    });
  }

  function showOutbox() {
    if (!outbox || !window.indexedDB) { return Promise.resolve(); }
    return queued().then(function (items) {
      var waiting = items.filter(function (i) { return !i.failed; });
      var failed = items.filter(function (i) { return i.failed; });
      var text = document.getElementById('outbox-text');
      var parts = [];
      if (waiting.length) { parts.push(say('pending', { n: waiting.length })); }
      failed.forEach(function (i) { parts.push(i.failed); });
      text.textContent = parts.join(' · ');
      outbox.hidden = items.length === 0;
    });
  }

  function flush() {
    if (sending || !window.indexedDB || !navigator.onLine) { return Promise.resolve(); }
    sending = true;
    return queued().then(function (items) {
      return items.filter(function (i) { return !i.failed; }).reduce(function (p, item) {
        return p.then(function () {
          return send(item).then(function (res) {
            if (res.ok) { return drop(item.key).then(function () { flashText(say('sent', { case: res.body.case })); }); }
            // Refused for good (a field is wrong): keep it and say why, never resend it blindly.
            item.failed = (res.body.error && res.body.error.message) || 'error';
            return keep(item);
          }, function () { /* still no way through: stays queued */ });
        });
      }, Promise.resolve());
    }).then(function () { sending = false; return showOutbox(); }, function () { sending = false; });
  }

  function flashText(text) {
    var main = document.getElementById('main');
    if (!main || !text) { return; }
    var d = document.createElement('div');
    d.className = 'flash ok';
    d.setAttribute('role', 'status');
    d.textContent = text;
    main.insertBefore(d, main.firstChild);
  }

  // ----- the report form ---------------------------------------------------------------------
  // Phone photos are several MB: send them at most 1600 px on the long side (and without their
  // EXIF, position included — the report carries the position itself).
  function shrink(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || file.size < 600 * 1024) { return Promise.resolve(file); }
    return new Promise(function (resolve) {
      var r = new FileReader();
      r.onerror = function () { resolve(file); };
      r.onload = function () {
        var img = new Image();
        img.onerror = function () { resolve(file); };
        img.onload = function () {
          var k = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
          var c = document.createElement('canvas');
          c.width = Math.round(img.naturalWidth * k);
          c.height = Math.round(img.naturalHeight * k);
          c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
          c.toBlob(function (b) {
            resolve(b ? new File([b], file.name.replace(/\.[^.]*$/, '') + '.jpg', { type: 'image/jpeg' }) : file);
          }, 'image/jpeg', 0.85);
        };
        img.src = r.result;
      };
      r.readAsDataURL(file);
    });
  }

  function snapshot() {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === 'file' || el.disabled) { return; }
      if ((el.type === 'checkbox' || el.type === 'radio') && !el.checked) { return; }
      fields.push([el.name, el.value]);
    });
    var files = Array.prototype.slice.call(document.getElementById('photos').files || []);
    return Promise.all(files.map(shrink)).then(function (shrunk) {
      return {
        key: form.elements.key.value,
        fields: fields,
        files: shrunk.map(function (f) { return { name: f.name, type: f.type, blob: f }; }),
        at: Date.now()
      };
    });
  }

  function resetForm() {
    var cell = form.elements.cell.value;
    form.reset();
    form.elements.cell.value = cell;
    form.elements.key.value = newKey();
    document.getElementById('previews').textContent = '';
    document.getElementById('on-spot-note').hidden = true;
  }

  function showError(text) {
    var e = document.getElementById('form-error');
    e.textContent = text;
    e.hidden = !text;
  }

  function locate(quiet) {
    var pos = document.getElementById('position');
    if (!navigator.geolocation) { if (!quiet) { pos.textContent = say('noPosition'); } return; }
    pos.textContent = say('locating');
    navigator.geolocation.getCurrentPosition(function (p) {
      form.elements.lat.value = p.coords.latitude.toFixed(6);
      form.elements.lon.value = p.coords.longitude.toFixed(6);
      pos.textContent = say('located', { m: Math.round(p.coords.accuracy || 0) }) + ' ' +
        form.elements.lat.value + ', ' + form.elements.lon.value;
    }, function () {
      pos.textContent = say('noPosition');
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  if (form) {
    if (!form.elements.lat.value) { locate(true); }
    document.getElementById('locate').addEventListener('click', function () { locate(false); });
    document.getElementById('on_spot').addEventListener('change', function (e) {
      document.getElementById('on-spot-note').hidden = !e.target.checked;
    });
    document.getElementById('photos').addEventListener('change', function (e) {
      var box = document.getElementById('previews');
      box.textContent = '';
      Array.prototype.forEach.call(e.target.files || [], function (f) {
        var r = new FileReader();
        r.onload = function () {
          var img = document.createElement('img');
          img.src = r.result;
          img.alt = f.name;
          box.appendChild(img);
        };
        r.readAsDataURL(f);
      });
    });
    form.addEventListener('submit', function (ev) {
      if (!window.indexedDB || !window.fetch) { return; } // the plain POST still works
      ev.preventDefault();
      var button = document.getElementById('submit-report');
      button.disabled = true;
      showError('');
      snapshot().then(function (item) {
        var queue = function () {
          return keep(item).then(function () {
            resetForm();
            flashText(say('queued'));
            return showOutbox();
          });
        };
        if (!navigator.onLine) { return queue(); }
        return send(item).then(function (res) {
          if (res.ok) {
            window.location.assign('/console/grid?reported=' + encodeURIComponent(res.body.case) +
              (res.body.created ? '' : '&again=1'));
            return;
          }
          var err = res.body.error || {};
          showError(err.message || 'error');
          var field = err.field && form.elements[err.field === 'location.grid_code' ? 'cell' : err.field];
          if (field && field.setAttribute) { field.setAttribute('aria-invalid', 'true'); field.focus(); }
        }, queue);
      }).then(function () { button.disabled = false; }, function (e) {
        button.disabled = false;
        showError(String(e));
      });
    });
  }

  if (outbox) {
    document.getElementById('outbox-send').addEventListener('click', flush);
    window.addEventListener('online', flush);
    showOutbox().then(flush);
  }
})();
