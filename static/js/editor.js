/* Procedure editor, progressive enhancement only (the server does all of this on save):
   - each row's legend follows what is typed in it ("Bước 2: Nộp hồ sơ…", "Trực tiếp — 15 ngày
     làm việc"), and after rows are added, moved or removed (static/js/staff.js);
   - the related-procedure field offers "code — name" of the procedures whose names match what
     is typed, from the suggest API (the catalogue is too large to list in the page);
   - with "one fee for all channels" on, the other channels show the first one's fee. */
(function () {
  "use strict";
  var editor = document.querySelector("form[data-editor]");
  if (!editor) return;
  var LENGTH = 70;
  var DASH = " — ";

  function shorten(text) {
    text = (text || "").replace(/\s+/g, " ").trim();
    if (text.length <= LENGTH) return text;
    var cut = text.lastIndexOf(" ", LENGTH);
    return text.slice(0, cut > 0 ? cut : LENGTH).replace(/[ ,;:.]+$/, "") + "…";
  }

  function field(row, name) {
    return row.querySelector('[name$="-' + name + '"]');
  }

  function value(row, name) {
    var input = field(row, name);
    return input ? shorten(input.value) : "";
  }

  function chosen(row, name) {
    var select = field(row, name);
    return select && select.value ? select.options[select.selectedIndex].text : "";
  }

  function joined(parts) {
    return parts.filter(Boolean).join(DASH);
  }

  var SUMMARIES = {
    steps: function (row) { return value(row, "text"); },
    agencies: function (row) {
      var name = chosen(row, "agency") || value(row, "name");
      return name ? chosen(row, "role") + ": " + name : "";
    },
    channels: function (row) {
      var number = value(row, "time_limit_value");
      var limit = number ? (number + " " + chosen(row, "time_limit_unit")).trim() : "";
      return joined([chosen(row, "kind"), limit || value(row, "time_limit_text")]);
    },
    dossier: function (row) { return value(row, "name") || value(row, "template_name"); },
    results: function (row) {
      var code = value(row, "code"), name = value(row, "name");
      return name && code ? name + " (" + code + ")" : name || code;
    },
    legal_bases: function (row) { return joined([value(row, "number"), value(row, "title")]); },
    related: function (row) { return value(row, "code"); }
  };

  function relabel(row, group, index) {
    var legend = row.querySelector("[data-legend]");
    var summary = SUMMARIES[group] ? SUMMARIES[group](row) : "";
    var head = legend.getAttribute(summary ? "data-head-filled" : "data-head-empty");
    legend.textContent = "";
    if (head) {
      legend.append(head + " ");
      var number = document.createElement("span");
      number.setAttribute("data-number", "");
      number.textContent = String(index + 1);
      legend.append(number, summary ? ": " : "");
    }
    legend.append(summary);
  }

  function relabelGroup(container) {
    var group = container.getAttribute("data-group");
    container.querySelectorAll(":scope > [data-row]").forEach(function (row, i) {
      relabel(row, group, i);
    });
  }

  editor.addEventListener("input", function (event) {
    var row = event.target.closest("[data-row]");
    var container = row && row.parentElement;
    if (!container || !container.matches(".rows[data-group]")) return;
    var rows = Array.prototype.slice.call(container.querySelectorAll(":scope > [data-row]"));
    relabel(row, container.getAttribute("data-group"), rows.indexOf(row));
  });
  // Runs after staff.js has added, moved or removed the row in the page.
  editor.addEventListener("click", function (event) {
    var button = event.target.closest("button[name=action]");
    var match = button && /^(?:add|remove|up|down):([a-z_]+)/.exec(button.value);
    var container = match && editor.querySelector('.rows[data-group="' + match[1] + '"]');
    if (container) relabelGroup(container);
  });

  // --- related procedures by name -----------------------------------------------------------
  var choices = document.getElementById("related-choices");
  var pending = null;
  editor.addEventListener("input", function (event) {
    var input = event.target;
    if (!choices || input.getAttribute("list") !== "related-choices") return;
    var text = input.value.trim();
    clearTimeout(pending);
    if (text.length < 2 || text.indexOf(DASH) > 0) return;
    pending = setTimeout(function () {
      fetch(choices.getAttribute("data-suggest") + "?q=" + encodeURIComponent(text), {
        headers: { Accept: "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (answer) {
          choices.textContent = "";
          answer.suggestions.forEach(function (s) {
            var option = document.createElement("option");
            option.value = s.code + DASH + s.name;
            choices.appendChild(option);
          });
        })
        .catch(function () { /* typing the code still works */ });
    }, 200);
  });

  // --- one fee for all channels ------------------------------------------------------------
  var sameFee = document.getElementById("same_fee");
  var channels = editor.querySelector('.rows[data-group="channels"]');

  function shareFee() {
    if (!sameFee || !channels) return;
    var rows = channels.querySelectorAll(":scope > [data-row]");
    ["fee_text", "fee_amount"].forEach(function (name) {
      var first = rows.length ? field(rows[0], name) : null;
      Array.prototype.slice.call(rows, 1).forEach(function (row) {
        var input = field(row, name);
        if (!input || !first) return;
        input.readOnly = sameFee.checked;
        if (sameFee.checked) input.value = first.value;
      });
    });
  }

  if (sameFee && channels) {
    sameFee.addEventListener("change", shareFee);
    channels.addEventListener("input", function (event) {
      var first = channels.querySelector(":scope > [data-row]");
      if (first && first.contains(event.target)) shareFee();
    });
    editor.addEventListener("click", function (event) {
      if (event.target.closest('button[value$=":channels"], button[value*=":channels:"]')) shareFee();
    });
    shareFee();
  }
})();
