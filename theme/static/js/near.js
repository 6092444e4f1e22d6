/* /near/: communities within a distance of a typed place, a published postcode district, or the
   browser's location; nearest first, with their commitments. No third-party service: places come
   from /data/places.json, communities from /data/map.json, commitments from /data/communities/<slug>.json. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("near-config"), form = document.getElementById("near-form");
  if (!cfgEl || !form) { return; }
  var cfg = JSON.parse(cfgEl.textContent), S = cfg.strings || {};
  var format = window.siteFormat || function (t, v) { return String(t).replace(/\{(\w+)\}/g, function (m, k) { return k in v ? v[k] : m; }); };
  var plural = window.sitePlural || function (f, n) { return typeof f === "string" ? f : f[n === 1 ? "one" : "other"] || f.other; };
  var statusEl = document.getElementById("near-status"), list = document.getElementById("near-results");
  var input = form.elements.q, radius = form.elements.r, locate = document.getElementById("near-locate");
  var places = null, data = null, folded = [], last = null, records = {};
  var POSTCODE = /^([A-Z]{1,2}[0-9][0-9A-Z]?)(\s*[0-9][A-Z]{2})?$/;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function say(text) { statusEl.textContent = text; }
  function fold(text) {
    return String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/\bsaint\b/g, "st").replace(/[^a-z0-9]+/g, " ").trim();
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); });
  }
  function km(a, b, c, d) {
    var rad = Math.PI / 180, dLat = (c - a) * rad, dLon = (d - b) * rad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) + Math.cos(a * rad) * Math.cos(c * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * 6371 * Math.asin(Math.sqrt(Math.min(1, h)));
  }
  function roundKm(x) { return x < 10 ? x.toFixed(1) : String(Math.round(x)); }

  var ready = Promise.all([getJSON(cfg.places), getJSON(cfg.data)]).then(function (got) {
    places = got[0];
    data = got[1];
    folded = places.places.map(function (p) { return fold(p[0]); });
    var datalist = document.getElementById("near-places"), frag = document.createDocumentFragment();
    places.places.forEach(function (p) { frag.appendChild(el("option", { value: p[0] })); });
    datalist.appendChild(frag);
  });
  ready.catch(function () { say(S.loadFailed); });

  /* A typed text -> {name, lat, lon} or {error}. Exact name, then start of a name, then anywhere in a name. */
  function lookUp(text) {
    var q = String(text || "").trim();
    if (!q) { return { error: S.empty }; }
    var upper = q.toUpperCase().replace(/\s+/g, " ");
    var pc = POSTCODE.exec(upper);
    if (pc && /[0-9]/.test(upper)) {
      var code = pc[1], at = places.postcodes[code];
      if (at) { return { name: code, lat: at[0], lon: at[1] }; }
      return { error: format(S.unknownPostcode, { code: code }) };
    }
    var key = fold(q), i = folded.indexOf(key);
    if (i < 0) { for (var k = 0; k < folded.length; k++) { if (folded[k].indexOf(key) === 0) { i = k; break; } } }
    if (i < 0 && key.length >= 3) { for (var j = 0; j < folded.length; j++) { if (folded[j].indexOf(key) >= 0) { i = j; break; } } }
    if (i < 0) { return { error: format(S.unknownPlace, { q: q }) }; }
    var p = places.places[i];
    return { name: p[0], lat: p[1], lon: p[2] };
  }

  function commitmentsInto(li, slug) {
    var got = records[slug] || (records[slug] = getJSON(cfg.record.replace("{slug}", encodeURIComponent(slug))));
    got.then(function (rec) {
      var items = (rec && rec.commitments) || [];
      if (!items.length) { return; }
      var ul = el("ul", { "class": "near-commitments", "aria-label": S.commitments });
      items.forEach(function (k) {
        var parts = [cfg.areas[k.area] || k.area, cfg.statuses[k.status] || k.status];
        ul.appendChild(el("li", {}, String(k.title || "") + " (" + parts.join(", ") + ")"));
      });
      li.appendChild(ul);
    }, function () { records[slug] = null; });
  }

  function show(where) {
    last = where;
    var r = parseFloat(radius.value) || 25, found = [];
    for (var i = 0; i < data.slug.length; i++) {
      var d = km(where.lat, where.lon, data.lat[i], data.lon[i]);
      if (d <= r) { found.push([d, i]); }
    }
    found.sort(function (a, b) { return a[0] - b[0] || (data.name[a[1]] < data.name[b[1]] ? -1 : 1); });
    list.textContent = "";
    var values = { count: found.length, radius: r, place: where.name };
    say(format(found.length === 0 ? S.none : plural(S.found, found.length), values));
    found.slice(0, cfg.listLimit || 50).forEach(function (hit, n) {
      var i = hit[1], li = el("li", { "data-slug": data.slug[i] });
      var head = el("p", { "class": "near-head" });
      head.appendChild(el("a", { href: cfg.page.replace("{slug}", encodeURIComponent(data.slug[i])) }, data.name[i]));
      head.appendChild(document.createTextNode(" · "));
      head.appendChild(el("span", { "class": "near-distance" }, format(S.km, { km: roundKm(hit[0]) })));
      var kind = data.b[i] & 1 ? S.interest : S.place;
      var region = data.r[i] >= 0 ? data.regions[data.r[i]][1] : "";
      head.appendChild(el("span", { "class": "muted" }, " · " + kind + (region ? " · " + region : "")));
      li.appendChild(head);
      if (n < (cfg.detailLimit || 20)) { commitmentsInto(li, data.slug[i]); }
      list.appendChild(li);
    });
    document.documentElement.setAttribute("data-near-ready", String(found.length));
  }

  function search(text, keepUrl) {
    ready.then(function () {
      var where = lookUp(text);
      if (where.error) { list.textContent = ""; say(where.error); return; }
      show(where);
      if (!keepUrl) {
        var params = new URLSearchParams();
        params.set("q", String(text).trim());
        params.set("r", radius.value);
        history.replaceState(null, "", "?" + params.toString());
      }
    });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); search(input.value); });
  radius.addEventListener("change", function () {
    if (last && last.name === S.you) { ready.then(function () { show(last); }); } else if (input.value.trim()) { search(input.value); }
  });
  if (locate) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      if (!navigator.geolocation) { say(S.locateUnsupported); return; }
      say(S.locating);
      navigator.geolocation.getCurrentPosition(function (pos) {
        ready.then(function () { show({ name: S.you, lat: pos.coords.latitude, lon: pos.coords.longitude }); });
      }, function (err) {
        say(format(S.locateFailed, { reason: err && err.message ? err.message : "" }));
      }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
    });
  }
  var params = new URLSearchParams(location.search);
  if (params.get("r")) { radius.value = params.get("r"); }
  if (params.get("q")) { input.value = params.get("q"); search(params.get("q"), true); }
})();
