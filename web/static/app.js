// Small enhancements; every page works without them. "/" jumps to the question box.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var box = document.getElementById("q");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });

  // Date presets: typing a date means "custom dates"; choosing a preset or "any time" empties the boxes,
  // since the server computes a preset's day itself. Without script the server reads whatever is sent.
  var since = document.getElementById("since");
  var until = document.getElementById("until");
  var presets = document.querySelectorAll("input[name=when]");
  function custom() {
    presets.forEach(function (radio) { radio.checked = radio.value === "custom"; });
  }
  [since, until].forEach(function (box) {
    if (box) { box.addEventListener("input", custom); }
  });
  presets.forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (radio.checked && radio.value !== "custom") {
        if (since) { since.value = ""; }
        if (until) { until.value = ""; }
      } else if (radio.checked && since) {
        since.focus();
      }
    });
  });

  // A long list of outlets or places gets a filter box: typing narrows its checkboxes by name (ticked ones
  // stay shown).
  document.querySelectorAll("input.facet-filter").forEach(function (filter) {
    filter.hidden = false;
    var items = filter.parentElement.querySelectorAll(".facet-list li");
    filter.addEventListener("input", function () {
      var wanted = filter.value.trim().toLowerCase();
      items.forEach(function (item) {
        var box = item.querySelector("input");
        var name = item.querySelector(".name").textContent.toLowerCase();
        item.hidden = !(box.checked || name.indexOf(wanted) !== -1);
      });
    });
    // Enter in the filter box would submit the search; here it only filters.
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
    });
  });

  // The address a search gets holds only what the reader chose: blank boxes and a field left at its default
  // (data-defaults on the form) are not sent, so the address stays short enough to read and share.
  var ask = document.querySelector("form.ask");
  var defaults = ask ? JSON.parse(ask.dataset.defaults || "{}") : {};
  if (ask) {
    ask.addEventListener("formdata", function (event) {
      var sent = {};
      var order = [];
      event.formData.forEach(function (value, name) {
        if (!sent[name]) { sent[name] = []; order.push(name); }
        if (value !== "") { sent[name].push(value); }
      });
      order.forEach(function (name) { event.formData.delete(name); });
      order.forEach(function (name) {
        var values = sent[name];
        if (values.length === 1 && defaults[name] === values[0]) { return; }
        values.forEach(function (value) { event.formData.append(name, value); });
      });
    });
  }

  // Back to a page the browser kept: its form shows what the reader last clicked, not what the page
  // answers; reset it to the choices its address holds, or the next search would silently use the others.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && ask) { ask.reset(); }
  });
})();
