/* Kontakte's one app script: what htmx cannot do declaratively under a strict CSP. */
(function () {
  'use strict';

  function meta(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.getAttribute('content') : '';
  }

  // Every htmx request carries the CSRF token from the page.
  document.addEventListener('htmx:configRequest', function (event) {
    event.detail.headers['X-CSRF-Token'] = meta('csrf-token');
  });

  function showMessage(text, kind) {
    var box = document.getElementById('messages');
    if (!box || !text) return;
    var p = document.createElement('p');
    p.className = 'message message-' + (kind || 'success');
    p.textContent = text;
    box.replaceChildren(p);
  }

  // Servers send {"showMessage": {"text": …, "kind": …}} in HX-Trigger.
  document.addEventListener('showMessage', function (event) {
    showMessage(event.detail.text, event.detail.kind);
  });

  // No answer at all (server down, network gone): say so instead of doing nothing.
  document.addEventListener('htmx:sendError', function () {
    var box = document.getElementById('messages');
    showMessage(box ? box.getAttribute('data-offline') : '', 'error');
  });

  // Dialogs arrive as fragments: open them modally, and remove them once closed.
  function openDialogs(root) {
    var dialogs = root.matches && root.matches('dialog[data-modal]') ? [root] : root.querySelectorAll('dialog[data-modal]');
    Array.prototype.forEach.call(dialogs, function (dialog) {
      if (!dialog.open) dialog.showModal();
      dialog.addEventListener('close', function () { dialog.remove(); }, { once: true });
    });
  }
  document.addEventListener('htmx:load', function (event) { openDialogs(event.target); });

  // A successful dialog form answers with HX-Trigger: closeDialog.
  document.addEventListener('closeDialog', function () {
    Array.prototype.forEach.call(document.querySelectorAll('dialog[open]'), function (dialog) { dialog.close(); });
  });

  document.addEventListener('click', function (event) {
    var closer = event.target.closest('[data-close-dialog]');
    if (!closer) return;
    var dialog = closer.closest('dialog');
    if (dialog) {
      event.preventDefault();
      dialog.close();
    }
  });
})();
