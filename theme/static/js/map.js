/* The communities map: markers from /data/map.json (or /data/communities.geojson), clustered;
   filters and a result list that change together; state in the URL; locate me; full screen.
   The map frame itself (tiles, controls) comes from folium, in /map/map-frame.js.
   Text from records only ever reaches the page through textContent, never as HTML. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("map-config");
  if (!cfgEl || !window.L) { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var S = cfg.strings || {};
  var map = window.siteMaps && window.siteMaps[cfg.frame];
  if (!map) { return; }
  var format = window.siteFormat || function (t, v) { return String(t).replace(/\{(\w+)\}/g, function (m, k) { return k in v ? v[k] : m; }); };
  var plural = window.sitePlural || function (f, n) { return typeof f === "string" ? f : f[n === 1 ? "one" : "other"] || f.other; };
  var KIND_INTEREST = 1, AREA_BITS = { action: 2, enterprise: 4 };
  var FILTERS = ["q", "tag", "kind", "area", "region"];

  var form = document.getElementById("map-filters");
  var countEl = document.getElementById("map-count");
  var statusEl = document.getElementById("map-status");
  var listEl = document.getElementById("map-list");
  var moreEl = document.getElementById("map-more");
  var fullLink = document.getElementById("map-full-link");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function status(text) { if (statusEl) { statusEl.textContent = text || ""; } }
  function fold(text) { return String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  function slugify(text) { return fold(text).replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "unnamed"; }
  function fill(template, key, value) { return String(template).replace("{" + key + "}", encodeURIComponent(value)); }

  // --- data: the compact columns, or the GeoJSON read into the same shape --------------------
  function fromColumns(d) {
    if (!d || d.v !== 1 || !Array.isArray(d.slug)) { throw new Error("unexpected map data"); }
    return d;
  }
  function fromGeoJSON(fc) {
    var d = { v: 1, tags: [], regions: [], slug: [], name: [], lat: [], lon: [], t: [], r: [], b: [] };
    var tagIndex = {}, regionIndex = {};
    (fc.features || []).forEach(function (f) {
      var p = f.properties || {}, c = (f.geometry || {}).coordinates || [];
      if (typeof c[0] !== "number" || typeof c[1] !== "number") { return; }
      var regionName = p.region || p.place || "";
      var regionSlug = regionName ? slugify(regionName) : "";
      if (regionSlug && !(regionSlug in regionIndex)) { regionIndex[regionSlug] = d.regions.length; d.regions.push([regionSlug, regionName]); }
      var bits = p.kind === "interest" ? KIND_INTEREST : 0;
      (p.areas || []).forEach(function (a) { bits |= AREA_BITS[a] || 0; });
      d.slug.push(String(p.slug || f.id || ""));
      d.name.push(String(p.name || ""));
      d.lat.push(c[1]);
      d.lon.push(c[0]);
      d.t.push((p.tags || []).map(function (t) {
        if (!(t in tagIndex)) { tagIndex[t] = d.tags.length; d.tags.push(t); }
        return tagIndex[t];
      }));
      d.r.push(regionSlug ? regionIndex[regionSlug] : -1);
      d.b.push(bits);
    });
    return d;
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    });
  }

  // --- state in the URL ----------------------------------------------------------------------
  function readState() {
    var params = new URLSearchParams(location.search), state = {};
    FILTERS.forEach(function (k) { state[k] = (params.get(k) || "").trim(); });
    state.focus = params.get("focus") || "";
    return state;
  }
  function writeState(state) {
    var params = new URLSearchParams();
    FILTERS.forEach(function (k) { if (state[k]) { params.set(k, state[k]); } });
    var query = params.toString();
    if (!cfg.embed) { history.replaceState(null, "", query ? "?" + query : location.pathname); }
    if (fullLink) { fullLink.href = fullLink.href.split("?")[0] + (query ? "?" + query : ""); }
  }
  function formState() {
    var state = {};
    FILTERS.forEach(function (k) { state[k] = form.elements[k] ? form.elements[k].value.trim() : ""; });
    return state;
  }

  // --- the markers ---------------------------------------------------------------------------
  var data, markers = [], haystack = [], shown = [], records = {};
  // A cluster is a button: it says how many communities it holds, not just a number.
  var ClusterIcon = L.DivIcon.extend({
    createIcon: function (old) {
      var div = L.DivIcon.prototype.createIcon.call(this, old);
      div.setAttribute("aria-label", this.options.label);
      return div;
    }
  });
  function clusterIcon(group) {
    var n = group.getChildCount();
    return new ClusterIcon({
      html: "<div><span>" + n + "</span></div>", iconSize: new L.Point(40, 40), label: format(plural(S.cluster, n), { count: n }),
      className: "marker-cluster marker-cluster-" + (n < 10 ? "small" : n < 100 ? "medium" : "large")
    });
  }
  var cluster = L.markerClusterGroup ? L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50, iconCreateFunction: clusterIcon })
    : L.layerGroup();
  cluster.addTo(map);
  map.communitiesLayer = cluster;

  function popup(i) {
    var box = el("div", { "class": "map-popup" });
    var title = el("h3", { "class": "map-popup-title" });
    var link = el("a", { href: fill(cfg.page, "slug", data.slug[i]) }, data.name[i]);
    if (cfg.embed) { link.setAttribute("target", "_blank"); link.setAttribute("rel", "noopener"); }
    title.appendChild(link);
    box.appendChild(title);
    var meta = [(data.b[i] & KIND_INTEREST) ? S.interest : S.place];
    if (data.r[i] >= 0) { meta.push(data.regions[data.r[i]][1]); }
    box.appendChild(el("p", { "class": "map-popup-meta" }, meta.join(" · ")));
    var summary = el("p", { "class": "map-popup-summary" }, "…");
    box.appendChild(summary);
    var tags = data.t[i];
    if (tags.length) {
      var ul = el("ul", { "class": "tags" });
      tags.forEach(function (ti) {
        var slug = data.tags[ti], li = el("li");
        var a = el("a", { href: fill(cfg.tagPage, "tag", slug) }, (cfg.tagLabels || {})[slug] || slug);
        if (cfg.embed) { a.setAttribute("target", "_blank"); a.setAttribute("rel", "noopener"); }
        li.appendChild(a);
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    var slug = data.slug[i];
    var got = records[slug] || (records[slug] = getJSON(fill(cfg.record, "slug", slug)));
    got.then(function (rec) { summary.textContent = rec && rec.summary ? String(rec.summary) : ""; },
      function () { records[slug] = null; summary.textContent = ""; });
    return box;
  }

  function makeMarkers() {
    for (var i = 0; i < data.slug.length; i++) {
      var m = L.marker([data.lat[i], data.lon[i]], { title: data.name[i], alt: data.name[i], keyboard: true });
      m.bindPopup(popup.bind(null, i), { maxWidth: 280 });
      markers.push(m);
      var regionName = data.r[i] >= 0 ? data.regions[data.r[i]][1] : "";
      haystack.push(fold(data.name[i] + " " + regionName));
      shown.push(false);
    }
  }

  function matcher(state) {
    var q = fold(state.q), tagIdx = state.tag ? data.tags.indexOf(state.tag) : -1, regionIdx = -1;
    if (state.region) {
      for (var k = 0; k < data.regions.length; k++) { if (data.regions[k][0] === state.region) { regionIdx = k; break; } }
    }
    var areaBit = AREA_BITS[state.area] || 0;
    return function (i) {
      if (state.tag && data.t[i].indexOf(tagIdx) < 0) { return false; }
      if (state.region && data.r[i] !== regionIdx) { return false; }
      if (state.kind === "place" && (data.b[i] & KIND_INTEREST)) { return false; }
      if (state.kind === "interest" && !(data.b[i] & KIND_INTEREST)) { return false; }
      if (areaBit && !(data.b[i] & areaBit)) { return false; }
      if (q && haystack[i].indexOf(q) < 0) { return false; }
      return true;
    };
  }

  function renderList(matches) {
    if (!listEl) { return; }
    var limit = cfg.listLimit || 100, frag = document.createDocumentFragment();
    matches.slice(0, limit).forEach(function (i) {
      var li = el("li");
      li.appendChild(el("a", { href: fill(cfg.page, "slug", data.slug[i]) }, data.name[i]));
      if (data.r[i] >= 0) { li.appendChild(el("span", { "class": "muted" }, " · " + data.regions[data.r[i]][1])); }
      var button = el("button", { type: "button", "class": "link-button", "data-index": String(i), "aria-label": S.showOnMap + ": " + data.name[i] }, S.showOnMap);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(button);
      frag.appendChild(li);
    });
    listEl.textContent = "";
    listEl.appendChild(frag);
    if (moreEl) {
      moreEl.hidden = matches.length <= limit;
      moreEl.textContent = matches.length > limit ? format(S.more, { limit: limit }) : "";
    }
  }

  function focusOn(i) {
    var m = markers[i];
    if (!m) { return; }
    if (cluster.zoomToShowLayer) { cluster.zoomToShowLayer(m, function () { m.openPopup(); }); }
    else { map.setView(m.getLatLng(), 13); m.openPopup(); }
  }

  var first = true;
  function apply(state, fit) {
    var ok = matcher(state), matches = [], toAdd = [], toRemove = [];
    for (var i = 0; i < markers.length; i++) {
      var yes = ok(i);
      if (yes) { matches.push(i); }
      if (yes !== shown[i]) { (yes ? toAdd : toRemove).push(markers[i]); shown[i] = yes; }
    }
    if (toRemove.length > matches.length) {
      cluster.clearLayers();
      cluster.addLayers(matches.map(function (j) { return markers[j]; }));
    } else {
      if (toRemove.length) { cluster.removeLayers(toRemove); }
      if (toAdd.length) { cluster.addLayers(toAdd); }
    }
    renderList(matches);
    if (countEl) {
      countEl.textContent = matches.length ? format(plural(S.shown, markers.length), { shown: matches.length, total: markers.length }) : S.none;
    }
    if (fit && matches.length) {
      var bounds = L.latLngBounds(matches.map(function (j) { return [data.lat[j], data.lon[j]]; }));
      map.fitBounds(bounds.pad(0.1), { maxZoom: 11, animate: !first });
    }
    first = false;
    document.documentElement.setAttribute("data-map-ready", String(matches.length));
    writeState(state);
  }

  // --- filters ---------------------------------------------------------------------------------
  function setupForm(state) {
    if (!form) { return; }
    var regionSelect = form.elements.region;
    if (regionSelect) {
      var frag = document.createDocumentFragment();
      data.regions.slice().sort(function (a, b) { return a[1].localeCompare(b[1]); }).forEach(function (r) {
        frag.appendChild(el("option", { value: r[0] }, r[1]));
      });
      regionSelect.appendChild(frag);
    }
    FILTERS.forEach(function (k) { if (form.elements[k]) { form.elements[k].value = state[k]; } });
    var timer = null;
    form.addEventListener("input", function (e) {
      if (!e.target || e.target.name !== "q") { return; }  // selects report through "change"
      clearTimeout(timer);
      timer = setTimeout(function () { apply(formState(), true); }, 150);
    });
    form.addEventListener("change", function () { clearTimeout(timer); apply(formState(), true); });
    form.addEventListener("submit", function (e) { e.preventDefault(); apply(formState(), true); });
    var reset = document.getElementById("m-reset");
    if (reset) {
      reset.hidden = false;
      reset.addEventListener("click", function () {
        FILTERS.forEach(function (k) { if (form.elements[k]) { form.elements[k].value = ""; } });
        apply(formState(), true);
      });
    }
    form.querySelectorAll(".js-hide").forEach(function (n) { n.hidden = true; });
  }
  if (listEl) {
    listEl.addEventListener("click", function (e) {
      var button = e.target.closest ? e.target.closest("button[data-index]") : null;
      if (button) { focusOn(parseInt(button.getAttribute("data-index"), 10)); }
    });
  }

  // --- locate me and full screen -----------------------------------------------------------------
  var tools = document.getElementById("map-tools");
  if (tools) { tools.hidden = false; }
  var locate = document.getElementById("map-locate");
  var here = null;
  if (locate) {
    locate.addEventListener("click", function () {
      if (!navigator.geolocation) { status(S.locateUnsupported); return; }
      status(S.locating);
      navigator.geolocation.getCurrentPosition(function (pos) {
        var at = [pos.coords.latitude, pos.coords.longitude];
        if (here) { map.removeLayer(here); }
        here = L.circleMarker(at, { radius: 8, color: "#1f4e99", fillColor: "#3b82f6", fillOpacity: 0.9 }).addTo(map).bindTooltip(S.here);
        map.setView(at, 11);
        status(S.here);
      }, function (err) {
        status(format(S.locateFailed, { reason: err && err.message ? err.message : "" }));
      }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
    });
  }
  var fsButton = document.getElementById("map-fullscreen");
  var box = document.getElementById("map-box");
  if (fsButton && box) {
    var isFull = function () { return document.fullscreenElement === box || box.classList.contains("is-fullscreen"); };
    var update = function () {
      var full = isFull();
      fsButton.textContent = full ? S.exitFullscreen : S.fullscreen;
      fsButton.setAttribute("aria-pressed", String(full));
      setTimeout(function () { map.invalidateSize(); }, 50);
    };
    fsButton.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); return; }
      if (box.classList.contains("is-fullscreen")) { box.classList.remove("is-fullscreen"); update(); return; }
      if (box.requestFullscreen) {
        box.requestFullscreen().catch(function () { box.classList.add("is-fullscreen"); update(); });
      } else { box.classList.add("is-fullscreen"); update(); }
    });
    document.addEventListener("fullscreenchange", update);
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && box.classList.contains("is-fullscreen")) { box.classList.remove("is-fullscreen"); update(); }
    });
  }

  // --- start -------------------------------------------------------------------------------------
  if (!cfg.tiles) { status(S.noTiles); } else { status(S.loading); }
  getJSON(cfg.data).then(fromColumns, function () {
    return getJSON(cfg.geojson).then(fromGeoJSON);
  }).then(function (d) {
    data = d;
    makeMarkers();
    var state = readState();
    setupForm(state);
    var filtered = FILTERS.some(function (k) { return state[k]; });
    apply(state, true);
    if (!cfg.tiles) { status(S.noTiles); } else { status(""); }
    if (state.focus) {
      var at = data.slug.indexOf(state.focus);
      if (at >= 0) { focusOn(at); }
    } else if (!filtered && !markers.length) {
      map.setView([54.5, -3.5], 5);
    }
  }).catch(function () {
    status(S.loadFailed);
    if (countEl) { countEl.textContent = S.loadFailed; }
  });
})();
