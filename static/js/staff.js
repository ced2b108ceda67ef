/* Staff area, progressive enhancement only: every button here also works without this file
   (it submits the form and the server re-renders it).
   - Row buttons of the procedure editor (add, remove, move up/down) act in the page at once.
   - A file over the upload limit is refused before it is sent.
   - Leaving the editor with unsaved changes asks first. */
(function () {
  "use strict";
  var editor = document.querySelector("form[data-editor]");
  if (!editor) return;

  var ACTION = /^(add|remove|up|down):([a-z_]+)(?::(\d+))?$/;

  function renumber(container, group) {
    var rows = container.querySelectorAll(":scope > [data-row]");
    var prefix = new RegExp("^" + group + "-(\\d+|__i__)-");
    rows.forEach(function (row, i) {
      row.querySelectorAll("[name],[id],[for],[aria-describedby]").forEach(function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value && prefix.test(value)) el.setAttribute(attr, value.replace(prefix, group + "-" + i + "-"));
        });
      });
      row.querySelectorAll("button[name=action]").forEach(function (button) {
        button.value = button.value.replace(/:(\d+|__i__)$/, ":" + i);
      });
      var number = row.querySelector("[data-number]");
      if (number) number.textContent = String(i + 1);
    });
    // Case headings of the dossier are redrawn by the server on the next save.
  }

  function blankRow(group) {
    var template = document.getElementById("blank-" + group);
    return template.content.firstElementChild.cloneNode(true);
  }

  editor.addEventListener("click", function (event) {
    var button = event.target.closest("button[name=action]");
    if (!button) return;
    var match = ACTION.exec(button.value);
    if (!match) return;
    var verb = match[1], group = match[2], index = match[3];
    var container = editor.querySelector('.rows[data-group="' + group + '"]');
    if (!container || !document.getElementById("blank-" + group)) return;
    event.preventDefault();
    var rows = container.querySelectorAll(":scope > [data-row]");
    var row = index === undefined ? null : rows[Number(index)];
    var focus = null;
    if (verb === "add") {
      var fresh = blankRow(group);
      if (row) {
        var caseInput = row.querySelector('[name$="-group"]');
        var newCase = fresh.querySelector('[name$="-group"]');
        if (caseInput && newCase) newCase.value = caseInput.value;
        row.after(fresh);
      } else {
        container.appendChild(fresh);
      }
      focus = fresh;
    } else if (row && verb === "remove") {
      focus = row.nextElementSibling || row.previousElementSibling;
      row.remove();
    } else if (row && verb === "up" && row.previousElementSibling && row.previousElementSibling.matches("[data-row]")) {
      row.previousElementSibling.before(row);
      focus = row;
    } else if (row && verb === "down" && row.nextElementSibling) {
      row.nextElementSibling.after(row);
      focus = row;
    }
    renumber(container, group);
    dirty = true;
    if (focus && focus.matches && focus.matches("[data-row]")) {
      var first = focus.querySelector("input:not([type=hidden]),textarea,select");
      if (first) first.focus();
    }
  });

  editor.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type !== "file" || !input.files.length) return;
    var max = Number(input.getAttribute("data-max"));
    if (max && input.files[0].size > max) {
      alert(input.getAttribute("data-too-big"));
      input.value = "";
    }
  });

  var dirty = false;
  editor.addEventListener("input", function () { dirty = true; });
  editor.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
})();
