/* Kontakte's one app script: what htmx cannot do declaratively under a strict CSP. */
(function () {
  'use strict';

  function meta(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.getAttribute('content') : '';
  }

  // A date field sends a date at every key while its year is typed (0002-…, 0020-…, 0202-…): the
  // list waits for a whole year instead of showing an error at each key. Only the date's own change
  // waits: searching or "Filter anwenden" still go, and a year left unfinished is then told as invalid.
  document.addEventListener('htmx:confirm', function (event) {
    var form = event.detail.elt;
    var field = event.detail.triggeringEvent && event.detail.triggeringEvent.target;
    if (!form || form.id !== 'contact-filter' || !field || field.type !== 'date') return;
    if (/^0/.test(field.value)) event.preventDefault();
  });

  // "nur direkte Zuweisung" means something only with an employee chosen: enabled with one, cleared without.
  // Caught on the way down, before the filter form sends the change: heard after it, the box was still
  // ticked in the search sent, stayed ticked (greyed) and came back with the next employee chosen.
  document.addEventListener('change', function (event) {
    if (event.target.id !== 'flt-assigned') return;
    var direct = document.getElementById('flt-assigned_direct');
    if (!direct) return;
    direct.disabled = !event.target.value;
    if (!event.target.value) direct.checked = false;
  }, true);

  // Every htmx request carries the CSRF token from the page, and whose page it is (src/web/error-handler.ts).
  document.addEventListener('htmx:configRequest', function (event) {
    event.detail.headers['X-CSRF-Token'] = meta('csrf-token');
    var user = sessionData('user');
    if (user) event.detail.headers['X-Page-User'] = user;
    if (event.detail.verb === 'get' && event.detail.elt && event.detail.elt.id === 'contact-filter') leaveOutDefaults(event.detail.formData);
  });

  // The filter form's live requests leave out empty fields and the default statuses (the server's
  // default too; not inside a group, which shows every status unless told): the address that is
  // pushed stays short, and a link to it reads as what the clerk chose.
  function leaveOutDefaults(data) {
    var names = [];
    data.forEach(function (value, name) { if (names.indexOf(name) < 0) names.push(name); });
    names.forEach(function (name) {
      if (data.getAll(name).every(function (value) { return value === ''; })) data.delete(name);
    });
    var statuses = data.getAll('status');
    if (!data.has('group') && statuses.length === 2 && statuses.indexOf('prospect') >= 0 && statuses.indexOf('customer') >= 0) data.delete('status');
    if (data.get('sort') === 'name') data.delete('sort');
  }

  // The message shown in place of any other; with `link` ({ href, text }) a link after the text, opened in a new tab.
  function showMessage(text, kind, link) {
    var box = document.getElementById('messages');
    if (!box || !text) return null;
    var p = document.createElement('p');
    p.className = 'message message-' + (kind || 'success');
    p.textContent = text;
    if (link) {
      var a = document.createElement('a');
      a.href = link.href;
      a.target = '_blank';
      a.rel = 'noopener';
      a.textContent = link.text;
      p.append(' ', a);
    }
    // Focusable by script (see openDialogs), not by Tab.
    p.tabIndex = -1;
    box.replaceChildren(p);
    return p;
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

  // What had the cursor outside any dialog: where it returns when a dialog closes (a dialog sent back
  // with messages replaces the one that was open, whose button had the focus then).
  var focusOutside = null;
  document.addEventListener('focusin', function (event) {
    if (!event.target.closest || !event.target.closest('dialog')) focusOutside = event.target;
  });

  // Dialogs arrive as fragments: open them modally, and remove them once closed.
  function openDialogs(root) {
    var dialogs = root.matches && root.matches('dialog[data-modal]') ? [root] : root.querySelectorAll('dialog[data-modal]');
    Array.prototype.forEach.call(dialogs, function (dialog) {
      // Closed, the cursor goes back to what opened it (the "Erstellen" button, say), not to the page's start.
      var opener = document.activeElement && !document.activeElement.closest('dialog') && document.activeElement !== document.body ? document.activeElement : focusOutside;
      // Set by an Esc the browser would not let us hold back: where the cursor was, to show the dialog again there.
      var keep = null;
      if (!dialog.open) dialog.showModal();
      dialog.addEventListener('close', function () {
        if (keep) {
          var field = keep;
          keep = null;
          dialog.showModal();
          if (field.isConnected && typeof field.focus === 'function') field.focus();
          return;
        }
        dialog.remove();
        // Done (saved, archived …): the cursor goes to the message saying so. Back on "Erstellen", a second
        // Enter pressed to be sure opened a new, empty dialog, which looked as if the first had not saved.
        var said = dialog.hasAttribute('data-done') && document.querySelector('#messages .message');
        if (said) said.focus();
        else if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      });
      dialog.addEventListener('input', function () { dialog.setAttribute('data-typed', ''); });
      dialog.addEventListener('cancel', function (event) {
        // A background job's progress stays until it is done: closed by Esc, its result (and the reload of
        // the list it changed) would never come. Esc does not throw away what was typed without asking
        // (a form sent back with messages holds it too).
        var running = dialog.querySelector('.job-progress[hx-trigger]');
        var typed = dialog.hasAttribute('data-typed') || dialog.querySelector('[aria-invalid="true"]');
        if (!running && !typed) return;
        // Chromium lets a page hold back an Esc only once per user action: a repeated one cannot be
        // refused, so the dialog is opened again as it closes instead of asking in vain.
        if (!event.cancelable) {
          keep = document.activeElement || dialog;
          return;
        }
        var box = document.getElementById('messages');
        if (running || !box || !window.confirm(box.getAttribute('data-discard'))) event.preventDefault();
      });
    });
  }
  document.addEventListener('htmx:load', function (event) {
    openDialogs(event.target);
    focusFirstInvalid(event.target);
  });

  // Paging and "Ältere …" replace the very link that was pressed: by keyboard, the cursor fell back to the
  // page's start (over 100 Tabs back to "Weiter"). It goes to the same link of the new pager (the page
  // itself still shows from its top), or to the first of the entries just loaded.
  var refocus = null;
  document.addEventListener('htmx:beforeRequest', function (event) {
    var elt = event.detail.elt;
    if (!elt || elt !== document.activeElement || !elt.closest) return;
    var more = elt.closest('li.more');
    var pager = !more && elt.closest('.pager');
    if (more) refocus = { elt: elt, after: more.previousElementSibling, list: more.parentElement };
    else if (pager) refocus = { elt: elt, rel: elt.getAttribute('rel'), text: elt.textContent.trim() };
  });
  document.addEventListener('htmx:afterSettle', function (event) {
    var want = refocus;
    if (!want || !event.detail.requestConfig || event.detail.requestConfig.elt !== want.elt) return;
    refocus = null;
    var target;
    if (want.list) {
      var first = want.after && want.after.isConnected ? want.after.nextElementSibling : want.list.firstElementChild;
      // An entry without a link (most history entries) takes the cursor itself.
      target = first && first.querySelector('a, button');
      if (first && !target) {
        if (!first.hasAttribute('tabindex')) first.setAttribute('tabindex', '-1');
        target = first;
      }
    } else {
      var links = Array.prototype.slice.call(document.querySelectorAll('#results .pager a'));
      target = links.filter(function (link) { return want.rel ? link.getAttribute('rel') === want.rel : link.textContent.trim() === want.text; })[0] || links[0];
    }
    if (target) target.focus({ preventScroll: !want.list });
  });

  // A form answered with messages (422) puts the cursor in the first field to mend, not the first field.
  function focusFirstInvalid(root) {
    var field = root.querySelector && root.querySelector('[aria-invalid="true"]');
    if (field && typeof field.focus === 'function') field.focus();
  }

  // A hint hidden until its event happens (the start page, once older activities are paged in: there is something new).
  document.addEventListener('notificationsArrived', function () {
    Array.prototype.forEach.call(document.querySelectorAll('[data-reveal-on~="notificationsArrived"]'), function (hint) { hint.hidden = false; });
  });

  // Selection checkboxes: the header box ticks the page; the server keeps the selection
  // (POST /contacts/selection) and says with selectionChanged when it changed them all.
  function setRowBoxes(checked) {
    Array.prototype.forEach.call(document.querySelectorAll('.row-select, .page-select'), function (box) { box.checked = checked; });
  }
  document.addEventListener('selectionChanged', function (event) {
    // Refused past the limit: only the boxes just changed go back.
    var back = event.detail.unticked || event.detail.reticked;
    if (back) {
      back.forEach(function (id) {
        var box = document.querySelector('.row-select[value="' + id + '"]');
        if (box) box.checked = Boolean(event.detail.reticked);
      });
      var header = document.querySelector('.page-select');
      if (header) header.checked = Array.prototype.every.call(document.querySelectorAll('.row-select'), function (row) { return row.checked; });
      return;
    }
    setRowBoxes(Boolean(event.detail.checked));
  });
  document.addEventListener('change', function (event) {
    var box = event.target;
    if (box.classList.contains('page-select')) {
      Array.prototype.forEach.call(document.querySelectorAll('.row-select'), function (row) { row.checked = box.checked; });
    } else if (box.classList.contains('row-select')) {
      var header = document.querySelector('.page-select');
      if (header) header.checked = Array.prototype.every.call(document.querySelectorAll('.row-select'), function (row) { return row.checked; });
    }
  });

  // The search box, PLZ and Ort search while typing (their input event, class live-filter). Leaving one fires
  // change as well, which searched again and redrew the list under the very click that left it: a
  // row's checkbox was ticked on the server while its box on screen was replaced by an unticked one.
  document.addEventListener('change', function (event) {
    if (event.target.matches && event.target.matches('#contact-filter .live-filter')) event.stopPropagation();
  }, true);

  // Picking employees or a competence chooses that kind of assignment: saved with "Alle" still
  // marked, the choice was silently dropped.
  document.addEventListener('change', function (event) {
    var field = event.target;
    var kind = field.name === 'assignee_ids' ? 'users' : field.name === 'competence_id' && field.value ? 'competence' : '';
    var fieldset = kind && field.closest('fieldset.assignment');
    var radio = fieldset && fieldset.querySelector('input[type=radio][name=assignment][value=' + kind + ']');
    if (radio && !radio.checked) radio.checked = true;
  });

  // Each search or filter is a step of its own for the Back button (SPEC §1), typing one word included:
  // a choice (a status ticked, a select, "Suchen") is pushed; typing pushes its first request and replaces
  // the address while the clerk goes on typing in the same box, so "m", "mu", "mue" are not three steps.
  // The list redrawn after a bulk action, or asked again as it is, changes no step.
  var typingIn = null;
  document.addEventListener('htmx:beforeHistoryUpdate', function (event) {
    var config = event.detail.requestConfig;
    if (!config || !config.elt || config.elt.id !== 'contact-filter') return;
    var cause = config.triggeringEvent;
    var field = cause && cause.type === 'input' ? cause.target : null;
    var unchanged = event.detail.history.path === window.location.pathname + window.location.search;
    var goingOn = field !== null && field === typingIn;
    if (!(cause && cause.type === 'listChanged')) typingIn = field;
    event.detail.history.type = unchanged || goingOn || (cause && cause.type === 'listChanged') ? 'replace' : 'push';
  });

  // "Zurück zur Liste" returns to the list as the clerk left it (search, filters, group, page):
  // this tab remembers the list's address whenever it shows one.
  function rememberList() {
    if (!document.getElementById('contact-filter')) return;
    try { sessionStorage.setItem('kontakte.list', window.location.pathname + window.location.search); } catch (e) { /* storage off: the plain link */ }
  }
  document.addEventListener('DOMContentLoaded', rememberList);
  document.addEventListener('htmx:pushedIntoHistory', rememberList);
  document.addEventListener('htmx:replacedInHistory', rememberList);
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[data-back-to-list]');
    if (!link) return;
    var saved = null;
    try { saved = sessionStorage.getItem('kontakte.list'); } catch (e) { /* the plain link */ }
    if (saved && saved.split('?')[0] === link.pathname) link.href = saved;
  });
  // Deleting the contact leads back to that list too (the server takes only an address of the list).
  document.addEventListener('submit', function (event) {
    var field = event.target.querySelector && event.target.querySelector('input[data-list-address]');
    if (!field) return;
    try { field.value = sessionStorage.getItem('kontakte.list') || ''; } catch (e) { /* the plain list */ }
  }, true);

  // The master data page has several forms (Stammdaten, Zuweisung, Notiz) and the status dialog
  // reloads the page: what was typed into one and not saved was lost without a word. Leaving the
  // page with such changes now lets the browser ask first; saving the form itself does not.
  var unsaved = [];
  // The forms with changes still on the page (one sent back may have been replaced since).
  function pendingForms() {
    unsaved = unsaved.filter(function (form) { return form.isConnected; });
    return unsaved;
  }
  function markUnsaved(event) {
    var form = event.target.form;
    if (form && form.hasAttribute('data-warn-unsaved') && unsaved.indexOf(form) < 0) unsaved.push(form);
  }
  document.addEventListener('DOMContentLoaded', function () {
    // A page answering a form whose address must not stay in the address bar (see pictureFormUrl).
    var replaceUrl = document.body.getAttribute('data-replace-url');
    if (replaceUrl) history.replaceState(history.state, '', replaceUrl);
    // A form sent back with messages or a conflict still holds what was typed.
    Array.prototype.forEach.call(document.querySelectorAll('form[data-warn-unsaved][data-unsaved]'), function (form) { unsaved.push(form); });
  });
  document.addEventListener('input', markUnsaved);
  document.addEventListener('change', markUnsaved);
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!event.defaultPrevented && needsSessionCheck(form)) {
      event.preventDefault();
      sendIfLoggedIn(form, event.submitter);
      return;
    }
    form.removeAttribute('data-session-checked');
    // A plain form sent twice by a double click: the second would meet the first's new version (a conflict).
    if (form.hasAttribute('data-submit-once')) {
      if (form.hasAttribute('data-submitting')) { event.preventDefault(); return; }
      form.setAttribute('data-submitting', '');
      // A sending stopped (Esc, the browser's stop button) leaves the page as it was: it may be sent again.
      setTimeout(function () { form.removeAttribute('data-submitting'); }, 4000);
    }
    unsaved = unsaved.filter(function (other) { return other !== form; });
    var dialog = !event.defaultPrevented && form.closest && form.closest('dialog');
    if (dialog) dialog.setAttribute('data-sent', '');
  });
  // Back to a page kept by the browser: its forms may be sent again.
  window.addEventListener('pageshow', function () {
    Array.prototype.forEach.call(document.querySelectorAll('form[data-submitting]'), function (form) { form.removeAttribute('data-submitting'); });
  });
  // A dialog holding what was typed (the same test as Esc's) asks too: F5 or Back threw away a contact typed
  // into "Kontakt erstellen" without a word. One being sent does not: as a plain form it leaves the page, and
  // through htmx its answer may do so ("Neue Gruppe" goes to the new group). An answer with messages is a new
  // dialog; one that fails leaves this one, which asks again.
  function sendingDialog(event, sent) {
    var elt = event.detail && event.detail.elt;
    var dialog = elt && elt.closest && elt.closest('dialog');
    if (!dialog) return;
    if (sent) dialog.setAttribute('data-sent', '');
    else dialog.removeAttribute('data-sent');
  }
  document.addEventListener('htmx:beforeRequest', function (event) {
    if (event.detail.requestConfig && event.detail.requestConfig.verb !== 'get') sendingDialog(event, true);
  });
  ['htmx:responseError', 'htmx:sendError', 'htmx:sendAbort', 'htmx:timeout'].forEach(function (name) {
    document.addEventListener(name, function (event) { sendingDialog(event, false); });
  });
  function typedDialog() {
    return Array.prototype.some.call(document.querySelectorAll('dialog[open]'), function (dialog) {
      return !dialog.hasAttribute('data-sent') && (dialog.hasAttribute('data-typed') || dialog.querySelector('[aria-invalid="true"]'));
    });
  }
  window.addEventListener('beforeunload', function (event) {
    if (!pendingForms().length && !typedDialog()) return;
    event.preventDefault();
    event.returnValue = '';
  });

  // A session that ended (30 idle minutes, logged out elsewhere) while the page was open. Sent to it, a plain
  // form was answered by the login page and an htmx one by a jump there: either way what the clerk had typed
  // was gone. Now the page stays as it is, says so, and offers the login in a new tab; back in this tab, it
  // takes the new session's token, and the form is simply sent again.
  var sessionEnded = false;

  function sessionData(name) {
    var box = document.getElementById('messages');
    return box ? box.getAttribute('data-session' + (name ? '-' + name : '')) : null;
  }

  // The session's token into the page: the header htmx sends, the forms' fields, the picture upload's address.
  function setToken(token) {
    if (!token) return;
    var element = document.querySelector('meta[name="csrf-token"]');
    if (element) element.setAttribute('content', token);
    Array.prototype.forEach.call(document.querySelectorAll('input[name="_csrf"]'), function (input) { input.value = token; });
    Array.prototype.forEach.call(document.querySelectorAll('form[action*="_csrf="]'), function (form) {
      var address = new URL(form.getAttribute('action'), window.location.href);
      address.searchParams.set('_csrf', token);
      form.setAttribute('action', address.pathname + address.search);
    });
  }

  // Brought into view with the cursor on it when a form was just sent; told quietly by a poll while typing.
  var sessionMessage = null;
  function showSessionEnded(sent) {
    if (!sessionData('ended')) return;
    sessionEnded = true;
    // Said once: each poll while logged out would put it anew, taking the cursor from it (or its link).
    if (!sessionMessage || !sessionMessage.isConnected) {
      sessionMessage = showMessage(sessionData('ended'), 'error', { href: sessionData('login-url'), text: sessionData('login') });
    }
    if (sent && sessionMessage) sessionMessage.focus();
  }

  // Whether this browser is logged in, with its token (null: no answer, the form goes as it would have).
  function askSession(done) {
    var address = sessionData();
    if (!address || !window.fetch) return done(null);
    fetch(address, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(done, function () { done(null); });
  }

  function needsSessionCheck(form) {
    return form.method === 'post' && Boolean(sessionData()) && !form.hasAttribute('data-session-free') && !form.hasAttribute('data-session-checked');
  }

  // A plain form goes only to a live session, with its token. One question at a time: a second click waits.
  function sendIfLoggedIn(form, submitter) {
    if (form.hasAttribute('data-session-checking')) return;
    form.setAttribute('data-session-checking', '');
    askSession(function (session) {
      form.removeAttribute('data-session-checking');
      if (session && !session.loggedIn) return showSessionEnded(true);
      if (session && session.userId !== sessionData('user')) return showOtherUser(session.name);
      if (session) setToken(session.csrfToken);
      form.setAttribute('data-session-checked', '');
      if (form.requestSubmit) form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      else form.submit();
    });
  }

  // From the server (src/web/auth.ts) for an htmx request without a session: a form just sent, or any
  // form with changes, stays; a page with nothing to lose goes to the login, which comes back here.
  document.addEventListener('sessionEnded', function (event) {
    var detail = event.detail || {};
    if (detail.sent || pendingForms().length) showSessionEnded(detail.sent);
    else window.location.href = detail.loginUrl;
  });

  // Logged in again in the other tab: this one takes the new session's token when looked at again.
  var askingBack = false;
  function sessionBack() {
    if (!sessionEnded || askingBack || document.visibilityState === 'hidden') return;
    askingBack = true;
    askSession(function (session) {
      askingBack = false;
      if (!session || !session.loggedIn || !sessionEnded) return;
      if (session.userId !== sessionData('user')) return showOtherUser(session.name);
      sessionEnded = false;
      setToken(session.csrfToken);
      showMessage(sessionData('back'), 'success');
    });
  }
  window.addEventListener('focus', sessionBack);
  document.addEventListener('visibilitychange', sessionBack);

  // An htmx form refused for a token of an earlier session of the same employee gets the current one
  // (src/web/error-handler.ts); never one of another employee's session.
  document.addEventListener('htmx:afterRequest', function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.getResponseHeader('X-CSRF-User') === sessionData('user')) setToken(xhr.getResponseHeader('X-CSRF-Token'));
  });

  // Someone else logged in in this browser since the page was loaded: its forms must not go as theirs.
  function showOtherUser(name) {
    var text = sessionData('other');
    var message = text && showMessage(text.replace('{name}', name || '?'), 'error');
    if (message) message.focus();
  }

  // A successful dialog form answers with HX-Trigger: closeDialog.
  document.addEventListener('closeDialog', function () {
    Array.prototype.forEach.call(document.querySelectorAll('dialog[open]'), function (dialog) {
      dialog.setAttribute('data-done', '');
      dialog.close();
    });
  });

  // Group links in the sidebar keep the list's search and filters. Live searches change the
  // address (hx-replace-url) after the page was rendered, so the link is brought up to date on click.
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[data-group-link]');
    if (!link) return;
    var params = new URLSearchParams(window.location.search);
    ['group', 'after', 'before', 'last'].forEach(function (name) { params.delete(name); });
    if (link.getAttribute('data-group-link')) params.set('group', link.getAttribute('data-group-link'));
    var query = params.toString();
    link.href = link.pathname + (query ? '?' + query : '');
  });

  // Notification popups: closable, gone by themselves after 15 s, and mirrored as
  // browser notifications when the employee enabled them in the profile.
  document.addEventListener('htmx:oobAfterSwap', function (event) {
    var target = event.detail.target;
    if (!target || target.id !== 'popups') return;
    placePopups();
    Array.prototype.forEach.call(target.querySelectorAll('[data-popup]:not([data-seen])'), function (popup) {
      popup.setAttribute('data-seen', '');
      // Under an open dialog's backdrop a popup can be neither seen nor clicked: its 15 s start when the dialog closes.
      if (document.querySelector('dialog[open]')) popup.setAttribute('data-held', '');
      else fadeLater(popup);
      if (document.body.hasAttribute('data-browser-notifications') && window.Notification && Notification.permission === 'granted') {
        var text = popup.querySelector('.notification-text span');
        var note = new Notification(popup.getAttribute('data-title'), { body: text ? text.textContent.replace(/\s+/g, ' ').trim() : '', icon: popup.getAttribute('data-icon') || undefined });
        note.onclick = function () { window.focus(); var form = popup.querySelector('form'); if (form) form.submit(); };
      }
    });
  });

  function fadeLater(popup) {
    setTimeout(function () { popup.remove(); }, 15000);
  }
  // A dialog closed (close does not bubble: caught on its way down): popups held back meanwhile start their time.
  document.addEventListener('close', function () {
    if (document.querySelector('dialog[open]')) return;
    Array.prototype.forEach.call(document.querySelectorAll('[data-popup][data-held]'), function (popup) {
      popup.removeAttribute('data-held');
      fadeLater(popup);
    });
  }, true);

  // Popups sit bottom right, where the bar of actions for ticked contacts is: above it while it shows,
  // or a click meant for "Archivieren" or "Löschen" met a popup's "Öffnen".
  function placePopups() {
    var popups = document.getElementById('popups');
    if (!popups) return;
    var bar = document.getElementById('bulk-bar');
    popups.style.bottom = bar && !bar.hidden && bar.offsetHeight ? bar.offsetHeight + 16 + 'px' : '';
  }
  document.addEventListener('htmx:afterSettle', placePopups);
  window.addEventListener('resize', placePopups);

  // Turning browser notifications on asks the browser for permission right away.
  document.addEventListener('change', function (event) {
    var box = event.target;
    if (box.name === 'browser_notifications' && box.checked && window.Notification && Notification.permission === 'default') {
      Notification.requestPermission();
    }
  });

  document.addEventListener('click', function (event) {
    var dismiss = event.target.closest('[data-dismiss]');
    if (dismiss) {
      dismiss.closest('[data-popup]').remove();
      return;
    }
    var closer = event.target.closest('[data-close-dialog]');
    if (!closer) return;
    var dialog = closer.closest('dialog');
    if (dialog) {
      event.preventDefault();
      dialog.close();
    }
  });
})();
