/* vibeshelf chat widget: one <script> tag, no dependencies, renders inside a Shadow DOM.
 *
 *   <script src="https://HOST/widget.js" data-vibeshelf-key="SITE_KEY" async></script>
 *
 * Optional attributes (README "Chat widget"): data-vibeshelf-accent="#0b6e4f", data-vibeshelf-title="…",
 * data-vibeshelf-position="left|right", data-vibeshelf-lang="en|fr", data-vibeshelf-open="true".
 * Events on document (bubbling, composed): "vibeshelf:book-click" (cancelable; detail.book) and
 * "vibeshelf:feedback" (detail: book, kind, active, ok).
 * Safety: model and catalog text is inserted as text nodes; the markdown subset (bold, italics, lists,
 * links to catalog pages) is built element by element, never parsed as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__vibeshelfLoaded) return;
  window.__vibeshelfLoaded = true;

  // The server fills this from web/static/widget-strings.json when it serves /widget.js.
  var STRINGS = /*VIBESHELF_STRINGS*/ { en: {} } /*END_STRINGS*/;

  function attr(name) {
    var value = script.getAttribute("data-vibeshelf-" + name);
    return value === null ? "" : value.trim();
  }

  var API = new URL(script.src, document.baseURI).origin;
  var KEY = attr("key");
  var LANG = pickLanguage(attr("lang") || document.documentElement.lang || "en");
  var T = STRINGS[LANG] || STRINGS.en;
  var TITLE = attr("title") || T.title;
  var POSITION = attr("position") === "left" ? "left" : "right";
  var ACCENT = parseColour(attr("accent")) || [59, 47, 99];
  var START_OPEN = attr("open") === "true";
  var STORE_KEY = "vibeshelf:" + API + ":" + (KEY || "open");
  var MAX_RETRIES = 2;

  function pickLanguage(tag) {
    var lang = String(tag).toLowerCase().split(/[-_]/)[0];
    return STRINGS[lang] ? lang : "en";
  }

  function t(key, values) {
    var text = T[key] !== undefined ? T[key] : STRINGS.en[key];
    if (typeof text !== "string") return text;
    return text.replace(/\{(\w+)\}/g, function (_, name) {
      return values && values[name] !== undefined ? String(values[name]) : "";
    });
  }

  // --- colours: the accent decides the text and focus colours that keep 3:1 (WCAG 1.4.11) --------
  function parseColour(text) {
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(text || "");
    if (!m) return null;
    var hex = m[1].length === 3 ? m[1].replace(/./g, "$&$&") : m[1];
    return [0, 2, 4].map(function (i) {
      return parseInt(hex.slice(i, i + 2), 16);
    });
  }
  function luminance(rgb) {
    var c = rgb.map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }
  function css(rgb) {
    return "rgb(" + rgb.join(",") + ")";
  }
  var WHITE = [255, 255, 255], INK = [29, 29, 31];
  var accent = css(ACCENT);
  var onAccent = contrast(ACCENT, WHITE) >= 4.5 ? css(WHITE) : css(INK);
  // Focus rings sit on the white panel: the accent when it is dark enough, else near-black.
  var ring = contrast(ACCENT, WHITE) >= 3 ? accent : css(INK);
  // On the accent (header, launcher) the ring is whichever of white/ink stands out from it.
  var ringOnAccent = contrast(ACCENT, WHITE) >= contrast(ACCENT, INK) ? css(WHITE) : css(INK);
  var side = POSITION === "left" ? "left" : "right";

  var CSS = [
    ":host{all:initial!important;display:contents!important}",
    // Every inherited property reset here, so host rules such as *{letter-spacing} cannot reach in.
    ".root{all:initial;display:block;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;",
    "color:#1d1d1f;letter-spacing:normal;word-spacing:normal;text-transform:none;text-align:left;",
    "direction:ltr;-webkit-text-size-adjust:100%}",
    "*,*::before,*::after{box-sizing:border-box;letter-spacing:inherit}",
    "button,input{font:inherit;color:inherit;letter-spacing:normal}",
    "button{cursor:pointer;min-height:32px}",
    "a{color:" + ring + "}",
    ":focus-visible{outline:3px solid " + ring + ";outline-offset:2px}",
    ".launcher:focus-visible,header :focus-visible{outline-color:" + ringOnAccent + ";outline-offset:-5px}",
    ".launcher{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;border:0;border-radius:999px;",
    "padding:12px 18px;min-height:48px;background:" + accent + ";color:" + onAccent + ";",
    "box-shadow:0 4px 14px rgba(0,0,0,.25);font-weight:600}",
    ".panel{position:fixed;bottom:80px;" + side + ":20px;z-index:2147483000;display:none;flex-direction:column;",
    "width:min(400px,calc(100vw - 40px));height:min(620px,calc(100vh - 100px));background:#fff;",
    "border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.3);overflow:hidden}",
    ".panel.open{display:flex}",
    "header{display:flex;align-items:center;gap:6px;padding:8px 8px 8px 14px;background:" + accent + ";color:" + onAccent + "}",
    "header h2{font-size:15px;margin:0;flex:1;font-weight:600}",
    "header button{background:none;border:0;color:inherit;font-size:20px;line-height:1;min-width:36px;min-height:36px;border-radius:8px}",
    "header .import{font-size:13px;border:1px solid currentColor;padding:4px 10px}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;background:#f7f6fb}",
    ".msg{max-width:92%;padding:8px 11px;border-radius:12px;word-wrap:break-word}",
    ".msg p{margin:0 0 6px}.msg p:last-child{margin-bottom:0}",
    ".msg ul,.msg ol{margin:4px 0 6px;padding-left:20px}",
    ".user{align-self:flex-end;background:" + accent + ";color:" + onAccent + ";white-space:pre-wrap}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #e3e0ee}",
    ".note{align-self:center;color:#5b5670;font-size:12px}",
    ".status{align-self:flex-start;color:#5b5670;font-size:12px;font-style:italic}",
    ".error{align-self:flex-start;background:#fff4f4;border:1px solid #a1232b;color:#7d1a21;",
    "display:flex;flex-wrap:wrap;align-items:center;gap:8px}",
    ".error button,.stopped button{border:1px solid #7d1a21;background:#fff;border-radius:8px;padding:4px 12px}",
    ".cards{display:flex;flex-direction:column;gap:8px;margin:0;padding:0;list-style:none}",
    ".card,.ghost{display:grid;grid-template-columns:54px 1fr;gap:10px;background:#fff;border:1px solid #e3e0ee;",
    "border-radius:10px;padding:8px}",
    ".cover{width:54px;height:80px;object-fit:cover;border-radius:4px;display:block}",
    ".placeholder{width:54px;height:80px;border-radius:4px;display:flex;align-items:center;justify-content:center;",
    "background:" + accent + ";color:" + onAccent + ";font-weight:700;font-size:18px;text-transform:uppercase}",
    ".card .t{font-weight:600}",
    ".card .meta,.card .why{font-size:12px;color:#5b5670}",
    ".card .why{margin-top:2px}",
    ".card .actions{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    // Borders and pressed states at >= 3:1 against white (the grey #767087 is 4.8:1).
    ".card .actions button{border:1px solid #767087;background:#fff;border-radius:999px;padding:2px 10px;font-size:12px}",
    ".card .actions button[aria-pressed=true]{background:" + accent + ";color:" + onAccent + ";border-color:" + accent + "}",
    ".card .actions button[aria-busy=true]{opacity:.6}",
    ".card .fail{flex-basis:100%;font-size:12px;color:#7d1a21}",
    ".bone{background:#e6e3ef;border-radius:4px}",
    ".skeleton .cover{background:#e6e3ef}",
    ".bone.l{height:12px;margin:4px 0 8px;width:70%}.bone.s{height:10px;width:45%}",
    "@media (prefers-reduced-motion:no-preference){.bone,.skeleton .cover{animation:pulse 1.2s ease-in-out infinite}}",
    "@keyframes pulse{50%{opacity:.45}}",
    ".starters{display:flex;flex-wrap:wrap;gap:6px}",
    ".starters button{border:1px solid #767087;background:#fff;border-radius:999px;padding:4px 12px;font-size:12px}",
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #e3e0ee;position:relative;margin:0}",
    "input{flex:1;min-width:0;border:1px solid #767087;border-radius:8px;padding:8px 10px;background:#fff}",
    "form button{border:0;border-radius:8px;background:" + accent + ";color:" + onAccent + ";padding:8px 12px}",
    "form .lucky{background:#fff;color:#1d1d1f;border:1px solid #767087}",
    "form .stop{background:#fff;color:#7d1a21;border:1px solid #7d1a21}",
    "[hidden]{display:none!important}",
    ".suggest{position:absolute;left:10px;right:10px;bottom:56px;background:#fff;border:1px solid #767087;",
    "border-radius:8px;list-style:none;margin:0;padding:4px 0;box-shadow:0 4px 14px rgba(0,0,0,.15)}",
    ".suggest li{padding:8px 10px;cursor:pointer}",
    ".suggest li[aria-selected=true]{background:#efeaf9}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    // Phones: a full-screen sheet, 44 px touch targets, 16 px input text (iOS zooms into smaller).
    "@media (max-width:600px){",
    ".panel{top:0;left:0;right:0;bottom:0;width:100%;height:100%;border-radius:0}",
    ".panel.open~.launcher{display:none}",
    "button{min-height:44px;min-width:44px}",
    ".card .actions button,.starters button{min-height:44px;font-size:14px}",
    "header button{min-height:44px;min-width:44px}",
    "input{font-size:16px;min-height:44px}",
    ".suggest{bottom:66px}.suggest li{min-height:44px}",
    "}",
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
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
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

  function headers(json) {
    var h = { Accept: json ? "application/json" : "text/event-stream" };
    if (json !== "multipart") h["Content-Type"] = "application/json";
    if (KEY) h["X-Vibeshelf-Key"] = KEY;
    return h;
  }

  function emit(name, detail, cancelable) {
    var event = new CustomEvent("vibeshelf:" + name, {
      detail: detail,
      bubbles: true,
      composed: true,
      cancelable: !!cancelable,
    });
    return host.dispatchEvent(event);
  }

  function store(name, value) {
    try {
      if (value === null) window.sessionStorage.removeItem(STORE_KEY + ":" + name);
      else window.sessionStorage.setItem(STORE_KEY + ":" + name, value);
    } catch (e) {
      /* storage off (private mode, sandboxed frame): the conversation just does not survive a reload */
    }
  }
  function stored(name) {
    try {
      return window.sessionStorage.getItem(STORE_KEY + ":" + name);
    } catch (e) {
      return null;
    }
  }

  // --- markdown subset: paragraphs, lists, **bold**, *italics*, [links](catalog pages) -----------
  var catalogLinks = {}; // links of every card shown: the only external pages a link may point to

  function linkAllowed(href) {
    var url = safeUrl(href);
    if (!url) return null;
    if (catalogLinks[url] || new URL(url).origin === API) return url;
    return null;
  }

  var INLINE = /\*\*([^*]+?)\*\*|\[([^\]\n]+)\]\(([^)\s]+)\)|\*([^*\s][^*\n]*?)\*|\b_([^_\s][^_\n]*?)_\b/g;

  function inline(text, parent) {
    var last = 0;
    var m;
    INLINE.lastIndex = 0;
    var re = new RegExp(INLINE.source, "g");
    while ((m = re.exec(text))) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1] !== undefined) inline(m[1], parent.appendChild(el("strong")));
      else if (m[2] !== undefined) {
        var href = linkAllowed(m[3]);
        if (href) {
          inline(m[2], parent.appendChild(el("a", { href: href, target: "_blank", rel: "noopener noreferrer" })));
        } else inline(m[2], parent); // a link we cannot vouch for is shown as its text
      } else inline(m[4] !== undefined ? m[4] : m[5], parent.appendChild(el("em")));
      last = re.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
    return parent;
  }

  var ITEM = /^\s*(?:[-*•]|\d{1,2}[.)])\s+(.*)$/;

  // Titles compared as letters and digits only: the answer text may drop markup or punctuation that the
  // catalog title carries ("Rain <i>Letters</i>" written as "Rain Letters").
  function titleKey(text) {
    return String(text || "").replace(/<[^>]*>/g, " ").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
  }

  // Does this list item name one of the turn's cards (its bold or linked title)? Then the card says it
  // (and its reason) already.
  function cardNamed(item, books) {
    var named = /\*\*\[?([^*\]]+)\]?(?:\([^)]*\))?\*\*|\[([^\]]+)\]\(/.exec(item);
    if (!named) return null;
    var key = titleKey(named[1] || named[2]);
    for (var i = 0; i < books.length; i++) {
      if (key && titleKey(books[i].title) === key) return books[i];
    }
    return null;
  }

  // Returns the fragment and how many of its blocks come before the first line naming a card (those
  // frame the cards from above; the rest follows them).
  function renderMarkdown(text, books, onDuplicate) {
    var frag = document.createDocumentFragment();
    var list = null, listTag = null, para = null, lead = -1;
    text.split(/\r?\n/).forEach(function (line) {
      var item = ITEM.exec(line);
      if (item) {
        para = null;
        var book = books && books.length ? cardNamed(item[1], books) : null;
        if (book) {
          if (lead < 0) lead = frag.childNodes.length;
          list = null;
          if (onDuplicate) onDuplicate(book, item[1]);
          return;
        }
        var tag = /^\s*\d/.test(line) ? "ol" : "ul";
        if (!list || listTag !== tag) {
          list = frag.appendChild(el(tag));
          listTag = tag;
        }
        inline(item[1], list.appendChild(el("li")));
      } else if (!line.trim()) {
        para = null;
        list = null;
      } else {
        list = null;
        if (para) para.appendChild(el("br"));
        else para = frag.appendChild(el("p"));
        inline(line, para);
      }
    });
    return { fragment: frag, lead: lead < 0 ? frag.childNodes.length : lead };
  }

  // --- UI -----------------------------------------------------------------------------------------
  var host = document.createElement("vibeshelf-widget");
  host.setAttribute("data-vibeshelf", "");
  // The host element is in the page: inline !important beats any page rule (div{border}, *{...}).
  host.style.setProperty("all", "initial", "important");
  host.style.setProperty("display", "contents", "important");
  var shadow = host.attachShadow({ mode: "open" });
  if (shadow.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } else {
    shadow.appendChild(el("style", { text: CSS }));
  }
  var root = el("div", { class: "root", lang: LANG });
  shadow.appendChild(root);

  var panelId = "vibeshelf-panel";
  var launcher = el("button", {
    class: "launcher",
    type: "button",
    "aria-expanded": "false",
    "aria-controls": panelId,
    text: "📚 " + t("launcher"),
  });
  var fileInput = el("input", { type: "file", accept: ".csv,text/csv", hidden: "", "aria-hidden": "true", tabindex: "-1" });
  var importBtn = el("button", { type: "button", class: "import", title: t("import_hint"), text: t("import") });
  var closeBtn = el("button", { type: "button", "aria-label": t("close"), text: "×" });
  // The visible log is not a live region (a screen reader would read every streamed fragment);
  // `announcer` gets each whole answer once it is complete.
  var log = el("div", { class: "log" });
  var announcer = el("div", { class: "sr", "aria-live": "polite", "aria-atomic": "true" });
  var input = el("input", {
    type: "text",
    name: "message",
    autocomplete: "off",
    placeholder: t("placeholder"),
    "aria-label": t("message_label"),
    "aria-autocomplete": "list",
    "aria-controls": "vibeshelf-suggest",
    maxlength: "2000",
  });
  var sendBtn = el("button", { type: "submit", class: "send", text: t("send") });
  var stopBtn = el("button", { type: "button", class: "stop", text: t("stop"), hidden: "" });
  var luckyBtn = el("button", { type: "button", class: "lucky", text: "🎲 " + t("lucky"), "aria-label": t("lucky_label") });
  var suggest = el("ul", { class: "suggest", id: "vibeshelf-suggest", role: "listbox", hidden: "" });
  var form = el("form", { "aria-label": t("send") }, [input, sendBtn, stopBtn, luckyBtn, suggest]);
  var panel = el("section", { class: "panel", id: panelId, role: "dialog", "aria-label": TITLE }, [
    el("header", null, [el("h2", { text: TITLE }), importBtn, closeBtn]),
    log,
    form,
    announcer,
    fileInput,
  ]);
  root.appendChild(panel);
  root.appendChild(launcher);

  var starters = el(
    "div",
    { class: "starters", role: "group", "aria-label": t("suggestions") },
    (t("starters") || []).map(function (text) {
      var b = el("button", { type: "button", text: text });
      b.addEventListener("click", function () {
        send(text);
      });
      return b;
    }),
  );
  var greeting = el("div", { class: "msg bot", text: t("greeting") });
  log.appendChild(greeting);
  log.appendChild(starters);

  function setOpen(open, quiet) {
    panel.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    store("open", open ? "1" : null);
    if (quiet) return;
    if (open) input.focus();
    else launcher.focus();
  }
  launcher.addEventListener("click", function () {
    setOpen(!panel.classList.contains("open"));
  });
  closeBtn.addEventListener("click", function () {
    setOpen(false);
  });
  shadow.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      if (!suggest.hidden) hideSuggestions();
      else if (panel.classList.contains("open")) setOpen(false);
    }
  });

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  // --- conversation -------------------------------------------------------------------------------
  var sessionId = stored("session");
  var busy = false;
  var controller = null;
  var feedbackState = {}; // book id -> {vote: "up"|"down"|null, read: bool}

  function setSession(id) {
    sessionId = id;
    store("session", id);
    if (!id) store("cards", null);
  }

  // The cards this tab was shown, so a restored conversation shows them whole (the session on the server
  // keeps only ids, titles and authors). Slimmed and capped to stay far below sessionStorage's quota.
  var CARD_FIELDS = ["id", "title", "series", "authors", "year", "average_rating", "ratings_count", "image_url", "link", "reason"];
  function rememberCards(books) {
    var cache = {};
    try {
      cache = JSON.parse(stored("cards") || "{}") || {};
    } catch (e) {
      cache = {};
    }
    books.forEach(function (book) {
      var slim = {};
      CARD_FIELDS.forEach(function (name) {
        if (book[name] !== undefined && book[name] !== null) slim[name] = book[name];
      });
      delete cache[book.id];
      cache[book.id] = slim;
    });
    var ids = Object.keys(cache);
    ids.slice(0, Math.max(0, ids.length - 300)).forEach(function (id) {
      delete cache[id];
    });
    store("cards", JSON.stringify(cache));
  }
  function rememberedCards() {
    try {
      return JSON.parse(stored("cards") || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function addLine(kind, text) {
    var node = el("div", { class: "msg " + kind, text: text });
    log.appendChild(node);
    scrollDown();
    return node;
  }

  function dropStarters() {
    if (starters.parentNode) starters.parentNode.removeChild(starters);
  }

  // Reader-facing words for a failure; the technical reason goes to the console for the site owner.
  function explain(err) {
    var status = err && err.status;
    var code = err && err.code;
    if (err && err.detail) console.warn("vibeshelf:", err.detail);
    if (status === 401 || status === 403) {
      console.error(
        "vibeshelf: this page's origin (" + location.origin + ") is not registered for site key '" + KEY +
          "'. Add it to VIBESHELF_SITE_KEYS on the vibeshelf server.",
      );
      return t("error_unavailable");
    }
    if (status === 429) return t("error_busy");
    if (status === 404 && code === "session_not_found") return t("error_session");
    if (code === "message_too_long") return t("error_too_long");
    if (!status) return t("error_network");
    return t("error_generic");
  }

  function showError(err, retry) {
    var box = el("div", { class: "msg error", role: "alert" }, [el("span", { text: explain(err) })]);
    if (retry) {
      var again = el("button", { type: "button", text: t("retry") });
      again.addEventListener("click", function () {
        if (busy) return;
        box.parentNode.removeChild(box);
        retry();
      });
      box.appendChild(again);
    }
    log.appendChild(box);
    scrollDown();
    return box;
  }

  function readError(response) {
    return response.json().then(
      function (body) {
        var e = (body && body.error) || {};
        return { status: response.status, code: e.code, detail: e.message || "HTTP " + response.status };
      },
      function () {
        return { status: response.status, detail: "HTTP " + response.status };
      },
    );
  }

  function syncButtons(bookId) {
    var s = feedbackState[bookId] || { vote: null, read: false };
    Array.prototype.forEach.call(shadow.querySelectorAll('.card[data-book-id="' + CSS_escape(bookId) + '"]'), function (c) {
      c.querySelector("[data-kind=up]").setAttribute("aria-pressed", String(s.vote === "up"));
      c.querySelector("[data-kind=down]").setAttribute("aria-pressed", String(s.vote === "down"));
      c.querySelector("[data-kind=read]").setAttribute("aria-pressed", String(s.read));
    });
  }
  function CSS_escape(text) {
    return window.CSS && CSS.escape ? CSS.escape(text) : String(text).replace(/["\\]/g, "\\$&");
  }

  function feedback(book, which, cardNode) {
    if (!sessionId) return;
    var s = feedbackState[book.id] || { vote: null, read: false };
    var kind, next;
    if (which === "read") {
      kind = s.read ? "unread" : "read";
      next = { vote: s.vote, read: !s.read };
    } else {
      kind = s.vote === which ? "clear" : which; // pressing the pressed thumb takes it back
      next = { vote: kind === "clear" ? null : which, read: s.read };
    }
    var fail = cardNode.querySelector(".fail");
    if (fail) fail.parentNode.removeChild(fail);
    var button = cardNode.querySelector("[data-kind=" + which + "]");
    button.setAttribute("aria-busy", "true");
    var detail = { book: book, kind: kind, active: kind !== "clear" && kind !== "unread" };
    fetch(API + "/v1/feedback", {
      method: "POST",
      headers: headers(true),
      body: JSON.stringify({ session_id: sessionId, book_id: book.id, kind: kind }),
    })
      .then(function (response) {
        if (!response.ok) return readError(response).then(Promise.reject.bind(Promise));
        feedbackState[book.id] = next;
        syncButtons(book.id);
        detail.ok = true;
        emit("feedback", detail);
      })
      .catch(function (err) {
        if (err && err.detail) console.warn("vibeshelf: feedback failed:", err.detail);
        var actions = cardNode.querySelector(".actions");
        actions.appendChild(el("div", { class: "fail", role: "alert", text: t("feedback_failed") }));
        detail.ok = false;
        emit("feedback", detail);
      })
      .then(function () {
        button.removeAttribute("aria-busy");
      });
  }

  function initials(title) {
    var words = String(title || "?").replace(/[^\p{L}\p{N} ]/gu, "").split(/\s+/).filter(Boolean);
    return (words[0] || "?").charAt(0) + (words[1] ? words[1].charAt(0) : "");
  }

  function cover(book) {
    var placeholder = el("div", { class: "placeholder", "aria-hidden": "true", text: initials(book.title) });
    var src = safeUrl(book.image_url);
    // Goodreads' "nophoto" images are a grey stock picture: the placeholder says the same, better.
    if (!src || /nophoto/.test(src)) return placeholder;
    var img = el("img", { class: "cover", alt: "", loading: "lazy" });
    img.addEventListener("error", function () {
      if (img.parentNode) img.parentNode.replaceChild(placeholder, img);
    });
    img.src = src;
    return img;
  }

  function card(book, reason) {
    var link = safeUrl(book.link);
    if (link) catalogLinks[link] = true;
    var title = el("div", { class: "t" });
    var titleText = book.title + (book.series ? " (" + book.series + ")" : "");
    if (link) {
      var a = el("a", { href: link, target: "_blank", rel: "noopener noreferrer", text: titleText });
      a.addEventListener("click", function (event) {
        // The host page may take over (open its own product page, "find in library").
        if (!emit("book-click", { book: book, link: link }, true)) event.preventDefault();
      });
      title.appendChild(a);
    } else title.textContent = titleText;
    var bits = [];
    if (book.authors && book.authors.length) bits.push(book.authors.join(", "));
    if (book.year !== null && book.year !== undefined) bits.push(book.year < 0 ? -book.year + " BC" : String(book.year));
    if (book.average_rating) {
      bits.push("★ " + Number(book.average_rating).toFixed(2) + " (" + Number(book.ratings_count || 0).toLocaleString() + ")");
    }
    var why = reason || book.reason || "";
    var actions = el("div", { class: "actions" });
    var node = el("li", { class: "card", "data-book-id": book.id }, [
      cover(book),
      el("div", null, [
        title,
        bits.length ? el("div", { class: "meta", text: bits.join(" · ") }) : null,
        el("div", { class: "why", text: why }),
        actions,
      ]),
    ]);
    if (!why) node.querySelector(".why").hidden = true;
    [
      ["up", "👍", t("more_like")],
      ["down", "👎", t("not_for_me")],
      ["read", "✓ " + t("read"), t("read")],
    ].forEach(function (spec) {
      var b = el("button", {
        type: "button",
        "data-kind": spec[0],
        "aria-pressed": "false",
        "aria-label": spec[2] + ": " + book.title,
        title: spec[2],
        text: spec[1],
      });
      b.addEventListener("click", function () {
        feedback(book, spec[0], node);
      });
      actions.appendChild(b);
    });
    return node;
  }

  function cardList(books) {
    var list = el("ul", { class: "cards", "aria-label": t("books_found", { n: books.length }) });
    books.forEach(function (book) {
      list.appendChild(card(book));
    });
    return list;
  }

  function skeleton() {
    var list = el("ul", { class: "cards skeleton", "aria-hidden": "true" });
    for (var i = 0; i < 3; i++) {
      list.appendChild(
        el("li", { class: "ghost" }, [el("div", { class: "cover" }), el("div", null, [el("div", { class: "bone l" }), el("div", { class: "bone s" })])]),
      );
    }
    return list;
  }

  // An answer: markdown re-rendered as text streams in, minus list lines that repeat a card. What comes
  // before the first such line goes in `lead` (above the cards), the rest in `tail` (below them).
  function renderAnswer(lead, tail, text, books, cardsNode) {
    [lead, tail].forEach(function (node) {
      while (node.firstChild) node.removeChild(node.firstChild);
    });
    var out = renderMarkdown(text, books, function (book, line) {
      // The list line's reason moves to the card when the card has none of its own.
      var why = cardsNode && cardsNode.querySelector('.card[data-book-id="' + CSS_escape(book.id) + '"] .why');
      var dash = line.indexOf(" — ");
      if (why && !why.textContent && dash >= 0) {
        why.textContent = line.slice(dash + 3).replace(/\*\*|\*/g, "");
        why.hidden = false;
      }
    });
    var blocks = Array.prototype.slice.call(out.fragment.childNodes);
    blocks.forEach(function (block, i) {
      (i < out.lead ? lead : tail).appendChild(block);
    });
    lead.hidden = !lead.firstChild;
    tail.hidden = !tail.firstChild;
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
      headers: headers(false),
      body: JSON.stringify({ session_id: sessionId, message: message }),
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        if (!response.ok || !response.body) {
          return readError(response).then(function (err) {
            err.fatal = response.status < 500;
            throw err;
          });
        }
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function onEvent(type, data) {
          if (type === "session") setSession(data.session_id);
          else if (type === "status") {
            ui.status.textContent = data.message;
          } else if (type === "books") {
            if (ui.skeleton.parentNode) ui.skeleton.parentNode.removeChild(ui.skeleton);
            var seen = {};
            ui.books.forEach(function (b) {
              seen[b.id] = true;
            });
            var fresh = data.books.filter(function (b) {
              return !seen[b.id];
            });
            ui.books = ui.books.concat(fresh);
            rememberCards(fresh);
            if (!ui.cards) ui.cards = log.insertBefore(cardList([]), ui.answer);
            fresh.forEach(function (b) {
              ui.cards.appendChild(card(b));
            });
            ui.cards.setAttribute("aria-label", t("books_found", { n: ui.books.length }));
            Object.keys(feedbackState).forEach(syncButtons);
            if (ui.text) renderAnswer(ui.lead, ui.answer, ui.text, ui.books, ui.cards);
          } else if (type === "text") {
            ui.text += data.delta;
            renderAnswer(ui.lead, ui.answer, ui.text, ui.books, ui.cards);
          } else if (type === "error") {
            finished = true;
            ui.failed = { status: 500, code: data.code, detail: data.message };
          } else if (type === "done") {
            finished = true;
          }
          scrollDown();
        }
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) {
              if (!finished) throw { fatal: false, detail: "stream ended early" };
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
        if (ui.signal.aborted) {
          ui.stopped = true;
          return;
        }
        if (err instanceof TypeError) err = { fatal: false, detail: String(err.message || err) };
        if (!err.fatal && attempt < MAX_RETRIES) {
          ui.status.textContent = t("reconnecting");
          ui.text = "";
          renderAnswer(ui.lead, ui.answer, "", [], null);
          return new Promise(function (resolve) {
            setTimeout(resolve, 500 * (attempt + 1));
          }).then(function () {
            return stream(message, attempt + 1, ui);
          });
        }
        ui.failed = err;
      });
  }

  function setBusy(on) {
    busy = on;
    sendBtn.hidden = on;
    stopBtn.hidden = !on;
    luckyBtn.disabled = on;
  }

  function send(text) {
    text = (text || "").trim();
    if (!text || busy) return;
    setBusy(true);
    dropStarters();
    hideSuggestions();
    addLine("user", text);
    input.value = "";
    controller = typeof AbortController === "function" ? new AbortController() : null;
    var ui = {
      status: addLine("status", t("loading")),
      lead: log.appendChild(el("div", { class: "msg bot", hidden: "" })),
      skeleton: log.appendChild(skeleton()),
      answer: el("div", { class: "msg bot", hidden: "" }),
      cards: null,
      books: [],
      text: "",
      signal: controller ? controller.signal : { aborted: false },
    };
    ui.status.setAttribute("role", "status");
    log.appendChild(ui.answer);
    scrollDown();
    stream(text, 0, ui).then(function () {
      [ui.status, ui.skeleton].forEach(function (n) {
        if (n.parentNode) n.parentNode.removeChild(n);
      });
      [ui.lead, ui.answer].forEach(function (n) {
        if (n.hidden && n.parentNode) n.parentNode.removeChild(n);
      });
      if (ui.stopped) {
        var note = addLine("note stopped", t("stopped") + " ");
        var again = el("button", { type: "button", text: t("retry") });
        again.addEventListener("click", function () {
          if (busy) return;
          note.parentNode.removeChild(note);
          send(text);
        });
        note.appendChild(again);
      } else if (ui.failed) {
        showError(ui.failed, function () {
          send(text);
        });
      } else {
        // One announcement per answer: the whole text, as rendered (cards counted, not read out).
        var spoken = [ui.lead.textContent, ui.answer.textContent].join(" ").trim();
        if (ui.books.length) spoken = t("books_found", { n: ui.books.length }) + " " + ui.books.map(function (b) {
          return b.title;
        }).join("; ") + ". " + spoken;
        announcer.textContent = spoken;
      }
      setBusy(false);
      controller = null;
      input.focus();
    });
  }

  stopBtn.addEventListener("click", function () {
    if (controller) controller.abort();
  });

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
    send(t("lucky_message"));
  });

  // --- a reader's library (Goodreads / StoryGraph export) ---------------------------------------
  function ensureSession() {
    if (sessionId) return Promise.resolve(sessionId);
    return fetch(API + "/v1/sessions", { method: "POST", headers: headers(true) }).then(function (response) {
      if (!response.ok) return readError(response).then(Promise.reject.bind(Promise));
      return response.json().then(function (body) {
        setSession(body.id);
        return body.id;
      });
    });
  }

  function importLibrary(file) {
    dropStarters();
    var status = addLine("status", t("importing"));
    status.setAttribute("role", "status");
    importBtn.disabled = true;
    function upload(id) {
      var body = new FormData();
      body.append("file", file, file.name);
      return fetch(API + "/v1/sessions/" + encodeURIComponent(id) + "/library", {
        method: "POST",
        headers: headers("multipart"),
        body: body,
      });
    }
    return ensureSession()
      .then(function (id) {
        return upload(id).then(function (response) {
          if (response.status === 404) {
            // The stored session expired: start a new one and import into it.
            setSession(null);
            return ensureSession().then(upload);
          }
          return response;
        });
      })
      .then(function (response) {
        if (!response.ok) return readError(response).then(Promise.reject.bind(Promise));
        return response.json();
      })
      .then(
        function (result) {
          var done = t("import_done", { matched: result.matched, missing: result.not_found });
          var box = addLine("bot import-result", done);
          if (result.unmatched && result.unmatched.length) {
            var list = el("ul");
            result.unmatched.slice(0, 10).forEach(function (row) {
              list.appendChild(el("li", { text: row.title + (row.authors && row.authors.length ? " — " + row.authors[0] : "") }));
            });
            box.appendChild(el("div", { text: t("import_unmatched") }));
            box.appendChild(list);
          }
          announcer.textContent = done;
        },
        function (err) {
          if (err && err.status === 422) {
            // The server's words name the row and column: useful to the reader who made the file.
            var box = showError({ status: 422, code: err.code }, null);
            box.firstChild.textContent = t("import_failed", { reason: err.detail });
          } else showError(err, null);
        },
      )
      .then(function () {
        if (status.parentNode) status.parentNode.removeChild(status);
        importBtn.disabled = false;
        scrollDown();
      });
  }
  importBtn.addEventListener("click", function () {
    fileInput.value = "";
    fileInput.click();
  });
  fileInput.addEventListener("change", function () {
    if (fileInput.files && fileInput.files[0]) importLibrary(fileInput.files[0]);
  });

  // --- the conversation so far, after a reload or on another page of the site -------------------
  function restore() {
    if (!sessionId) return;
    fetch(API + "/v1/sessions/" + encodeURIComponent(sessionId), { headers: headers(true) })
      .then(function (response) {
        if (response.status === 404) {
          setSession(null); // expired or forgotten: start afresh, quietly
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (session) {
        if (!session || !session.turns || !session.turns.length) return;
        dropStarters();
        (session.liked_ids || []).forEach(function (id) {
          feedbackState[id] = { vote: "up", read: false };
        });
        (session.disliked_ids || []).forEach(function (id) {
          feedbackState[id] = { vote: "down", read: false };
        });
        (session.read_ids || []).forEach(function (id) {
          (feedbackState[id] = feedbackState[id] || { vote: null, read: false }).read = true;
        });
        var before = greeting.nextSibling;
        var shownByTurn = {};
        var known = rememberedCards();
        (session.shown || []).forEach(function (b) {
          (shownByTurn[b.turn] = shownByTurn[b.turn] || []).push(known[b.id] || b);
        });
        var offset = session.turn_count - session.turns.length;
        session.turns.forEach(function (turn, i) {
          log.insertBefore(el("div", { class: "msg user", text: turn.user }), before);
          var books = shownByTurn[offset + i] || [];
          var list = books.length ? cardList(books) : null;
          var lead = el("div", { class: "msg bot" });
          var answer = el("div", { class: "msg bot" });
          renderAnswer(lead, answer, turn.answer, books, list);
          [lead, list, answer].forEach(function (n) {
            if (n && !n.hidden) log.insertBefore(n, before);
          });
        });
        Object.keys(feedbackState).forEach(syncButtons);
        scrollDown();
      })
      .catch(function (err) {
        console.warn("vibeshelf: could not restore the conversation:", err);
      });
  }

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
      fetch(API + "/v1/autocomplete?q=" + encodeURIComponent(q), { headers: headers(true) })
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
    restore();
    // Reopen after a reload or on the next page, except as a phone's full-screen sheet over the page.
    var sheet = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
    if (START_OPEN || (stored("open") && !sheet)) setOpen(true, !START_OPEN);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
