// The query UI: YASGUI (served from our own host) preset to this endpoint, our prefixes and the
// competency questions. Without JavaScript, or if YASGUI failed to load, the plain form and the
// example links (which run their query directly) keep working.
//
// Beyond YASGUI itself: result IRIs under the site's base open the local page; two result views,
// a map (WKT points) and a timeline (xsd dates), drawn without tiles or any other host; a query
// can ask for a view with a `#defaultView:Map` comment, as on the Wikidata query service; the
// page opens an example (`#example=<name>`) or a query (`#query=<text>`) given in its fragment.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("kg-config").textContent);
  var Yasgui = window.Yasgui;
  if (!Yasgui) { return; }  // fallback: the plain form stays visible
  var endpoint = new URL(config.endpoint, window.location.href).href;
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var DATE_TYPES = [XSD + "date", XSD + "dateTime", XSD + "gYear", XSD + "gYearMonth"];
  var WKT = "http://www.opengis.net/ont/geosparql#wktLiteral";
  var POINT = /^\s*(?:<[^>]*>\s*)?POINT\s*\(\s*(-?[\d.]+(?:e-?\d+)?)\s+(-?[\d.]+(?:e-?\d+)?)\s*\)\s*$/i;

  // -- local links --------------------------------------------------------------------------------
  function localPath(iri) {
    if (typeof iri !== "string" || iri.indexOf(config.base) !== 0) { return null; }
    var rest = iri.slice(config.base.length);
    for (var prefix in config.localPaths) {
      if (rest.indexOf(prefix) === 0) { rest = config.localPaths[prefix] + rest.slice(prefix.length); break; }
    }
    return "/" + rest;
  }

  function localiseLinks(root) {
    Array.prototype.forEach.call(root.querySelectorAll("a[href]"), function (a) {
      var local = localPath(a.getAttribute("href"));
      if (local) {
        a.setAttribute("href", local);
        a.removeAttribute("target");
        a.title = a.title || "Open this page of the graph";
      }
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function localName(iri) {
    var parts = iri.replace(/[#/]+$/, "").split(/[#/]/);
    return parts[parts.length - 1] || iri;
  }

  // What a row is about: the first IRI (its link) and a label (a variable named like a label,
  // else the first other literal, else the IRI's local name).
  function rowSubject(binding, vars, skip) {
    var iri = null, label = null, other = null;
    vars.forEach(function (v) {
      var b = binding[v];
      if (!b || v === skip) { return; }
      if (b.type === "uri" && !iri) { iri = b.value; }
      if (b.type !== "uri" && b.type !== "bnode") {
        if (/label|name|title/i.test(v) && !label) { label = b.value; }
        else if (!other && DATE_TYPES.indexOf(b.datatype) < 0 && b.datatype !== WKT) { other = b.value; }
      }
    });
    return { iri: iri, href: iri ? (localPath(iri) || iri) : null, label: label || other || (iri ? localName(iri) : "(no label)") };
  }

  // A div, as YASR's own icons are: YASR hides a button's spans (its label) on narrow screens.
  function pluginIcon(text) {
    return el("div", { "aria-hidden": "true", "class": "kg-view-icon" }, text);
  }

  // -- map view -----------------------------------------------------------------------------------
  function pointsOf(results) {
    var vars = results.getVariables();
    var out = [];
    results.getBindings().forEach(function (binding) {
      vars.forEach(function (v) {
        var b = binding[v];
        if (!b || b.type === "uri" || b.type === "bnode") { return; }
        var m = POINT.exec(b.value);
        if (m && (b.datatype === WKT || !b.datatype)) {
          var subject = rowSubject(binding, vars, v);
          out.push({ lon: parseFloat(m[1]), lat: parseFloat(m[2]), label: subject.label, href: subject.href });
        }
      });
    });
    return out;
  }

  // Labels placed one by one where they overlap no label and no point placed before them: to the
  // right, left, above, below, then further out with a leader line. Points with nothing free keep
  // their label as a tooltip only.
  function placeLabels(points, width, height) {
    var taken = points.map(function (p) { return { x0: p.x - 5, y0: p.y - 5, x1: p.x + 5, y1: p.y + 5 }; });
    var order = points.slice().sort(function (a, b) { return a.y - b.y || a.x - b.x; });
    order.forEach(function (p) {
      var w = p.label.length * 6.8 + 4, h = 14;
      var candidates = [];
      [0, 1, 2, 3].forEach(function (ring) {
        var d = 8 + ring * 16;
        candidates.push([p.x + d, p.y - h / 2], [p.x - d - w, p.y - h / 2], [p.x - w / 2, p.y - d - h],
                        [p.x - w / 2, p.y + d], [p.x + d, p.y - d - h], [p.x + d, p.y + d],
                        [p.x - d - w, p.y - d - h], [p.x - d - w, p.y + d]);
      });
      p.box = null;
      for (var i = 0; i < candidates.length; i++) {
        var box = { x0: candidates[i][0], y0: candidates[i][1], x1: candidates[i][0] + w, y1: candidates[i][1] + h };
        if (box.x0 < 0 || box.y0 < 0 || box.x1 > width || box.y1 > height) { continue; }
        var clash = taken.some(function (t) { return box.x0 < t.x1 && t.x0 < box.x1 && box.y0 < t.y1 && t.y0 < box.y1; });
        if (!clash) { p.box = box; p.leader = i >= 8; taken.push(box); break; }
      }
    });
  }

  function MapView(yasr) { this.yasr = yasr; this.priority = 5; this.label = "Map"; }
  MapView.prototype.canHandleResults = function () {
    return !!this.yasr.results && this.yasr.results.getVariables && pointsOf(this.yasr.results).length > 0;
  };
  MapView.prototype.getIcon = function () { return pluginIcon("◉"); };
  MapView.prototype.draw = function () {
    var points = pointsOf(this.yasr.results);
    var width = 800, height = 420, pad = 40;
    var lons = points.map(function (p) { return p.lon; }), lats = points.map(function (p) { return p.lat; });
    var west = Math.min.apply(null, lons), east = Math.max.apply(null, lons);
    var south = Math.min.apply(null, lats), north = Math.max.apply(null, lats);
    var spanLon = Math.max(east - west, 1), spanLat = Math.max(north - south, 1);
    west -= spanLon * 0.08; east += spanLon * 0.08; south -= spanLat * 0.12; north += spanLat * 0.12;
    points.forEach(function (p) {
      p.x = pad + (p.lon - west) / (east - west) * (width - 2 * pad);
      p.y = pad + (north - p.lat) / (north - south) * (height - 2 * pad);
    });
    placeLabels(points, width, height);
    var frame = el("div", { "class": "kg-map" });
    var map = svg("svg", { "class": "map", viewBox: "0 0 " + width + " " + height, role: "group",
      "aria-label": points.length + " points, longitude " + west.toFixed(1) + "° to " + east.toFixed(1) +
        "°, latitude " + south.toFixed(1) + "° to " + north.toFixed(1) + "°" });
    for (var i = 1; i < 4; i++) {
      map.appendChild(svg("line", { "class": "grid", x1: width * i / 4, y1: 0, x2: width * i / 4, y2: height }));
      map.appendChild(svg("line", { "class": "grid", x1: 0, y1: height * i / 4, x2: width, y2: height * i / 4 }));
    }
    points.forEach(function (p) {
      var group = p.href ? svg("a", { href: p.href }) : svg("g");
      group.appendChild(svg("title", {}, p.label + " (" + p.lat + ", " + p.lon + ")"));
      if (p.box && p.leader) {
        var tx = p.box.x0 > p.x ? p.box.x0 : (p.box.x1 < p.x ? p.box.x1 : (p.box.x0 + p.box.x1) / 2);
        var ty = p.box.y0 > p.y ? p.box.y0 : (p.box.y1 < p.y ? p.box.y1 : (p.box.y0 + p.box.y1) / 2);
        group.appendChild(svg("line", { "class": "leader", x1: p.x, y1: p.y, x2: tx, y2: ty }));
      }
      group.appendChild(svg("circle", { "class": "current", cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: 5 }));
      if (p.box) { group.appendChild(svg("text", { x: (p.box.x0 + 2).toFixed(1), y: (p.box.y1 - 3).toFixed(1) }, p.label)); }
      map.appendChild(group);
    });
    frame.appendChild(map);
    frame.appendChild(el("p", {}, "Points plotted on longitude and latitude (no map tiles: this site contacts no other host)."));
    this.yasr.resultsEl.appendChild(frame);
  };

  // -- timeline view ------------------------------------------------------------------------------
  function datesOf(results) {
    var vars = results.getVariables();
    var out = [];
    results.getBindings().forEach(function (binding) {
      for (var i = 0; i < vars.length; i++) {
        var b = binding[vars[i]];
        if (b && DATE_TYPES.indexOf(b.datatype) >= 0) {
          var subject = rowSubject(binding, vars, vars[i]);
          out.push({ date: b.value, datatype: b.datatype, label: subject.label, href: subject.href });
          break;
        }
      }
    });
    return out.sort(function (a, b) { return a.date < b.date ? -1 : a.date > b.date ? 1 : 0; });
  }

  function humanDate(value, datatype) {
    var months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December"];
    var m = /^(-?\d{4})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(value);
    if (!m) { return value; }
    if (datatype === XSD + "gYear" || !m[2]) { return m[1]; }
    var month = months[parseInt(m[2], 10) - 1];
    if (datatype === XSD + "gYearMonth" || !m[3]) { return month + " " + m[1]; }
    var text = parseInt(m[3], 10) + " " + month + " " + m[1];
    var time = /T(\d{2}:\d{2})/.exec(value);
    return time ? text + ", " + time[1] : text;
  }

  function TimelineView(yasr) { this.yasr = yasr; this.priority = 4; this.label = "Timeline"; }
  TimelineView.prototype.canHandleResults = function () {
    return !!this.yasr.results && this.yasr.results.getVariables && datesOf(this.yasr.results).length > 0;
  };
  TimelineView.prototype.getIcon = function () { return pluginIcon("⋮"); };
  TimelineView.prototype.draw = function () {
    var frame = el("div", { "class": "kg-timeline" });
    var list = el("ol", { "class": "timeline" });
    datesOf(this.yasr.results).forEach(function (row) {
      var li = el("li");
      li.appendChild(el("time", { datetime: row.date }, humanDate(row.date, row.datatype)));
      li.appendChild(row.href ? el("a", { href: row.href }, row.label) : el("span", {}, row.label));
      list.appendChild(li);
    });
    frame.appendChild(list);
    this.yasr.resultsEl.appendChild(frame);
  };

  Yasgui.Yasr.registerPlugin("map", MapView);
  Yasgui.Yasr.registerPlugin("timeline", TimelineView);
  Yasgui.Yasr.defaults.pluginOrder = ["table", "map", "timeline", "response"];
  Yasgui.Yasr.defaults.defaultPlugin = "table";

  // -- YASGUI -------------------------------------------------------------------------------------
  // Only completers that need no other host: the LOV-backed class and property completers
  // would send what the user types to a third party (and fail offline).
  var completers = ["prefixes", "variables"];
  Yasgui.Yasqe.defaults.autocompleters = completers.slice();
  Yasgui.defaults.yasqe.autocompleters = completers.slice();

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    yasqe: { value: config.defaultQuery },
    yasr: { prefixes: config.prefixes },
    populateFromUrl: false,
    persistenceId: "kg-sparql",
  });
  document.getElementById("plain-form").classList.add("kg-hidden");
  window.kgYasgui = yasgui;

  // A tab restored from an earlier visit may point elsewhere; this page queries this endpoint.
  var current = yasgui.getTab();
  if (current && current.getEndpoint() !== endpoint) { current.setEndpoint(endpoint); }

  // Links in results, in every view and on every page of the table.
  var root = document.getElementById("yasgui");
  localiseLinks(root);
  new MutationObserver(function () { localiseLinks(root); }).observe(root, { childList: true, subtree: true });

  // YASGUI as assistive technology meets it: controls it leaves unnamed get a name, its editor's
  // scrolling area can be reached by keyboard, the row-number column has a header, and the
  // "+" (add a tab) button moves out of the tab list, which may hold tabs only.
  function repairYasgui() {
    Array.prototype.forEach.call(root.querySelectorAll(
      "input:not([aria-label]), select:not([aria-label]), button:not([aria-label]), textarea:not([aria-label])"), function (c) {
      if (c.labels && c.labels.length) { return; }
      var name = c.getAttribute("title") || c.getAttribute("placeholder") || (c.textContent || "").trim();
      if (c.classList.contains("autocomplete")) { name = "SPARQL endpoint"; }
      else if (c.tagName === "TEXTAREA") { name = "SPARQL query"; }
      else if (c.closest(".tab")) { name = "Tab name"; }
      c.setAttribute("aria-label", name || "control");
    });
    Array.prototype.forEach.call(root.querySelectorAll(".CodeMirror-scroll:not([tabindex='0'])"), function (area) {
      area.setAttribute("tabindex", "0");
      area.setAttribute("aria-label", "SPARQL query (scroll)");
    });
    Array.prototype.forEach.call(root.querySelectorAll(".yasr table.dataTable thead th:first-child"), function (th) {
      if (!th.textContent.trim()) { th.appendChild(el("span", { "class": "visually-hidden" }, "row")); }
    });
    var add = root.querySelector(".tabsList button.addTab");
    var list = root.querySelector(".tabsList");
    if (add && list) { list.parentNode.insertBefore(add, list.nextSibling); }
  }
  repairYasgui();
  new MutationObserver(repairYasgui).observe(root, { childList: true, subtree: true });

  // `#defaultView:Map` (or Timeline, Table) in a query selects that view for its results.
  yasgui.on("queryResponse", function (_yasgui, tab) {
    var m = /#\s*defaultView:\s*(\w+)/i.exec(tab.getQuery());
    var name = m ? m[1].toLowerCase() : null;
    if (name && tab.getYasr().plugins[name]) { tab.getYasr().selectPlugin(name); }
  });

  function openQuery(name, query, run) {
    var tab = yasgui.tabNameTaken(name) || yasgui.addTab(true, { name: name });
    yasgui.selectTabId(tab.getId());
    tab.setEndpoint(endpoint);
    tab.setQuery(query);
    if (run) { tab.getYasqe().query(); }
    root.scrollIntoView();
  }

  function exampleNamed(name) {
    return config.examples.filter(function (e) { return e.name === name; })[0];
  }

  Array.prototype.forEach.call(document.querySelectorAll("a.example"), function (link) {
    link.addEventListener("click", function (event) {
      var example = exampleNamed(link.dataset.name);
      if (!example) { return; }
      event.preventDefault();
      openQuery(example.name, example.query, true);
    });
  });

  // `#example=<name>` and `#query=<text>[&name=<tab>]`: links from the home page and the resource pages.
  function openFromFragment() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    var example = params.get("example") && exampleNamed(params.get("example"));
    if (example) { openQuery(example.name, example.query, true); }
    else if (params.get("query")) { openQuery(params.get("name") || "query", params.get("query"), true); }
  }
  openFromFragment();
  window.addEventListener("hashchange", openFromFragment);
})();
