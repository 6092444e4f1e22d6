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

  // A string that depends on a number comes as its text for each plural category of the page's language
  // (one, two, few, many, other...); the browser knows which category a number is in.
  var lang = document.documentElement.lang || "en", rules = null;
  try { rules = new Intl.PluralRules(lang); } catch (e) { rules = null; }
  function plural(forms, n) {
    if (typeof forms === "string") { return forms; }
    return forms[rules ? rules.select(n) : (n === 1 ? "one" : "other")] || forms.other;
  }
  window.sitePlural = plural;
  window.siteNumber = function (n) {
    try { return Number(n).toLocaleString(lang); } catch (e) { return String(n); }
  };

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
    // Names compare as people read them: "eire" finds "Éire".
    var fold = function (text) { return String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); };
    var names = cards.map(function (c) { return fold(c.dataset.name); });
    var position = new Map(cards.map(function (c, i) { return [c, i]; }));  // the page's own order: by name
    var regionRank = {};  // the region menu is in the order regions are read in; no region sorts last
    Array.prototype.forEach.call(form.elements.region.options, function (o, i) { if (o.value) { regionRank[o.value] = i; } });
    var rank = function (c) { return c.dataset.region in regionRank ? regionRank[c.dataset.region] : 1e9; };
    var orders = {
      joined: function (a, b) {  // newest first; undated last; a tie keeps name order
        var x = a.dataset.joined || "", y = b.dataset.joined || "";
        return x === y ? 0 : x > y ? -1 : 1;
      },
      region: function (a, b) { return rank(a) - rank(b); }
    };
    var apply = function () {
      var q = fold(form.elements.q.value.trim());
      var tag = form.elements.tag.value, region = form.elements.region.value;
      var kind = form.elements.kind.value, area = form.elements.area.value, sort = form.elements.sort.value;
      var shown = 0;
      cards.forEach(function (card, i) {
        var d = card.dataset;
        var ok = (!q || names[i].indexOf(q) >= 0) &&
          (!tag || (" " + d.tags + " ").indexOf(" " + tag + " ") >= 0) &&
          (!region || d.region === region) && (!kind || d.kind === kind) &&
          (!area || (" " + d.areas + " ").indexOf(" " + area + " ") >= 0);
        card.hidden = !ok;
        if (ok) { shown += 1; }
      });
      var compare = orders[sort] || function () { return 0; };
      cards.slice().sort(function (a, b) { return compare(a, b) || position.get(a) - position.get(b); })
        .forEach(function (c) { list.appendChild(c); });
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
