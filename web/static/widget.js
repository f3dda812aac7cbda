/* vibeshelf chat widget: one <script> tag, no dependencies, renders inside a Shadow DOM.
 *
 *   <script src="https://HOST/widget.js" data-vibeshelf-key="SITE_KEY" async></script>
 *
 * Optional attributes: data-vibeshelf-open="true" (start open), data-vibeshelf-title="…".
 * Safety: every piece of model or catalog text is inserted with textContent; links are http(s) only.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__vibeshelfLoaded) return;
  window.__vibeshelfLoaded = true;

  var API = new URL(script.src, document.baseURI).origin;
  var KEY = script.getAttribute("data-vibeshelf-key") || "";
  var TITLE = script.getAttribute("data-vibeshelf-title") || "Find your next book";
  var START_OPEN = script.getAttribute("data-vibeshelf-open") === "true";
  var STARTERS = [
    "Something cozy and melancholic for a rainy weekend",
    "Like The Hunger Games but not young adult",
    "A highly rated classic from before 1950",
    "Less well known science fiction",
  ];
  var MAX_RETRIES = 2;

  var CSS = [
    ":host{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;",
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d1d1f}",
    "*{box-sizing:border-box}",
    "button{font:inherit;cursor:pointer}",
    ".launcher{border:0;border-radius:999px;padding:12px 18px;background:#3b2f63;color:#fff;",
    "box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launcher:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #f2b94b;outline-offset:2px}",
    ".panel{display:none;flex-direction:column;width:min(400px,calc(100vw - 40px));height:min(600px,calc(100vh - 90px));",
    "background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.3);overflow:hidden;margin-bottom:10px}",
    ".panel.open{display:flex}",
    "header{display:flex;align-items:center;justify-content:space-between;padding:10px 14px;background:#3b2f63;color:#fff}",
    "header h2{font-size:15px;margin:0}",
    "header button{background:none;border:0;color:#fff;font-size:20px;line-height:1}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;background:#f7f6fb}",
    ".msg{max-width:90%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}",
    ".user{align-self:flex-end;background:#3b2f63;color:#fff}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #e3e0ee}",
    ".status{align-self:flex-start;color:#6b6780;font-size:12px;font-style:italic}",
    ".error{align-self:flex-start;color:#a1232b;font-size:13px}",
    ".cards{display:flex;flex-direction:column;gap:8px}",
    ".card{display:grid;grid-template-columns:54px 1fr;gap:10px;background:#fff;border:1px solid #e3e0ee;",
    "border-radius:10px;padding:8px}",
    ".card img{width:54px;height:80px;object-fit:cover;border-radius:4px;background:#ddd}",
    ".card .t{font-weight:600}",
    ".card .meta,.card .why{font-size:12px;color:#5b5670}",
    ".card .why{margin-top:2px}",
    ".card .actions{display:flex;gap:6px;margin-top:6px}",
    ".card .actions button{border:1px solid #d6d2e4;background:#fff;border-radius:999px;padding:2px 9px;font-size:12px}",
    ".card .actions button[aria-pressed=true]{background:#3b2f63;color:#fff;border-color:#3b2f63}",
    ".starters{display:flex;flex-wrap:wrap;gap:6px}",
    ".starters button{border:1px solid #d6d2e4;background:#fff;border-radius:999px;padding:4px 10px;font-size:12px}",
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #e3e0ee;position:relative}",
    "input{flex:1;border:1px solid #cfcbe0;border-radius:8px;padding:8px 10px;font:inherit}",
    "form button{border:0;border-radius:8px;background:#3b2f63;color:#fff;padding:8px 12px}",
    "form .lucky{background:#f2b94b;color:#1d1d1f}",
    ".suggest{position:absolute;left:10px;right:10px;bottom:52px;background:#fff;border:1px solid #cfcbe0;",
    "border-radius:8px;list-style:none;margin:0;padding:4px 0;box-shadow:0 4px 14px rgba(0,0,0,.15)}",
    ".suggest[hidden]{display:none}",
    ".suggest li{padding:6px 10px;cursor:pointer}",
    ".suggest li[aria-selected=true]{background:#efeaf9}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
  ].join("");

  // --- tiny DOM helpers: text only, never innerHTML -------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        if (name === "text") node.textContent = attrs.text;
        else if (name === "class") node.className = attrs[name];
        else node.setAttribute(name, attrs[name]);
      });
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function safeUrl(value) {
    if (typeof value !== "string" || !value) return null;
    try {
      var url = new URL(value, API);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function headers() {
    var h = { "Content-Type": "application/json", Accept: "text/event-stream" };
    if (KEY) h["X-Vibeshelf-Key"] = KEY;
    return h;
  }

  // --- UI -----------------------------------------------------------------------------------------
  var host = el("div", { "data-vibeshelf": "" });
  var root = host.attachShadow({ mode: "open" });
  if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el("style", { text: CSS }));
  }

  var panelId = "vibeshelf-panel";
  var launcher = el("button", {
    class: "launcher",
    type: "button",
    "aria-expanded": "false",
    "aria-controls": panelId,
    text: "📚 Book ideas",
  });
  var closeBtn = el("button", { type: "button", "aria-label": "Close book chat", text: "×" });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions text" });
  var input = el("input", {
    type: "text",
    name: "message",
    autocomplete: "off",
    placeholder: "Describe a mood, or type “like …”",
    "aria-label": "Message",
    "aria-autocomplete": "list",
    "aria-controls": "vibeshelf-suggest",
    maxlength: "2000",
  });
  var sendBtn = el("button", { type: "submit", text: "Send" });
  var luckyBtn = el("button", { type: "button", class: "lucky", text: "🎲 Lucky", "aria-label": "I'm feeling lucky" });
  var suggest = el("ul", { class: "suggest", id: "vibeshelf-suggest", role: "listbox", hidden: "" });
  var form = el("form", { "aria-label": "Send a message" }, [input, sendBtn, luckyBtn, suggest]);
  var panel = el("section", { class: "panel", id: panelId, role: "dialog", "aria-label": TITLE }, [
    el("header", null, [el("h2", { text: TITLE }), closeBtn]),
    log,
    form,
  ]);
  root.appendChild(panel);
  root.appendChild(launcher);

  var starters = el(
    "div",
    { class: "starters", "aria-label": "Suggestions" },
    STARTERS.map(function (text) {
      var b = el("button", { type: "button", text: text });
      b.addEventListener("click", function () {
        send(text);
      });
      return b;
    }),
  );
  log.appendChild(el("div", { class: "msg bot", text: "Hi! Tell me what you feel like reading." }));
  log.appendChild(starters);

  function setOpen(open) {
    panel.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    launcher.textContent = open ? "Close" : "📚 Book ideas";
    if (open) input.focus();
    else launcher.focus();
  }
  launcher.addEventListener("click", function () {
    setOpen(!panel.classList.contains("open"));
  });
  closeBtn.addEventListener("click", function () {
    setOpen(false);
  });
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      if (!suggest.hidden) hideSuggestions();
      else if (panel.classList.contains("open")) setOpen(false);
    }
  });

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  // --- conversation -------------------------------------------------------------------------------
  var sessionId = null;
  var busy = false;

  function addLine(kind, text) {
    var node = el("div", { class: "msg " + kind, text: text });
    log.appendChild(node);
    scrollDown();
    return node;
  }

  function feedback(bookId, kind, button) {
    if (!sessionId) return;
    fetch(API + "/v1/feedback", {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ session_id: sessionId, book_id: bookId, kind: kind }),
    }).then(function (response) {
      if (response.ok) button.setAttribute("aria-pressed", "true");
    });
  }

  function card(book) {
    var cover = el("img", { alt: "", loading: "lazy" });
    var src = safeUrl(book.image_url);
    // A missing or unreachable cover shows the plain placeholder block, not a broken-image icon.
    cover.addEventListener("error", function () {
      cover.removeAttribute("src");
    });
    if (src) cover.src = src;
    var title = el("div", { class: "t" });
    var link = safeUrl(book.link);
    var titleText = book.title + (book.series ? " (" + book.series + ")" : "");
    if (link) title.appendChild(el("a", { href: link, target: "_blank", rel: "noopener noreferrer", text: titleText }));
    else title.textContent = titleText;
    var bits = [];
    if (book.authors && book.authors.length) bits.push(book.authors.join(", "));
    if (book.year !== null && book.year !== undefined) bits.push(book.year < 0 ? -book.year + " BC" : String(book.year));
    if (book.average_rating) {
      bits.push("★ " + Number(book.average_rating).toFixed(2) + " (" + Number(book.ratings_count || 0).toLocaleString() + ")");
    }
    var why = book.reason || (book.why && book.why.reason) || "";
    var actions = el("div", { class: "actions" });
    [
      ["up", "👍", "More like this"],
      ["down", "👎", "Not for me"],
      ["read", "Read it", "I've read it"],
    ].forEach(function (spec) {
      var b = el("button", { type: "button", "aria-pressed": "false", "aria-label": spec[2] + ": " + book.title, text: spec[1] });
      b.addEventListener("click", function () {
        feedback(book.id, spec[0], b);
      });
      actions.appendChild(b);
    });
    return el("article", { class: "card", "data-book-id": book.id }, [
      cover,
      el("div", null, [title, el("div", { class: "meta", text: bits.join(" · ") }), why ? el("div", { class: "why", text: why }) : null, actions]),
    ]);
  }

  function parseSse(buffer, onEvent) {
    var blocks = buffer.split(/\r?\n\r?\n/);
    var rest = blocks.pop();
    blocks.forEach(function (block) {
      var type = "message";
      var data = [];
      block.split(/\r?\n/).forEach(function (line) {
        if (line.indexOf("event:") === 0) type = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (data.length) {
        try {
          onEvent(type, JSON.parse(data.join("\n")));
        } catch (e) {
          /* a malformed event is skipped, the stream goes on */
        }
      }
    });
    return rest;
  }

  function stream(message, attempt, ui) {
    var finished = false;
    return fetch(API + "/v1/chat", {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ session_id: sessionId, message: message }),
    })
      .then(function (response) {
        if (!response.ok || !response.body) {
          return response.json().then(
            function (body) {
              throw { fatal: true, message: (body && body.error && body.error.message) || "HTTP " + response.status };
            },
            function () {
              throw { fatal: response.status < 500, message: "HTTP " + response.status };
            },
          );
        }
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function onEvent(type, data) {
          if (type === "session") sessionId = data.session_id;
          else if (type === "status") {
            ui.status.textContent = data.message;
          } else if (type === "books") {
            var cards = el("div", { class: "cards", role: "list" });
            data.books.forEach(function (book) {
              var c = card(book);
              c.setAttribute("role", "listitem");
              cards.appendChild(c);
            });
            log.insertBefore(cards, ui.answer);
          } else if (type === "text") {
            ui.answer.hidden = false;
            ui.answer.textContent += data.delta;
          } else if (type === "error") {
            finished = true;
            addLine("error", data.message);
          } else if (type === "done") {
            finished = true;
          }
          scrollDown();
        }
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) {
              if (!finished) throw { fatal: false, message: "stream ended early" };
              return;
            }
            buffer = parseSse(buffer + decoder.decode(chunk.value, { stream: true }), onEvent);
            return pump();
          });
        }
        return pump();
      })
      .catch(function (err) {
        if (finished) return;
        var fatal = err && err.fatal;
        if (!fatal && attempt < MAX_RETRIES) {
          ui.status.textContent = "Connection dropped, reconnecting…";
          ui.answer.textContent = "";
          return new Promise(function (resolve) {
            setTimeout(resolve, 500 * (attempt + 1));
          }).then(function () {
            return stream(message, attempt + 1, ui);
          });
        }
        addLine("error", "Sorry, that didn't work: " + ((err && err.message) || "network error"));
      });
  }

  function send(text) {
    text = (text || "").trim();
    if (!text || busy) return;
    busy = true;
    sendBtn.disabled = true;
    if (starters.parentNode) starters.parentNode.removeChild(starters);
    hideSuggestions();
    addLine("user", text);
    input.value = "";
    var ui = { status: addLine("status", "Thinking…"), answer: addLine("bot", "") };
    ui.answer.hidden = true;
    stream(text, 0, ui).then(function () {
      if (ui.status.parentNode) ui.status.parentNode.removeChild(ui.status);
      if (!ui.answer.textContent && ui.answer.parentNode) ui.answer.parentNode.removeChild(ui.answer);
      busy = false;
      sendBtn.disabled = false;
      input.focus();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var active = suggest.querySelector("[aria-selected=true]");
    if (active && !suggest.hidden) {
      pickSuggestion(active.getAttribute("data-title"));
      return;
    }
    send(input.value);
  });
  luckyBtn.addEventListener("click", function () {
    send("I'm feeling lucky");
  });

  // --- "like …" autocomplete ----------------------------------------------------------------------
  var LIKE = /^(.*\blike\s+)(.{2,})$/i;
  var timer = null;
  var lastQuery = "";

  function hideSuggestions() {
    suggest.hidden = true;
    input.removeAttribute("aria-activedescendant");
    while (suggest.firstChild) suggest.removeChild(suggest.firstChild);
  }

  function pickSuggestion(title) {
    var m = LIKE.exec(input.value);
    input.value = (m ? m[1] : "like ") + title;
    hideSuggestions();
    input.focus();
  }

  input.addEventListener("input", function () {
    var m = LIKE.exec(input.value);
    clearTimeout(timer);
    if (!m) return hideSuggestions();
    var q = m[2];
    timer = setTimeout(function () {
      lastQuery = q;
      fetch(API + "/v1/autocomplete?q=" + encodeURIComponent(q), { headers: headers() })
        .then(function (r) {
          return r.ok ? r.json() : [];
        })
        .then(function (body) {
          if (q !== lastQuery) return;
          hideSuggestions();
          var items = Array.isArray(body) ? body : body.suggestions || [];
          items.slice(0, 7).forEach(function (s, i) {
            var label = s.title + (s.authors && s.authors.length ? " — " + s.authors[0] : "");
            var li = el("li", { role: "option", id: "vibeshelf-opt-" + i, "data-title": s.title, "aria-selected": "false", text: label });
            li.addEventListener("mousedown", function (e) {
              e.preventDefault();
              pickSuggestion(s.title);
            });
            suggest.appendChild(li);
          });
          suggest.hidden = !suggest.firstChild;
        })
        .catch(hideSuggestions);
    }, 150);
  });

  input.addEventListener("keydown", function (event) {
    if (suggest.hidden || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) return;
    event.preventDefault();
    var options = Array.prototype.slice.call(suggest.children);
    var index = options.findIndex(function (o) {
      return o.getAttribute("aria-selected") === "true";
    });
    options.forEach(function (o) {
      o.setAttribute("aria-selected", "false");
    });
    index = event.key === "ArrowDown" ? (index + 1) % options.length : (index - 1 + options.length) % options.length;
    options[index].setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", options[index].id);
  });

  function mount() {
    document.body.appendChild(host);
    if (START_OPEN) setOpen(true);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
