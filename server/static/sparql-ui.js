// The query UI: YASGUI (served from our own host) preset to this endpoint, our prefixes and
// the competency questions. Without JavaScript, or if YASGUI failed to load, the plain form
// and the example links (which run their query directly) keep working.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("kg-config").textContent);
  var Yasgui = window.Yasgui;
  if (!Yasgui) { return; }  // fallback: the plain form stays visible
  var endpoint = new URL(config.endpoint, window.location.href).href;

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
    populateFromUrl: false,
    persistenceId: "kg-sparql",
  });
  document.getElementById("plain-form").classList.add("kg-hidden");
  window.kgYasgui = yasgui;

  // A tab restored from an earlier visit may point elsewhere; this page queries this endpoint.
  var current = yasgui.getTab();
  if (current && current.getEndpoint() !== endpoint) { current.setEndpoint(endpoint); }

  function openExample(example) {
    var tab = yasgui.tabNameTaken(example.name) || yasgui.addTab(true, { name: example.name });
    yasgui.selectTabId(tab.getId());
    tab.setEndpoint(endpoint);
    tab.setQuery(example.query);
    tab.getYasqe().query();
    document.getElementById("yasgui").scrollIntoView();
  }

  Array.prototype.forEach.call(document.querySelectorAll("a.example"), function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      openExample(config.examples[Number(link.dataset.index)]);
    });
  });
})();
