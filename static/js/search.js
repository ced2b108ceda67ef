/* Progressive enhancement of search: suggestions as you type under every search box, and the
   sort menu that applies itself. Without JavaScript the forms work as plain GET forms. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");
  var DELAY = 150;
  var MIN_LENGTH = 2;
  var counter = 0;

  function setup(form) {
    var input = form.querySelector("input[type=search]");
    var url = form.getAttribute("data-suggest");
    if (!input || !url || !window.fetch) return;
    var list = document.createElement("ul");
    var listId = "suggestions-" + (++counter);
    var timer = null;
    var controller = null;
    var active = -1;

    list.id = listId;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    form.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-expanded", "false");

    function options() { return list.querySelectorAll("[role=option]"); }

    function close() {
      list.hidden = true;
      list.innerHTML = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function choose(index) {
      var items = options();
      if (!items.length) return;
      active = (index + items.length) % items.length;
      for (var i = 0; i < items.length; i++) {
        items[i].setAttribute("aria-selected", i === active ? "true" : "false");
      }
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function show(data) {
      close();
      if (!data.suggestions || !data.suggestions.length) return;
      data.suggestions.forEach(function (item, i) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        var code = document.createElement("span");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        a.href = item.url;
        a.tabIndex = -1;
        a.innerHTML = item.highlight; /* escaped by the server; only <mark> is markup */
        code.className = "code";
        code.textContent = item.code;
        a.appendChild(code);
        li.appendChild(a);
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function fetchSuggestions() {
      var text = input.value;
      if (text.trim().length < MIN_LENGTH) { close(); return; }
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(text), {
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) { if (data.query === input.value) show(data); })
        .catch(function () { /* offline or aborted: the form still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DELAY);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); choose(active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); choose(active - 1); }
      else if (event.key === "Escape") { close(); }
      else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        window.location.href = options()[active].querySelector("a").href;
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 200); });
  }

  function autoSort(form) {
    var select = form.querySelector("select");
    if (select) select.addEventListener("change", function () { form.submit(); });
  }

  document.querySelectorAll("form[data-suggest]").forEach(setup);
  document.querySelectorAll("form.sort-form").forEach(autoSort);
})();
