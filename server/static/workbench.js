// The curator's workbench: suggestions, selections as quotes, a pending change checked by SHACL,
// applied with the curator's token through the service's own write endpoints. Offsets are code points.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const state = { text: "", slug: "", quote: null, pending: [], nodes: new Map(), lastChange: "", propertiesFor: undefined, existing: {},
                  derived: null, wantDate: false, subjectWords: "" };
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const DATE_PROPERTIES = ["date", "startDate", "statementDate", "endDate", "depictedDate"];

  function status(el, message, bad) { el.textContent = message; el.classList.toggle("bad", !!bad); }
  function form() { return Object.fromEntries(new FormData($("wb-article")).entries()); }
  function auth() { const t = form().token; return t ? { Authorization: "Bearer " + t } : {}; }
  const codePoints = (s) => Array.from(s).length;
  function utf16(cp) { return Array.from(state.text).slice(0, cp).join("").length; }

  async function call(url, options) {
    const response = await fetch(url, options);
    const type = response.headers.get("Content-Type") || "";
    const body = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) {
      const message = typeof body === "string" ? body.split("\n")[0] : (body.message || body.error || JSON.stringify(body));
      throw new Error(response.status + ": " + message);
    }
    return { body, response };
  }
  const postJSON = (url, data) => call(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });

  function renderText(spans) {
    const pre = $("wb-text");
    pre.textContent = "";
    let at = 0;
    spans.sort((a, b) => a.start - b.start).forEach((s) => {
      if (s.start < at) return;
      pre.append(state.text.slice(utf16(at), utf16(s.start)));
      const mark = document.createElement("mark");
      mark.className = "wb-" + s.kind;
      mark.textContent = state.text.slice(utf16(s.start), utf16(s.end));
      mark.title = s.explanation;
      pre.append(mark);
      at = s.end;
    });
    pre.append(state.text.slice(utf16(at)));
  }

  function suggestionItem(s, labels) {
    const li = document.createElement("li");
    li.className = "wb-suggestion wb-" + s.kind;
    let what;
    if (s.kind === "mention") what = "“" + s.exact + "” → " + (labels[s.entity] || s.entity) + " (" + s.entity_type + ")";
    else if (s.kind === "date") what = "“" + s.exact + "” → " + (s.value || "unresolved") + (s.derived ? " (derived)" : "");
    else what = s.type + " (“" + s.cue + "”)" + (s.existing.length ? " — may be " + s.existing.map((e) => describe(state.existing[e] || { label: labels[e] || e })).join("; ") : "");
    li.innerHTML = "<span class=\"what\"></span> <small class=\"why\"></small> <span class=\"acts\"></span>";
    li.querySelector(".what").textContent = what;
    // A date has no confidence: it is resolved by rule, or left unresolved with the reason.
    li.querySelector(".why").textContent = (s.confidence === undefined ? "" : "confidence " + s.confidence + ": ") + s.explanation;
    const acts = li.querySelector(".acts");
    [["Accept", () => accept(s, li, labels)], ["Edit", () => edit(s, labels)], ["Reject", () => li.remove()]].forEach(([label, fn]) => {
      const b = document.createElement("button"); b.type = "button"; b.textContent = label; b.addEventListener("click", fn); acts.append(b);
    });
    // An event the graph may have already: each candidate can be taken as the fact's subject, by name.
    (s.kind === "mention" || s.kind === "date" ? [] : s.existing || []).forEach((iri) => {
      const label = (state.existing[iri] || {}).label || labels[iri] || iri;
      const b = document.createElement("button"); b.type = "button"; b.className = "wb-link";
      b.textContent = "Use “" + label + "” as subject";
      b.addEventListener("click", () => useExisting(s, iri, label));
      acts.append(b);
    });
    return li;
  }

  function useExisting(s, iri, label) {
    const f = $("wb-fact-form").elements;
    window.getSelection().removeAllRanges();
    setQuote(s.start, s.end);
    f["subject-label"].value = label; remember(iri, label); state.subjectWords = label;
    loadProperties();
    $("wb-fact").scrollIntoView({ block: "nearest" });
  }

  async function suggest() {
    const f = form();
    state.text = f.text;
    try {
      const { body } = await postJSON("/workbench/suggestions", { text: f.text, published: f.published });
      state.existing = body.existing || {};
      const all = [...body.mentions, ...body.dates, ...body.candidates];
      renderText([...body.mentions, ...body.dates]);
      const list = $("wb-suggestions"); list.textContent = "";
      all.forEach((s) => list.append(suggestionItem(s, body.labels)));
      Object.entries(body.labels).forEach(([iri, label]) => remember(iri, label));
      $("wb-read").hidden = false; $("wb-fact").hidden = false;
      status($("wb-status"), all.length + " suggestions: accept, edit or reject each. Nothing is applied unasked." +
             (state.slug ? "" : " Store the article to accept them as facts."));
    } catch (e) { status($("wb-status"), e.message, true); }
  }

  async function store() {
    const f = form();
    try {
      const { body } = await postJSON("/workbench/draft-source", f);
      const data = new FormData();
      data.append("text", new Blob([f.text], { type: "text/plain" }), body.slug + ".txt");
      data.append("facts", new Blob([body.facts], { type: "text/turtle" }), "facts.ttl");
      data.append("slug", body.slug);
      const { response } = await call("/sources", { method: "POST", headers: { ...auth(), Accept: "text/plain" }, body: data });
      state.slug = body.slug; state.text = f.text;
      status($("wb-status"), "Stored in " + body.graph + " (change " + response.headers.get("KG-Change") + ").");
      if (!$("wb-text").textContent) renderText([]);
      $("wb-read").hidden = false; $("wb-fact").hidden = false;
      $("wb-add").disabled = false; $("wb-add-note").textContent = "";
    } catch (e) { status($("wb-status"), e.message, true); }
  }

  function remember(iri, label) { state.nodes.set(label, iri); }

  // The names the graph knows that contain the words typed, fetched as the curator types (any
  // spelling: "Gumri" offers Gyumri): the field's own list is replaced by what matches.
  function offer(input, list, type) {
    let timer = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const found = await matches(input.value.trim(), type);
        if (found === null) return;
        list.textContent = "";
        found.forEach((n) => {
          remember(n.iri, n.label);
          const o = document.createElement("option"); o.value = n.label;
          o.textContent = (n.name !== n.label ? n.name + " → " : "") + n.label + " (" + n.types.join(", ") + ")";
          list.append(o);
        });
      }, 250);
    });
  }

  async function matches(q, type) {
    if (q.length < 2) return null;
    try {
      const { body } = await call("/workbench/lookup?" + new URLSearchParams(type ? { q, type } : { q }));
      return body;
    } catch (e) { return null; }
  }

  // The node the words name: a name chosen from the list, or the one node one of whose names the words
  // are (or, failing that, the one node whose names contain them). Several: the curator chooses; none:
  // refused. Never the words themselves.
  async function resolveNode(words, what) {
    if (state.nodes.has(words)) { $("wb-choices").textContent = ""; return { iri: state.nodes.get(words), label: words }; }
    const found = words.length < 2 ? [] : await matches(words);
    $("wb-choices").textContent = "";
    if (found === null) throw new Error("The graph could not be asked for “" + words + "”: try again.");
    const exact = found.filter((n) => n.exact);
    const one = exact.length === 1 ? exact[0] : !exact.length && found.length === 1 ? found[0] : null;
    if (one) { remember(one.iri, one.label); return { iri: one.iri, label: one.label, name: one.name }; }
    if (!found.length) {
      throw new Error("No node of the graph is called “" + words + "”: find it (above), or, for words rather than a node, choose another kind of object.");
    }
    const candidates = exact.length ? exact : found;
    candidates.forEach((n) => {
      const li = document.createElement("li");
      const b = document.createElement("button"); b.type = "button";
      b.textContent = "Use " + n.label + " (" + n.types.join(", ") + (n.name !== n.label ? "; also called " + n.name : "") + ") as the " + what;
      b.addEventListener("click", () => {
        remember(n.iri, n.label);
        $("wb-fact-form").elements[what + "-label"].value = n.label;
        $("wb-choices").textContent = "";
        status($("wb-resolved"), "The " + what + " is " + n.label + ".");
        if (what === "subject") loadProperties();
      });
      li.append(b); $("wb-choices").append(li);
    });
    throw new Error("“" + words + "” may name " + candidates.length + " nodes: choose the " + what + " below.");
  }

  // A node as the curator tells it apart from others: its label, class, dates and places.
  function describe(n) {
    const parts = [...(n.types || []), ...(n.dates || []).map((d) => (d.property === "date" ? "" : d.property + " ") + d.value)];
    if (n.places && n.places.length) parts.push("at " + n.places.map((p) => p.label).join(", "));
    return n.label + (parts.length ? " (" + parts.join(", ") + ")" : "");
  }

  async function findExisting() {
    const f = Object.fromEntries(new FormData($("wb-find-form")).entries());
    const params = new URLSearchParams();
    Object.entries(f).forEach(([k, v]) => { v = v.trim(); if (v) params.set(k, k === "place" && state.nodes.has(v) ? state.nodes.get(v) : v); });
    const list = $("wb-found"); list.textContent = "";
    try {
      const { body } = await call("/workbench/find?" + params);
      body.forEach((n) => list.append(foundItem(n)));
      status($("wb-find-status"), body.length ? body.length + " found: use one as the fact's subject or object." : "Nothing found: the graph has no such node yet.");
    } catch (e) { status($("wb-find-status"), e.message, true); }
  }

  function foundItem(n) {
    const li = document.createElement("li");
    li.className = "wb-suggestion wb-found";
    li.innerHTML = "<span class=\"what\"></span> <span class=\"acts\"></span>";
    li.querySelector(".what").textContent = describe(n);
    [["Use as subject", () => useNode(n, "subject-label")], ["Use as object", () => useNode(n, "object-label")]].forEach(([label, fn]) => {
      const b = document.createElement("button"); b.type = "button"; b.textContent = label; b.addEventListener("click", fn); li.querySelector(".acts").append(b);
    });
    return li;
  }

  function useNode(n, field) {
    const f = $("wb-fact-form").elements;
    remember(n.iri, n.label);
    f[field].value = n.label;
    if (field === "subject-label") loadProperties(); else f.datatype.value = "";
    status($("wb-find-status"), "“" + n.label + "” is the fact's " + field.split("-")[0] + ".");
  }

  async function loadProperties() {
    const iri = state.nodes.get($("wb-fact-form").elements["subject-label"].value.trim());
    const select = $("wb-fact-form").elements.property;
    if (iri === state.propertiesFor) { if (state.wantDate) preferDate(); return; }  // the same subject: keep the list
    state.propertiesFor = iri;
    select.length = 1;
    if (!iri) return;
    const { body } = await call("/workbench/properties?subject=" + encodeURIComponent(iri));
    body.forEach((p) => {
      const o = document.createElement("option"); o.value = p.iri; o.textContent = p.label;
      o.dataset.object = p.object; o.dataset.range = p.range || ""; select.append(o);
    });
    if (state.wantDate) preferDate();
  }

  // The subject typed: resolved to its node as soon as the curator leaves the field, so that its properties are offered.
  async function subjectChanged() {
    const input = $("wb-fact-form").elements["subject-label"];
    const words = input.value.trim();
    if (!words || words === state.subjectWords) return;   // left again unchanged (to choose among its nodes)
    state.subjectWords = words;
    try {
      const node = await resolveNode(words, "subject");
      input.value = node.label;
      status($("wb-resolved"), node.label === words ? "" : "“" + words + "” is " + node.label + ".");
    } catch (e) { status($("wb-resolved"), e.message, true); }
    await loadProperties();
  }

  // A date accepted from a suggestion: the subject's first date property is picked (the curator may change it).
  function preferDate() {
    const select = $("wb-fact-form").elements.property;
    const options = [...select.options];
    const pick = DATE_PROPERTIES.map((name) => options.find((o) => o.value.endsWith("#" + name))).find(Boolean);
    if (pick) { select.value = pick.value; state.wantDate = false; }
  }

  // The kind of object follows the property: a node for a property that links nodes, the range's
  // datatype for one that holds a value (offered when the menu lacks it), words in English else.
  // An object typed for the other kind (a node's name, a date) is cleared: it cannot be this one's.
  function propertyChosen() {
    const f = $("wb-fact-form").elements;
    const chosen = f.property.selectedOptions[0];
    if (!chosen || !chosen.value) return;
    const wasNode = f.datatype.value === "";
    const range = chosen.dataset.range || "";
    let kind = "en";
    if (chosen.dataset.object === "true") kind = "";
    else if (range.startsWith(XSD) && range !== XSD + "string") {
      if (![...f.datatype.options].some((o) => o.value === range)) {
        const o = document.createElement("option"); o.value = range; o.textContent = "a value of type " + range.slice(XSD.length);
        f.datatype.append(o);
      }
      kind = range;
    } else if (range === XSD + "string") kind = range;
    if (kind !== f.datatype.value) {
      if ((kind === "") !== wasNode || kind.startsWith(XSD)) { f["object-label"].value = ""; state.derived = null; }
      f.datatype.value = kind;
    }
  }

  function setQuote(start, end) {
    state.quote = { start, end, exact: Array.from(state.text).slice(start, end).join("") };
    $("wb-quote").textContent = state.quote.exact;
    $("wb-offsets").textContent = "(" + start + "–" + end + ")";
  }

  function onSelect() {
    const sel = window.getSelection();
    const pre = $("wb-text");
    if (!sel.rangeCount || sel.isCollapsed || !pre.contains(sel.anchorNode) || !pre.contains(sel.focusNode)) return;
    const range = sel.getRangeAt(0);
    const before = document.createRange();
    before.selectNodeContents(pre); before.setEnd(range.startContainer, range.startOffset);
    const start = codePoints(before.toString());
    setQuote(start, start + codePoints(range.toString()));
  }

  async function addPending(request, label) {
    if (!state.slug) { status($("wb-status"), "Store the article first: evidence points into its stored text.", true); return false; }
    try {
      const { body } = await postJSON("/workbench/draft-fact", { slug: state.slug, ...request });
      state.pending.push({ label, ...body });
      await renderPending();
      return true;
    } catch (e) { status($("wb-status"), e.message, true); return false; }
  }

  async function accept(s, li, labels) {
    if (s.kind === "mention") {
      remember(s.entity, labels[s.entity] || s.exact);
      if (await addPending({ subject: s.entity, quote: { start: s.start, end: s.end, exact: s.exact } },
                           "“" + s.exact + "” names " + (labels[s.entity] || s.entity))) li.classList.add("accepted");
    } else { edit(s, labels); li.classList.add("accepted"); }
  }

  function edit(s, labels) {
    const f = $("wb-fact-form").elements;
    // The suggestion's words are the quote: words still selected in the article from an earlier
    // fact must not take their place again.
    window.getSelection().removeAllRanges();
    setQuote(s.start, s.end);
    if (s.kind === "mention") { f["subject-label"].value = labels[s.entity] || s.exact; remember(s.entity, f["subject-label"].value); loadProperties(); }
    if (s.kind === "date" && s.value) {
      f["object-label"].value = s.value; f.datatype.value = s.datatype || XSD + "date";
      // A derived date keeps its words and how it was derived: sent with the fact while the value stays.
      state.derived = s.derived ? { value: s.value, datatype: f.datatype.value, method: s.method, words: s.exact, start: s.start, end: s.end } : null;
      state.wantDate = true;
      loadProperties();
    }
    if (s.kind !== "mention" && s.kind !== "date" && s.existing && s.existing[0]) {
      f["subject-label"].value = labels[s.existing[0]] || s.existing[0]; remember(s.existing[0], f["subject-label"].value); loadProperties();
    }
    $("wb-fact").scrollIntoView({ block: "nearest" });
  }

  async function addFact() {
    const f = $("wb-fact-form").elements;
    status($("wb-resolved"), "");
    let subject;
    try { subject = await resolveNode(f["subject-label"].value.trim(), "subject"); } catch (e) { status($("wb-resolved"), e.message, true); return; }
    f["subject-label"].value = subject.label;
    await loadProperties();
    if (!state.quote) { status($("wb-status"), "Select the words that state it in the article.", true); return; }
    const objectText = f["object-label"].value.trim();
    const request = { subject: subject.iri, quote: state.quote };
    let objectLabel = objectText;
    if (f.property.value) {
      request.property = f.property.value;
      if (!objectText) { status($("wb-resolved"), "Give the object: a node's name, or a value.", true); return; }
      if (!f.datatype.value) {
        let node;
        try { node = await resolveNode(objectText, "object"); } catch (e) { status($("wb-resolved"), e.message, true); return; }
        request.object = { iri: node.iri }; objectLabel = node.label; f["object-label"].value = node.label;
        if (node.name && node.name !== node.label) status($("wb-resolved"), "“" + objectText + "” is " + node.label + " (the graph knows it also as " + node.name + ").");
      } else if (f.datatype.value === "en") {
        request.object = { value: objectText, language: "en" };
      } else {
        request.object = { value: objectText, datatype: f.datatype.value };
        const d = state.derived;
        if (d && d.value === objectText && d.datatype === f.datatype.value && d.start === state.quote.start && d.end === state.quote.end) {
          request.derivation = d.method; request.as_written = d.words;
          objectLabel += " (derived from “" + d.words + "”)";
        }
      }
    }
    await addPending(request, subject.label + " " + (f.property.selectedOptions[0] || {}).textContent + " " + objectLabel);
  }

  async function renderPending() {
    $("wb-pending").hidden = false;
    const list = $("wb-pending-list"); list.textContent = "";
    state.pending.forEach((p, i) => {
      const li = document.createElement("li"); li.textContent = p.label + " ";
      const b = document.createElement("button"); b.type = "button"; b.textContent = "Remove";
      b.addEventListener("click", () => { state.pending.splice(i, 1); renderPending(); });
      li.append(b); list.append(li);
    });
    $("wb-triples").textContent = state.pending.map((p) => p.turtle).join("\n");
    $("wb-report-results").textContent = ""; $("wb-report-notes").textContent = "";
    if (!state.pending.length) { status($("wb-report"), "Nothing pending."); return; }
    try {
      const { body } = await call("/workbench/check", { method: "POST", headers: { "Content-Type": "application/trig" },
                                                         body: state.pending.map((p) => p.trig).join("\n") });
      const added = Object.entries(body.new).filter(([, n]) => n).map(([s, n]) => n + " " + s + (n === 1 ? "" : "s"));
      status($("wb-report"), body.summary + " New with this change: " + (added.join(", ") || "nothing") + ".", body.new.Violation > 0);
      body.results.forEach((r) => $("wb-report-results").append(resultItem(r)));
      body.notes.forEach((n) => { const li = document.createElement("li"); li.textContent = "Note: " + n; $("wb-report-notes").append(li); });
    } catch (e) { status($("wb-report"), e.message, true); }
  }

  // One SHACL result as a curator reads it: what is wrong, about which node, and whether the change brought it.
  function resultItem(r) {
    const li = document.createElement("li");
    li.className = "wb-suggestion wb-result " + (r.new ? "new" : "existing");
    const head = document.createElement("span");
    head.innerHTML = "<span class=\"sev\"></span> <span class=\"origin\"></span>: <span class=\"message\"></span>";
    head.querySelector(".sev").textContent = r.severity;
    head.querySelector(".origin").textContent = r.new ? "new with this change" : "already in the graph";
    head.querySelector(".message").textContent = r.message;
    const dl = document.createElement("dl");
    [["focus node", r.focus_label ? r.focus_label + " <" + r.focus + ">" : r.focus], ["path", r.path],
     ["value", r.value_label ? r.value_label + " <" + r.value + ">" : r.value]].forEach(([k, v]) => {
      if (v === null || v === undefined) return;
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = v;
      dl.append(dt, dd);
    });
    li.append(head, dl);
    return li;
  }

  async function apply() {
    if (!state.pending.length) return;
    try {
      const { response } = await call("/sparql", { method: "POST", headers: { ...auth(), "Content-Type": "application/sparql-update", Accept: "text/plain" },
                                                   body: state.pending.map((p) => p.update).join(" ;\n") });
      state.lastChange = response.headers.get("KG-Change") || "";
      status($("wb-applied"), "Applied change " + state.lastChange + ": " + response.headers.get("KG-Triples-Added") + " triples added.");
      state.pending = []; $("wb-undo").disabled = !state.lastChange;
      await renderPending();
    } catch (e) { status($("wb-applied"), e.message, true); }
  }

  async function undo() {
    const id = state.lastChange.split("/").pop();
    try {
      await call("/history/" + encodeURIComponent(id) + "/undo", { method: "POST", headers: { ...auth(), Accept: "text/plain" } });
      status($("wb-applied"), "Undone: " + state.lastChange + ".");
      $("wb-undo").disabled = true;
    } catch (e) { status($("wb-applied"), e.message, true); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("wb-suggest").addEventListener("click", suggest);
    $("wb-store").addEventListener("click", store);
    $("wb-add").addEventListener("click", addFact);
    $("wb-apply").addEventListener("click", apply);
    $("wb-undo").addEventListener("click", undo);
    $("wb-find").addEventListener("click", findExisting);
    document.addEventListener("selectionchange", onSelect);
    const f = $("wb-fact-form").elements;
    offer(f["subject-label"], $("wb-subject-options"));
    offer(f["object-label"], $("wb-object-options"));
    offer($("wb-find-form").elements.place, $("wb-place-options"), "Place");
    f["subject-label"].addEventListener("change", subjectChanged);
    f.property.addEventListener("change", propertyChosen);
  });
})();
