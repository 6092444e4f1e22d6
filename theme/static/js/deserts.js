/* /deserts/: a map layer shading every town by its distance to the nearest community, and the table
   of deserts redrawn for the chosen distance. The table is already in the page for readers without JS. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("deserts-config");
  if (!cfgEl) { return; }
  var cfg = JSON.parse(cfgEl.textContent), S = cfg.strings || {};
  var format = window.siteFormat || function (t, v) { return String(t).replace(/\{(\w+)\}/g, function (m, k) { return k in v ? v[k] : m; }); };
  var plural = window.sitePlural || function (f, n) { return typeof f === "string" ? f : f[n === 1 ? "one" : "other"] || f.other; };
  var form = document.getElementById("deserts-form"), select = document.getElementById("deserts-km");
  var rows = document.getElementById("deserts-rows"), count = document.getElementById("deserts-count");
  var map = window.L && window.siteMaps ? window.siteMaps[cfg.frame] : null;
  var COLOURS = { near: "#1a9850", mid: "#fdae61", far: "#d73027" };
  var towns = [], circles = [], layer = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function band(d, limit) { return d !== null && d <= limit ? "near" : d !== null && d <= 2 * limit ? "mid" : "far"; }
  function radius(pop) { return Math.max(4, Math.min(18, Math.sqrt(pop / 1000))); }

  function tooltip(t) {
    var box = el("div");
    box.appendChild(el("strong", {}, t[0]));
    box.appendChild(el("div", {}, t[4] === null ? format(S.nothingNear, { km: Math.round(cfg.limit || 400) }) : format(S.nearest, { km: Math.round(t[4]) })));
    return box;
  }

  function draw(limit) {
    if (!map) { return; }
    if (!layer) {
      var canvas = L.canvas({ padding: 0.2 });
      layer = L.layerGroup().addTo(map);
      towns.forEach(function (t) {
        var c = L.circleMarker([t[1], t[2]], { renderer: canvas, radius: radius(t[3]), weight: 1, color: "#333", fillOpacity: 0.75 });
        c.bindTooltip(tooltip(t));
        circles.push(c);
        layer.addLayer(c);
      });
      if (towns.length) { map.fitBounds(L.latLngBounds(towns.map(function (t) { return [t[1], t[2]]; })).pad(0.05)); }
      document.getElementById("deserts-legend").hidden = false;
    }
    towns.forEach(function (t, i) { circles[i].setStyle({ fillColor: COLOURS[band(t[4], limit)] }); });
  }

  function table(limit) {
    var frag = document.createDocumentFragment(), n = 0;
    towns.forEach(function (t) {
      if (t[4] !== null && t[4] <= limit) { return; }
      n += 1;
      var tr = el("tr");
      tr.appendChild(el("th", { scope: "row" }, t[0]));
      tr.appendChild(el("td", { "class": "num" }, (window.siteNumber || String)(t[3])));
      var td = el("td");
      if (t[5]) { td.appendChild(el("a", { href: cfg.page.replace("{slug}", encodeURIComponent(t[5])) }, t[6] || t[5])); } else { td.textContent = S.none; }
      tr.appendChild(td);
      tr.appendChild(el("td", { "class": "num" }, t[4] === null ? "—" : format(S.km, { km: Math.round(t[4]) })));
      frag.appendChild(tr);
    });
    rows.textContent = "";
    rows.appendChild(frag);
    count.textContent = format(plural(S.count, n), { num: n, total: towns.length, km: limit });
  }

  function apply(keepUrl) {
    var limit = parseFloat(select.value) || cfg.km;
    draw(limit);
    table(limit);
    if (!keepUrl) { history.replaceState(null, "", "?km=" + encodeURIComponent(select.value)); }
  }

  var names = {};
  rows.querySelectorAll("a[href]").forEach(function (a) { names[a.getAttribute("href")] = a.textContent; });
  fetch(cfg.data, { credentials: "same-origin" }).then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
    .then(function (d) {
      cfg.limit = d.limit_km;
      towns = d.towns.map(function (t) {
        var href = t[5] ? cfg.page.replace("{slug}", encodeURIComponent(t[5])) : "";
        return [t[0], t[1], t[2], t[3], t[4], t[5], names[href] || d.names && d.names[t[5]] || ""];
      });
      var wanted = new URLSearchParams(location.search).get("km");
      if (wanted && Array.prototype.some.call(select.options, function (o) { return o.value === wanted; })) { select.value = wanted; }
      form.querySelectorAll(".js-hide").forEach(function (n) { n.hidden = true; });
      select.addEventListener("change", function () { apply(false); });
      form.addEventListener("submit", function (e) { e.preventDefault(); apply(false); });
      apply(true);
    })
    .catch(function () { count.textContent = S.loadFailed; });
})();
