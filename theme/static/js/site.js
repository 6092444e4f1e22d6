/* Small enhancements for every page. The site works without them. */
(function () {
  "use strict";
  var configEl = document.getElementById("site-config");
  var config = configEl ? JSON.parse(configEl.textContent) : { strings: {} };
  window.siteConfig = config;

  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, key) { return key in values ? values[key] : m; });
  }
  window.siteFormat = format;

  // E-mail addresses are stored reversed in data attributes; turn them back into links.
  document.querySelectorAll(".email[data-user]").forEach(function (el) {
    var address = el.dataset.user.split("").reverse().join("") + "@" + el.dataset.domain.split("").reverse().join("");
    var link = document.createElement("a");
    link.href = "mailto:" + address;
    link.textContent = address;
    el.textContent = "";
    el.appendChild(link);
  });

  // The small map on a community page.
  // Leaflet is a deferred script after this one: wait until every deferred script has run.
  document.addEventListener("DOMContentLoaded", function () {
  var mini = document.getElementById("mini-map");
  if (mini && window.L) {
    var lat = parseFloat(mini.dataset.lat), lon = parseFloat(mini.dataset.lon);
    mini.textContent = "";
    var map = L.map(mini, { scrollWheelZoom: false }).setView([lat, lon], 12);
    if (config.tiles) { L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 18 }).addTo(map); }
    L.circleMarker([lat, lon], { radius: 9, color: "#064d29", fillColor: "#0b6b3a", fillOpacity: 0.8 }).addTo(map)
      .bindTooltip(document.createTextNode(mini.dataset.name));  // a text node: Leaflet puts strings in as HTML
  }
  });

  // Directory filters: filter and sort the cards in place, keeping the state in the URL.
  var form = document.getElementById("directory-filters");
  if (form) {
    var list = document.querySelector("#directory-list .cards");
    var cards = Array.prototype.slice.call(list.children);
    var count = document.getElementById("directory-count");
    var params = new URLSearchParams(location.search);
    Array.prototype.forEach.call(form.elements, function (el) { if (el.name && params.has(el.name)) { el.value = params.get(el.name); } });
    var apply = function () {
      var q = form.elements.q.value.trim().toLowerCase();
      var tag = form.elements.tag.value, region = form.elements.region.value;
      var kind = form.elements.kind.value, area = form.elements.area.value, sort = form.elements.sort.value;
      var shown = 0;
      cards.forEach(function (card) {
        var d = card.dataset;
        var ok = (!q || d.name.toLowerCase().indexOf(q) >= 0) &&
          (!tag || (" " + d.tags + " ").indexOf(" " + tag + " ") >= 0) &&
          (!region || d.region === region) && (!kind || d.kind === kind) &&
          (!area || (" " + d.areas + " ").indexOf(" " + area + " ") >= 0);
        card.hidden = !ok;
        if (ok) { shown += 1; }
      });
      var key = sort === "joined" ? function (c) { return c.dataset.joined || ""; } :
        sort === "region" ? function (c) { return (c.dataset.region || "~") + c.dataset.name; } : null;
      var ordered = cards.slice();
      if (key) { ordered.sort(function (a, b) { var x = key(a), y = key(b); return x < y ? -1 : x > y ? 1 : 0; }); }
      if (sort === "joined") { ordered.reverse(); }
      ordered.forEach(function (c) { list.appendChild(c); });
      count.textContent = shown ? format(config.strings.showing, { shown: shown, total: cards.length }) : config.strings.noResults;
      var next = new URLSearchParams();
      Array.prototype.forEach.call(form.elements, function (el) { if (el.name && el.value && !(el.name === "sort" && el.value === "name")) { next.set(el.name, el.value); } });
      history.replaceState(null, "", next.toString() ? "?" + next.toString() : location.pathname);
    };
    form.addEventListener("input", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
    apply();
  }
})();
