/* /search/: Pagefind's own interface (generated into /pagefind/ by the build), started from ?q= in the address.
   The index comes in parts built side by side (/pagefind/, /pagefind/part-2/): the interface searches them as one. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("search-config"), target = document.getElementById("search");
  if (!cfgEl || !target) { return; }
  var cfg = JSON.parse(cfgEl.textContent), S = cfg.strings || {};
  if (typeof window.PagefindUI !== "function") {
    var p = document.createElement("p");
    p.textContent = S.unavailable;
    target.appendChild(p);
    return;
  }
  var ui = new window.PagefindUI({
    element: "#search", bundlePath: cfg.bundlePath, showSubResults: true, showImages: false, resetStyles: false,
    mergeIndex: (cfg.mergeIndex || []).map(function (path) { return { bundlePath: path }; }),
    translations: S.placeholder ? { placeholder: S.placeholder } : undefined
  });
  var q = new URLSearchParams(location.search).get("q");
  if (q) { ui.triggerSearch(q); }
  var header = document.getElementById("site-search-q");
  if (header && q) { header.value = q; }
})();
