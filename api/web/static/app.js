/* Kinderflow pages: small enhancements on top of htmx. No inline scripts anywhere (CSP). */
(function () {
  "use strict";

  // The menu is a <details> on phones; on wider screens it is always open.
  var wide = window.matchMedia("(min-width: 800px)");
  function syncMenu() {
    document.querySelectorAll("details.menu").forEach(function (menu) {
      menu.open = wide.matches;
    });
  }
  wide.addEventListener("change", syncMenu);
  document.addEventListener("DOMContentLoaded", syncMenu);

  // Upload progress: htmx reports the bytes sent; the form's <progress> shows them.
  function progressOf(elt) {
    return elt && elt.querySelector ? elt.querySelector("progress.upload-progress") : null;
  }
  // A file over the server's limit is refused here, before minutes of uploading for nothing.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var form = e.detail.elt;
    var limit = form.dataset ? Number(form.dataset.maxBytes || 0) : 0;
    var input = limit ? form.querySelector("input[type=file]") : null;
    var file = input && input.files.length ? input.files[0] : null;
    if (file && file.size > limit) {
      e.preventDefault();
      var target = document.querySelector(form.dataset.errorTarget);
      if (target) {
        target.textContent = "文件过大：不能超过 " + Math.round(limit / 1048576) + " MB";
      }
    }
  });
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (e.defaultPrevented) {
      return;
    }
    var bar = progressOf(e.detail.elt);
    if (bar) {
      bar.value = 0;
      bar.hidden = false;
      e.detail.elt.classList.add("busy");
    }
  });
  document.addEventListener("htmx:xhr:progress", function (e) {
    var bar = progressOf(e.target);
    if (bar && e.detail.lengthComputable && e.detail.total > 0) {
      bar.value = Math.round((e.detail.loaded / e.detail.total) * 100);
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var bar = progressOf(e.detail.elt);
    if (bar) {
      bar.value = 100;
      e.detail.elt.classList.remove("busy");
    }
  });

  // A selector that picks what the page shows (the semester) reloads the page when changed; the form
  // is a plain GET form with its own button, so this only saves a click.
  document.addEventListener("change", function (e) {
    var select = e.target;
    if (select.matches && select.matches("select[data-autosubmit]") && select.form) {
      select.form.requestSubmit();
    }
  });

  // Teacher pickers: the filter narrows the names (and opens the kindergartens where some match); the
  // counts follow the ticks. Without script every kindergarten still folds open and every box works.
  function pickerCounts(picker) {
    var total = 0;
    picker.querySelectorAll(".picker-group").forEach(function (group) {
      var n = group.querySelectorAll("input[type=checkbox]:checked").length;
      total += n;
      var count = group.querySelector("[data-picker-count]");
      if (count) {
        count.textContent = String(n);
      }
    });
    var shown = picker.querySelector("[data-picker-total]");
    if (shown) {
      shown.textContent = String(total);
    }
  }
  document.addEventListener("change", function (e) {
    var picker = e.target.closest && e.target.closest("[data-picker]");
    if (picker && e.target.type === "checkbox") {
      pickerCounts(picker);
    }
  });
  document.addEventListener("input", function (e) {
    if (!(e.target.classList && e.target.classList.contains("picker-filter"))) {
      return;
    }
    var picker = e.target.closest("[data-picker]");
    var words = e.target.value.trim();
    picker.querySelectorAll(".picker-group").forEach(function (group) {
      var groupMatches = words !== "" && group.dataset.group.indexOf(words) >= 0;
      var any = false;
      group.querySelectorAll("li[data-name]").forEach(function (item) {
        var match = words === "" || groupMatches || item.dataset.name.indexOf(words) >= 0;
        item.hidden = !match;
        any = any || match;
      });
      group.hidden = !any && words !== "";
      if (words !== "") {
        group.open = any;
      }
    });
  });

  // Forms that end something ask first.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      e.preventDefault();
    }
  });

  // Dropping a file on a drop zone puts it in the zone's file input.
  document.addEventListener("dragover", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (zone) {
      e.preventDefault();
      zone.classList.add("dragging");
    }
  });
  document.addEventListener("dragleave", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (zone) {
      zone.classList.remove("dragging");
    }
  });
  document.addEventListener("drop", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (zone && e.dataTransfer && e.dataTransfer.files.length) {
      e.preventDefault();
      zone.classList.remove("dragging");
      zone.querySelector("input[type=file]").files = e.dataTransfer.files;
    }
  });

  // Bulk actions on the review queue: one request per selected row, with a progress bar.
  function bulkSetup() {
    var box = document.getElementById("bulk");
    if (!box) {
      return;
    }
    var button = document.getElementById("bulk-run");
    var count = document.getElementById("bulk-count");
    var bar = document.getElementById("bulk-progress");
    var status = document.getElementById("bulk-status");
    function picked() {
      return Array.prototype.slice.call(document.querySelectorAll("input.bulk-pick:checked"));
    }
    document.addEventListener("change", function (e) {
      if (e.target.classList && e.target.classList.contains("bulk-pick")) {
        count.textContent = String(picked().length);
        button.disabled = picked().length === 0;
      }
    });
    button.addEventListener("click", async function () {
      var rows = picked();
      var done = 0;
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      for (var i = 0; i < rows.length; i++) {
        var id = rows[i].value;
        var row = document.getElementById("row-" + id);
        status.textContent = "正在处理第 " + (i + 1) + " / " + rows.length + " 件…";
        await htmx.ajax("POST", box.dataset.bulkUrl.replace("{id}", id), {
          source: rows[i],
          target: "#row-" + id,
          swap: "outerHTML",
          values: { version: row.dataset.version },
        });
        done += 1;
        bar.value = Math.round((done / rows.length) * 100);
      }
      status.textContent = "已处理 " + done + " 件";
      count.textContent = "0";
    });
  }
  document.addEventListener("DOMContentLoaded", bulkSetup);
})();
