/* The join form: collect the answers, check them against data/community.schema.json
 * (with the vendored json-schema-library, which needs no eval), show what to fix next to
 * each field, then write the YAML file and the GitHub link that proposes it.
 *
 * The page's markup comes from the schema (plugins/communities/joinform.py):
 *   [data-field]  one answer      data-type: string | number | integer | boolean | array
 *   [data-group]  an object       (fieldset of fields)
 *   [data-repeat] an array of objects, whose entries are <li data-item>, added from
 *                 <template data-template="<path>">
 * Every control's id is "f-" plus its path, e.g. f-commitments-0-title, so a schema
 * error at #/commitments/0/title is shown next to the element with that id.
 */
(function () {
  "use strict";
  var form = document.getElementById("join-form");
  if (!form) { return; }
  var site = window.siteConfig || JSON.parse(document.getElementById("site-config").textContent);
  var config = JSON.parse(document.getElementById("join-config").textContent);
  var S = config.strings;
  var HEADER = "# yaml-language-server: $schema=../community.schema.json\n";
  var EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
  var HOST = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$|^xn--/;
  var SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
  var MAX_URL = 8000; // GitHub and browsers refuse much longer addresses
  var params = new URLSearchParams(location.search);
  var updating = params.get("update") || "";
  var slugInput = document.getElementById("f-slug");
  var slugEdited = false;
  var validator = null;
  var summary = document.getElementById("error-summary");
  var live = document.getElementById("live");
  var result = document.getElementById("result");
  var output = document.getElementById("yaml-output");
  var githubLink = document.getElementById("github-link");
  var copyStatus = document.getElementById("copy-status");

  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (m, key) { return key in values ? values[key] : m; });
  }
  var plural = window.sitePlural || function (f, n) { return typeof f === "string" ? f : f[n === 1 ? "one" : "other"] || f.other; };

  // --- the form's structure ------------------------------------------------------------

  function owner(el) { return el.parentElement.closest("[data-group],[data-item],form"); }

  function parts(scope) {
    return Array.prototype.filter.call(scope.querySelectorAll("[data-field],[data-group],[data-repeat]"),
      function (el) { return owner(el) === scope; });
  }

  function keyOf(el) { return el.dataset.field || el.dataset.group || el.dataset.repeat; }

  function items(repeat) { return Array.prototype.slice.call(repeat.querySelector(".items").children); }

  function ownOnly(root, selector) {
    // Elements matching selector whose nearest part is root itself (not a nested field).
    return Array.prototype.filter.call(root.querySelectorAll(selector), function (el) {
      return el.closest("[data-field],[data-group],[data-repeat]") === root;
    });
  }

  function setDescribedBy(el, id) {
    var ids = [];
    if (document.getElementById(id + "-hint")) { ids.push(id + "-hint"); }
    var error = document.getElementById(id + "-error");
    if (error && !error.hidden) { ids.push(id + "-error"); }
    if (ids.length) { el.setAttribute("aria-describedby", ids.join(" ")); } else { el.removeAttribute("aria-describedby"); }
  }

  function setSlots(root, id) {
    ownOnly(root, "[data-role=hint]").forEach(function (h) { h.id = id + "-hint"; });
    ownOnly(root, "[data-role=error]").forEach(function (e) { e.id = id + "-error"; });
  }

  // Give every control, label, hint and error its id from the path (after adding or removing entries).
  function renumber(scope, prefix) {
    parts(scope).forEach(function (el) {
      var id = prefix + "-" + keyOf(el);
      setSlots(el, id);
      if (el.dataset.field) {
        var control = el.querySelector("[data-role=control]");
        if (control) {
          control.id = id; control.name = id;
          el.querySelector("label[for]").htmlFor = id;
          setDescribedBy(control, id);
        } else {
          el.id = id;
          setDescribedBy(el, id);
          el.querySelectorAll("[data-role=option]").forEach(function (o) {
            o.id = id + "-" + o.value; o.name = id;
            o.nextElementSibling.htmlFor = o.id;
          });
        }
      } else if (el.dataset.group) {
        el.id = id; setDescribedBy(el, id);
        renumber(el, id);
      } else {
        el.id = id; setDescribedBy(el, id);
        var list = items(el), min = parseInt(el.dataset.min || "0", 10), max = parseInt(el.dataset.max || "0", 10);
        var noun = config.nouns[el.dataset.noun] || config.nouns.item;
        list.forEach(function (li, i) {
          var title = format(S.itemTitle, { noun: noun, n: i + 1 });
          li.querySelector("[data-role=item-title]").textContent = title;
          var remove = li.querySelector("[data-remove]");
          remove.textContent = format(S.remove, { item: title });
          remove.hidden = list.length <= min;
          renumber(li, id + "-" + i);
        });
        var add = el.querySelector(":scope > [data-add]");
        add.disabled = Boolean(max) && list.length >= max;
      }
    });
  }

  function addItem(repeat) {
    var template = document.querySelector('template[data-template="' + repeat.dataset.path + '"]');
    var li = template.content.firstElementChild.cloneNode(true);
    repeat.querySelector(".items").appendChild(li);
    renumber(form, "f");
    return li;
  }

  function firstControl(el) {
    return el.querySelector("input:not([type=hidden]), select, textarea") || el;
  }

  form.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add]");
    var remove = event.target.closest("[data-remove]");
    if (add) {
      var li = addItem(add.closest("[data-repeat]"));
      live.textContent = format(S.added, { item: li.querySelector("[data-role=item-title]").textContent });
      firstControl(li).focus();
    } else if (remove) {
      var item = remove.closest("[data-item]");
      var repeat = item.closest("[data-repeat]");
      var title = item.querySelector("[data-role=item-title]").textContent;
      var next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      renumber(form, "f");
      live.textContent = format(S.removed, { item: title });
      (next ? firstControl(next) : repeat.querySelector(":scope > [data-add]")).focus();
    }
  });

  // --- form -> data --------------------------------------------------------------------

  function collect(scope, problems) {
    var data = {};
    parts(scope).forEach(function (el) {
      var key = keyOf(el), value;
      if (el.dataset.group) {
        value = collect(el, problems);
        if (!Object.keys(value).length) { value = undefined; }
      } else if (el.dataset.repeat) {
        value = items(el).map(function (li) { return collect(li, problems); });
        if (!value.length) { value = undefined; }
      } else {
        value = fieldValue(el, problems);
      }
      if (value !== undefined) { data[key] = value; }
    });
    return data;
  }

  function fieldValue(el, problems) {
    var type = el.dataset.type, widget = el.dataset.widget;
    if (widget === "checkboxes") {
      var checked = Array.prototype.map.call(el.querySelectorAll("input:checked"), function (i) { return i.value; });
      return checked.length ? checked : undefined;
    }
    if (widget === "radio") {
      var on = el.querySelector("input:checked");
      return on ? on.value : undefined;
    }
    var control = el.querySelector("[data-role=control]");
    if (type === "boolean") { return control.checked ? true : undefined; }
    if (type === "number" || type === "integer") {
      if (control.validity && control.validity.badInput) { problems.push({ id: control.id, message: S.number }); return undefined; }
      var text = control.value.trim();
      return text === "" ? undefined : Number(text);
    }
    var value = control.value.replace(/\r\n?/g, "\n").trim();
    if (control.tagName === "TEXTAREA") { value = value.replace(/[ \t]+\n/g, "\n"); }
    return value === "" ? undefined : value;
  }

  // --- data -> form (to update a community) --------------------------------------------

  function fill(scope, data) {
    parts(scope).forEach(function (el) {
      var value = data[keyOf(el)];
      if (value === undefined || value === null) { return; }
      if (el.dataset.group) { fill(el, value); return; }
      if (el.dataset.repeat) {
        if (!Array.isArray(value)) { return; }
        while (items(el).length < value.length) { addItem(el); }
        items(el).forEach(function (li, i) { if (value[i]) { fill(li, value[i]); } });
        return;
      }
      var widget = el.dataset.widget;
      if (widget === "checkboxes") {
        el.querySelectorAll("input").forEach(function (i) { i.checked = Array.isArray(value) && value.indexOf(i.value) >= 0; });
      } else if (widget === "radio") {
        el.querySelectorAll("input").forEach(function (i) { i.checked = i.value === String(value); });
      } else if (widget === "checkbox") {
        el.querySelector("[data-role=control]").checked = value === true;
      } else {
        el.querySelector("[data-role=control]").value = String(value);
      }
    });
  }

  // --- checking ------------------------------------------------------------------------

  function pathId(path) { return "f-" + path.join("-"); }

  function pointerPath(pointer) {
    return String(pointer || "#").replace(/^#\/?/, "").split("/").filter(Boolean).map(function (p) {
      return p.replace(/~1/g, "/").replace(/~0/g, "~");
    });
  }

  function message(error, path) {
    var d = error.data || {}, key = path[path.length - 1] || "";
    switch (error.code) {
      case "required-property-error": return key === "location" ? S.requiredPlace : S.required;
      case "min-length-error": return (d.length === 0 ? S.required : format(S.minLength, { n: d.minLength, got: d.length }));
      case "max-length-error": return format(S.maxLength, { n: d.maxLength, got: d.length });
      case "format-email-error": return format(S.email, { value: d.value });
      case "format-date-error": return S.date;
      case "format-uri-error": return path.join(".") === "contact.url" ? S.contactUrl : S.url;
      case "pattern-error":
        if (/\[0-9\]\{4\}-/.test(d.pattern)) { return S.date; }
        if (key === "country") { return S.country; }
        if (/http/.test(d.pattern)) { return path.join(".") === "contact.url" ? S.contactUrl : S.url; }
        if (path[0] === "tags") { return S.tag; }
        return S.invalid;
      case "enum-error": return format(S.enum, { values: (d.values || []).join(", ") });
      case "minimum-error": return format(S.minimum, { n: d.minimum });
      case "maximum-error": return format(S.maximum, { n: d.maximum });
      case "min-items-error": return path[0] === "commitments" ? S.required : format(S.minItems, { n: d.minItems });
      case "max-items-error": return format(S.maxItems, { n: d.maxItems });
      case "unique-items-error": return S.unique;
      case "missing-dependency-error": return S.latLon;
      case "type-error": return d.expected === "integer" ? S.integer : (d.expected === "number" ? S.number : S.invalid);
      default: return error.message || S.invalid;
    }
  }

  function schemaProblems(data) {
    var out = [];
    validator.validate(data).errors.forEach(function (error) {
      var d = error.data || {};
      var path = pointerPath(d.pointer);
      if (error.code === "required-property-error" && d.key) { path = path.concat([d.key]); }
      if (error.code === "missing-dependency-error" && d.missingProperty) { path = path.concat([d.missingProperty]); }
      out.push({ path: path, message: message(error, path) });
    });
    return out;
  }

  function today() {
    var now = new Date();
    return now.getFullYear() + "-" + String(now.getMonth() + 1).padStart(2, "0") + "-" + String(now.getDate()).padStart(2, "0");
  }

  // The rules the site's own validator adds to the schema (plugins/communities/validation.py).
  function ruleProblems(data) {
    var out = [];
    var urls = [[["website"], data.website, false]];
    if (data.contact) {
      urls.push([["contact", "url"], data.contact.url, true]);
      if (data.contact.email && !EMAIL.test(data.contact.email)) {
        out.push({ path: ["contact", "email"], message: format(S.email, { value: data.contact.email }) });
      }
    }
    ["cooperatives", "partners"].forEach(function (name) {
      (data[name] || []).forEach(function (entry, i) { urls.push([[name, i, "url"], entry.url, false]); });
    });
    urls.forEach(function (u) {
      if (typeof u[1] !== "string" || !/^https?:\/\//.test(u[1])) { return; } // the schema explains
      var ok = false;
      try { var parsed = new URL(u[1]); ok = HOST.test(parsed.hostname) && !parsed.username && !/\s/.test(u[1]); } catch (e) { ok = false; }
      if (!ok) { out.push({ path: u[0], message: u[2] ? S.contactUrl : S.url }); }
    });
    var dates = [[["joined"], data.joined], [["last_reviewed"], data.last_reviewed]];
    (data.commitments || []).forEach(function (c, ci) {
      (c.reviews || []).forEach(function (r, ri) { dates.push([["commitments", ci, "reviews", ri, "date"], r.date]); });
    });
    var now = today();
    dates.forEach(function (d) {
      if (typeof d[1] === "string" && /^\d{4}-\d{2}-\d{2}$/.test(d[1]) && d[1] > now) {
        out.push({ path: d[0], message: format(S.futureDate, { value: d[1] }) });
      }
    });
    return out;
  }

  // --- showing problems ----------------------------------------------------------------

  function clearErrors() {
    form.querySelectorAll("[data-role=error], #f-slug-error").forEach(function (e) { e.hidden = true; e.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (e) { e.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".has-error").forEach(function (e) { e.classList.remove("has-error"); });
    form.querySelectorAll("[aria-describedby]").forEach(function (e) { if (e.id) { setDescribedBy(e, e.id); } });
    summary.hidden = true;
    summary.querySelector("ul").textContent = "";
  }

  function elementFor(path) {
    for (var n = path.length; n > 0; n--) {
      var el = document.getElementById(pathId(path.slice(0, n)));
      if (el) { return el; }
    }
    return form;
  }

  function labelOf(el) {
    var wrapper = el.closest("[data-field],[data-group],[data-repeat],#slug-field");
    var label = wrapper && (wrapper.querySelector(":scope > label, :scope > legend"));
    var text = label ? label.textContent.replace(/\s*\(.*\)\s*$/, "").trim() : "";
    var item = el.closest("[data-item]");
    if (item && !el.matches("[data-repeat]")) { text = item.querySelector("[data-role=item-title]").textContent + ": " + text; }
    return text;
  }

  function showErrors(problems) {
    var seen = {};
    var list = summary.querySelector("ul");
    problems.forEach(function (p) {
      var el = p.id ? document.getElementById(p.id) : elementFor(p.path);
      if (!el || seen[el.id]) { return; }
      seen[el.id] = true;
      var error = document.getElementById(el.id + "-error");
      if (error) {
        error.textContent = p.message;
        error.hidden = false;
      }
      el.setAttribute("aria-invalid", "true");
      var wrapper = el.closest("[data-field],[data-group],[data-repeat],#slug-field");
      if (wrapper) { wrapper.classList.add("has-error"); }
      setDescribedBy(el, el.id);
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#" + el.id;
      a.textContent = (labelOf(el) ? labelOf(el) + ": " : "") + p.message;
      a.addEventListener("click", function (event) { event.preventDefault(); firstControl(el).focus(); });
      li.appendChild(a);
      list.appendChild(li);
    });
    var n = list.children.length;
    summary.querySelector("h2").textContent = format(plural(S.errorsTitle, n), { n: n });
    summary.hidden = false;
    summary.focus();
  }

  // --- the file and the link -----------------------------------------------------------

  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60).replace(/-+$/, "");
  }

  function repoUrl() { return String(site.repo || "").replace(/\/+$/, ""); }

  function githubUrl(slug, text) {
    var file = "data/communities/" + slug + ".yaml";
    if (updating) { return repoUrl() + "/edit/" + encodeURIComponent(site.branch) + "/" + file; }
    return repoUrl() + "/new/" + encodeURIComponent(site.branch) + "?filename=" + encodeURIComponent(file) +
      "&value=" + encodeURIComponent(text);
  }

  function toYaml(data) {
    return HEADER + jsyaml.dump(data, { lineWidth: -1, noRefs: true });
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () { return copyFallback(); });
    }
    return Promise.resolve(copyFallback());
  }

  function copyFallback() {
    var active = document.activeElement;
    output.focus();
    output.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    output.setSelectionRange(0, 0);
    if (active && active.focus) { active.focus(); }
    return ok;
  }

  function slugTaken(slug) {
    return fetch(format(config.record, { slug: slug }), { method: "HEAD", cache: "no-store" })
      .then(function (r) { return r.ok; }, function () { return false; });
  }

  function generate() {
    clearErrors();
    var problems = [];
    var data = collect(form, problems);
    var slug = slugInput.value.trim();
    if (!SLUG.test(slug)) { problems.push({ id: "f-slug", message: slug ? S.slug : S.required }); }
    problems = problems.concat(ruleProblems(data), schemaProblems(data));
    var check = (!problems.length && !updating) ? slugTaken(slug) : Promise.resolve(false);
    return check.then(function (taken) {
      if (taken) { problems.push({ id: "f-slug", message: format(S.slugTaken, { slug: slug }) }); }
      if (problems.length) {
        result.hidden = true;
        showErrors(problems);
        return;
      }
      var text = toYaml(data);
      var url = githubUrl(slug, text);
      output.value = text;
      document.getElementById("result-filename").textContent = "data/communities/" + slug + ".yaml";
      document.getElementById("result-new-help").hidden = Boolean(updating);
      document.getElementById("result-update-help").hidden = !updating;
      githubLink.href = url;
      githubLink.textContent = updating ? S.openEdit : S.openNew;
      copyStatus.textContent = (!updating && url.length > MAX_URL) ? S.tooLong : "";
      if (!updating && url.length > MAX_URL) { githubLink.href = repoUrl() + "/new/" + encodeURIComponent(site.branch) + "?filename=" + encodeURIComponent("data/communities/" + slug + ".yaml"); }
      result.hidden = false;
      result.querySelector("h2").focus();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (validator) { generate(); }
  });

  githubLink.addEventListener("click", function () {
    // For an update the editor cannot be filled from the link: copy first, then GitHub opens.
    if (updating) { copy(output.value).then(function (ok) { copyStatus.textContent = ok ? S.copied : S.copyFailed; }); }
  });

  document.getElementById("copy-button").addEventListener("click", function () {
    copy(output.value).then(function (ok) { copyStatus.textContent = ok ? S.copied : S.copyFailed; });
  });

  document.getElementById("download-button").addEventListener("click", function () {
    var file = slugInput.value.trim() + ".yaml";
    var blob = new Blob([output.value], { type: "application/yaml" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = file;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    copyStatus.textContent = format(S.downloaded, { file: file });
  });

  var nameInput = document.getElementById("f-name");
  nameInput.addEventListener("input", function () { if (!slugEdited && !updating) { slugInput.value = slugify(nameInput.value); } });
  slugInput.addEventListener("input", function () { slugEdited = true; });

  // --- start ---------------------------------------------------------------------------

  var loading = document.getElementById("form-loading");
  var notice = document.getElementById("update-notice");
  loading.hidden = false;
  renumber(form, "f");

  var schemaReady = fetch(config.schema).then(function (r) {
    if (!r.ok) { throw new Error("schema " + r.status); }
    return r.json();
  }).then(function (schema) {
    jlibFormats.addFormats([jlib.draft2020]);
    validator = jlib.compileSchema(schema, { drafts: [jlib.draft2020] });
  });

  var recordReady = Promise.resolve();
  if (updating && SLUG.test(updating)) {
    recordReady = fetch(format(config.record, { slug: updating })).then(function (r) {
      if (!r.ok) { throw new Error("not found"); }
      return r.json();
    }).then(function (record) {
      delete record.slug; delete record.url;
      fill(form, record);
      renumber(form, "f");
      slugInput.value = updating;
      slugInput.readOnly = true;
      notice.textContent = format(S.updating, { name: record.name || updating });
      notice.hidden = false;
    }, function () {
      updating = "";
      notice.textContent = format(S.notFound, { slug: params.get("update") });
      notice.hidden = false;
    });
  } else if (updating) {
    updating = "";
  }

  Promise.all([schemaReady, recordReady]).then(function () {
    loading.hidden = true;
    form.hidden = false;
    form.dataset.ready = "true";
  }, function () {
    loading.textContent = S.loadFailed;
  });
})();
