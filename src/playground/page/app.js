// The playground page: draws the channel the server streams (Server-Sent Events), and sends what the
// chosen pretend person types or clicks. Plain DOM, no framework; messages are updated in place.

const $ = (selector) => document.querySelector(selector);
const list = $("#messages");
const box = $("#message-box");
const fileInput = $("#file-input");
const filesView = $("#files");
const suggestions = $("#suggestions");
const connection = $("#connection");
const modal = $("#modal");

const state = {
  me:
    new URLSearchParams(location.search).get("as") ?? localStorage.getItem("atelier-playground-as") ?? "ada",
  channel: { people: [], commands: [], messages: [] },
  /** Private notes the page itself shows (a mistyped command): { id, visibleTo, text, at }. */
  notes: [],
  /** message id → "This interaction failed" and the like, shown under that message to whoever clicked. */
  failures: new Map(),
  dismissed: new Set(),
  files: [],
  suggestion: 0,
};

/** What each drawn message was drawn from, to redraw only what changed. */
const drawn = new Map();

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function escapeHtml(text) {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );
}

function me() {
  return state.channel.people.find((person) => person.name === state.me);
}

function nameOf(id) {
  return state.channel.people.find((person) => person.id === id)?.name ?? "someone";
}

function colourOf(name) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return ["#5865f2", "#eb459e", "#57f287", "#fee75c", "#ed4245", "#3ba55c", "#faa61a"][hash % 7];
}

function avatar(name, bot) {
  return el(
    "div",
    { class: "avatar", style: `background:${bot ? "#5865f2" : colourOf(name)}`, "aria-hidden": "true" },
    bot ? "🎨" : name.slice(0, 1).toUpperCase(),
  );
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function relative(seconds) {
  const delta = Math.round(seconds - Date.now() / 1000);
  const [amount, unit] =
    Math.abs(delta) < 60
      ? [delta, "second"]
      : Math.abs(delta) < 3600
        ? [Math.round(delta / 60), "minute"]
        : Math.abs(delta) < 86400
          ? [Math.round(delta / 3600), "hour"]
          : [Math.round(delta / 86400), "day"];
  return new Intl.RelativeTimeFormat([], { numeric: "auto" }).format(amount, unit);
}

// ── Discord's markdown, the part the bot uses ────────────────────────────────────────────────────

function link(url, label = url) {
  return `<a href="${url}" target="_blank" rel="noreferrer">${label}</a>`;
}

function inline(text) {
  const kept = [];
  const keep = (html) => `\uE000${kept.push(html) - 1}\uE000`;
  // Left to right, as Discord reads it: an escaped character is literal, a code span is left alone.
  const raw = text.replace(/\\([^A-Za-z0-9\s])|`([^`]+)`/g, (_, escaped, code) =>
    keep(escaped === undefined ? `<code>${escapeHtml(code)}</code>` : escapeHtml(escaped)),
  );
  let html = escapeHtml(raw)
    .replace(/&lt;@!?(\d+)&gt;/g, (_, id) => keep(`<span class="mention">@${escapeHtml(nameOf(id))}</span>`))
    .replace(/&lt;@&amp;(\d+)&gt;/g, () => keep(`<span class="mention">@role</span>`))
    .replace(/&lt;#(\d+)&gt;/g, () => keep(`<span class="mention">#general</span>`))
    .replace(/&lt;t:(\d+)(?::([tTdDfFR]))?&gt;/g, (_, seconds, style) => {
      const date = new Date(Number(seconds) * 1000);
      return keep(
        style === "R" ? relative(Number(seconds)) : style === "t" ? clock(date) : date.toLocaleString(),
      );
    })
    .replace(/&lt;(https?:\/\/[^\s]+?)&gt;/g, (_, url) => keep(link(url)))
    .replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, (_, label, url) => keep(link(url, label)))
    .replace(/(^|[\s(])(https?:\/\/[^\s<)]+)/g, (_, lead, url) => `${lead}${keep(link(url))}`)
    .replace(/\*\*([\s\S]+?)\*\*/g, "<strong>$1</strong>")
    .replace(/__([\s\S]+?)__/g, "<u>$1</u>")
    .replace(/(^|[^*\w])\*([^*\s][^*]*?)\*/g, "$1<em>$2</em>")
    .replace(/(^|[^_\w])_([^_\s][^_]*?)_(?!\w)/g, "$1<em>$2</em>")
    .replace(/~~([\s\S]+?)~~/g, "<s>$1</s>");
  for (let i = 0; i < 3 && html.includes("\uE000"); i += 1) {
    html = html.replace(/\uE000(\d+)\uE000/g, (_, index) => kept[Number(index)]);
  }
  return html;
}

function markdown(text) {
  return text
    .split("\n")
    .map((line) => {
      if (line.startsWith("-# ")) return `<small>${inline(line.slice(3))}</small>`;
      if (line.startsWith("> ")) return `<blockquote>${inline(line.slice(2))}</blockquote>`;
      const heading = /^(#{1,3}) (.*)$/.exec(line);
      if (heading) return `<strong class="h${heading[1].length}">${inline(heading[2])}</strong>`;
      return inline(line);
    })
    .join("\n");
}

function rich(tag, className, text) {
  const node = el(tag, { class: className });
  node.innerHTML = markdown(text);
  return node;
}

// ── drawing ──────────────────────────────────────────────────────────────────────────────────────

function buttonView(message, button) {
  const label = [button.emoji, button.label].filter(Boolean).join(" ");
  const text = [button.emoji && el("span", { class: "emoji" }, button.emoji), button.label || undefined];
  if (button.url) {
    return el(
      "a",
      { class: `button style-${button.style}`, href: button.url, target: "_blank", rel: "noreferrer" },
      ...text,
    );
  }
  return el(
    "button",
    {
      type: "button",
      class: `button style-${button.style}`,
      disabled: button.disabled || !button.customId,
      "data-custom-id": button.customId,
      title: label,
      onclick: (event) => click(message, button, event.currentTarget),
    },
    ...text,
  );
}

function embedView(embed) {
  const colour = embed.colour === undefined ? undefined : `#${embed.colour.toString(16).padStart(6, "0")}`;
  return el(
    "div",
    { class: "embed", style: colour ? `border-left-color:${colour}` : undefined },
    embed.title && rich("div", "embed-title", embed.title),
    embed.description && rich("div", "embed-description", embed.description),
    embed.fields.length > 0 &&
      el(
        "div",
        { class: "embed-fields" },
        embed.fields.map((field) =>
          el(
            "div",
            { class: "embed-field" },
            rich("div", "embed-field-name", field.name),
            rich("div", "embed-field-value", field.value),
          ),
        ),
      ),
    embed.footer && el("div", { class: "embed-footer" }, embed.footer),
  );
}

function attachmentView(attachment) {
  if (
    (attachment.contentType ?? "").startsWith("image/") ||
    /\.(png|jpe?g|webp|gif)$/i.test(attachment.filename)
  ) {
    return el(
      "a",
      { href: attachment.url, target: "_blank", rel: "noreferrer" },
      el("img", { src: attachment.url, alt: attachment.filename, onload: keepScrolled }),
    );
  }
  return el("a", { class: "file", href: attachment.url, target: "_blank" }, `📎 ${attachment.filename}`);
}

function messageView(message) {
  const failure = state.failures.get(message.id);
  const item = el(
    "li",
    {
      class: `message${message.ephemeral ? " ephemeral" : ""}`,
      "data-message-id": message.id,
      "data-ephemeral": message.ephemeral ? "true" : undefined,
    },
    avatar(message.author.name, message.author.bot),
    el(
      "div",
      { class: "message-body" },
      message.usedCommand &&
        el(
          "div",
          { class: "used" },
          el("span", { class: "name" }, nameOf(message.usedCommand.userId)),
          ` used /${message.usedCommand.name}`,
        ),
      el(
        "div",
        { class: "head" },
        el("span", { class: "author" }, message.author.name),
        message.author.bot && el("span", { class: "badge" }, "APP"),
        el(
          "time",
          { class: "time", datetime: new Date(message.createdAt).toISOString() },
          clock(message.createdAt),
        ),
      ),
      message.loading
        ? el("div", { class: "thinking" }, `${message.author.name} is thinking`)
        : message.content &&
            el(
              "div",
              { class: "content" },
              ...[rich("span", "", message.content)],
              message.edited && el("span", { class: "edited" }, " (edited)"),
            ),
      message.embeds.map(embedView),
      message.attachments.length > 0 &&
        el("div", { class: "attachments" }, message.attachments.map(attachmentView)),
      message.rows.length > 0 &&
        el(
          "div",
          { class: "rows" },
          message.rows.map((row) =>
            el(
              "div",
              { class: "row" },
              row.map((button) => buttonView(message, button)),
            ),
          ),
        ),
      failure && el("div", { class: "failed", role: "alert" }, failure),
      message.ephemeral &&
        el(
          "div",
          { class: "private" },
          "👁 Only you can see this • ",
          el("button", { type: "button", onclick: () => dismiss(message.id) }, "Dismiss message"),
        ),
    ),
  );
  return item;
}

function visibleMessages() {
  const mine = me()?.id;
  const fromServer = state.channel.messages.filter(
    (message) => !state.dismissed.has(message.id) && (!message.ephemeral || message.visibleTo === mine),
  );
  const notes = state.notes
    .filter((note) => note.visibleTo === state.me && !state.dismissed.has(note.id))
    .map((note) => ({
      id: note.id,
      createdAt: note.at,
      edited: false,
      author: { id: "playground", name: "Playground", bot: true },
      content: note.text,
      embeds: [],
      attachments: [],
      rows: [],
      ephemeral: true,
      loading: false,
    }));
  return [...fromServer, ...notes].sort((a, b) => a.createdAt - b.createdAt);
}

function nearBottom() {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
}

let stickToBottom = true;
function keepScrolled() {
  if (stickToBottom) list.scrollTop = list.scrollHeight;
}

function render() {
  stickToBottom = nearBottom();
  const messages = visibleMessages();
  const seen = new Set();
  let previous = null;
  for (const message of messages) {
    seen.add(message.id);
    const key = JSON.stringify([message, state.failures.get(message.id) ?? null]);
    let entry = drawn.get(message.id);
    if (!entry || entry.key !== key) {
      const node = messageView(message);
      if (entry) entry.node.replaceWith(node);
      entry = { key, node };
      drawn.set(message.id, entry);
    }
    const expected = previous ? previous.nextSibling : list.firstChild;
    if (expected !== entry.node) list.insertBefore(entry.node, expected);
    previous = entry.node;
  }
  for (const [id, entry] of drawn) {
    if (!seen.has(id)) {
      entry.node.remove();
      drawn.delete(id);
    }
  }
  if (messages.length === 0 && !list.querySelector(".empty")) {
    list.append(
      el("li", { class: "empty" }, "No messages yet. Type /imagine and a prompt below, then press Enter."),
    );
  } else if (messages.length > 0) {
    list.querySelector(".empty")?.remove();
  }
  keepScrolled();
}

function renderPeople() {
  const holder = $("#people");
  holder.replaceChildren(
    ...state.channel.people
      .filter((person) => person.name !== state.channel.botName)
      .map((person) =>
        el(
          "button",
          {
            type: "button",
            role: "radio",
            class: "person",
            "aria-checked": person.name === state.me ? "true" : "false",
            "data-person": person.name,
            onclick: () => switchTo(person.name),
          },
          avatar(person.name, false),
          person.name,
          person.admin && el("span", { class: "role" }, "admin"),
        ),
      ),
  );
}

function switchTo(name) {
  state.me = name;
  localStorage.setItem("atelier-playground-as", name);
  const url = new URL(location.href);
  url.searchParams.set("as", name);
  history.replaceState(null, "", url);
  renderPeople();
  render();
  box.focus();
}

function dismiss(id) {
  state.dismissed.add(id);
  render();
}

function note(text) {
  state.notes.push({
    id: `note-${Date.now()}-${state.notes.length}`,
    visibleTo: state.me,
    text,
    at: Date.now(),
  });
  render();
}

// ── acting ───────────────────────────────────────────────────────────────────────────────────────

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user: state.me, ...body }),
  });
  if (!response.ok) return { ok: false, error: `The playground answered ${response.status}` };
  return response.json();
}

async function afterAction(result, failedMessageId) {
  if (result.ok && result.modal) openModal(result.modal);
  else if (!result.ok && failedMessageId) {
    state.failures.set(failedMessageId, result.error);
    render();
    setTimeout(() => {
      state.failures.delete(failedMessageId);
      render();
    }, 6000);
  } else if (!result.ok) note(result.error);
}

async function click(message, button, node) {
  node.classList.add("busy");
  try {
    await afterAction(
      await post("/api/click", { messageId: message.id, customId: button.customId }),
      message.id,
    );
  } finally {
    node.classList.remove("busy");
  }
}

async function fileData(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { name: file.name, type: file.type, data: btoa(binary) };
}

async function send() {
  const text = box.value.trim();
  if (text === "") return;
  if (!text.startsWith("/")) {
    note(
      "Atelier only answers slash commands here: try `/imagine a red fox --ar 3:2`, `/settings` or `/info`.",
    );
    box.value = "";
    return;
  }
  const files = await Promise.all(state.files.map(fileData));
  box.value = "";
  setFiles([]);
  hideSuggestions();
  resizeBox();
  const result = await post("/api/command", { text, files });
  if (!result.ok) box.value ||= text; // let the person fix what they typed
  await afterAction(result);
}

function openModal(form) {
  $("#modal-title").textContent = form.title;
  $("#modal-fields").replaceChildren(
    ...form.fields.map((field) =>
      el(
        "label",
        {},
        field.label,
        el(field.multiline ? "textarea" : "input", {
          name: field.customId,
          rows: field.multiline ? 4 : undefined,
          required: field.required,
        }),
      ),
    ),
  );
  form.fields.forEach((field) => {
    modal.querySelector(`[name="${CSS.escape(field.customId)}"]`).value = field.value;
  });
  modal.dataset.interactionId = form.interactionId;
  modal.dataset.customId = form.customId;
  modal.showModal();
}

$("#modal-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = Object.fromEntries(new FormData(event.currentTarget).entries());
  modal.close();
  const result = await post("/api/modal", {
    interactionId: modal.dataset.interactionId,
    customId: modal.dataset.customId,
    fields,
  });
  await afterAction(result);
});
$("#modal-cancel").addEventListener("click", () => modal.close());

// ── the message box ──────────────────────────────────────────────────────────────────────────────

function setFiles(files) {
  state.files = files;
  filesView.hidden = files.length === 0;
  filesView.replaceChildren(
    ...files.map((file, index) =>
      el(
        "span",
        { class: "chip" },
        `🖼 ${file.name}`,
        el(
          "button",
          {
            type: "button",
            "aria-label": `Remove ${file.name}`,
            onclick: () => setFiles(state.files.filter((_, i) => i !== index)),
          },
          "✕",
        ),
      ),
    ),
  );
}

fileInput.addEventListener("change", () => {
  setFiles([...state.files, ...fileInput.files]);
  fileInput.value = "";
  box.focus();
});

function matchingCommands() {
  const match = /^\/(\S*)$/.exec(box.value);
  if (!match) return [];
  return state.channel.commands.filter((command) => command.name.startsWith(match[1].toLowerCase()));
}

function hideSuggestions() {
  suggestions.hidden = true;
}

function showSuggestions() {
  const found = matchingCommands();
  if (found.length === 0) return hideSuggestions();
  state.suggestion = Math.min(state.suggestion, found.length - 1);
  suggestions.replaceChildren(
    ...found.map((command, index) =>
      el(
        "div",
        {
          role: "option",
          "aria-selected": index === state.suggestion ? "true" : "false",
          onmousedown: (event) => {
            event.preventDefault();
            complete(command.name);
          },
        },
        el("strong", {}, `/${command.name}`),
        el("span", { class: "description" }, command.description),
      ),
    ),
  );
  suggestions.hidden = false;
}

function complete(name) {
  box.value = `/${name} `;
  hideSuggestions();
  box.focus();
}

function resizeBox() {
  box.style.height = "auto";
  box.style.height = `${box.scrollHeight}px`;
}

box.addEventListener("input", () => {
  state.suggestion = 0;
  showSuggestions();
  resizeBox();
});

box.addEventListener("keydown", (event) => {
  const found = suggestions.hidden ? [] : matchingCommands();
  if (found.length > 0 && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    state.suggestion = (state.suggestion + (event.key === "ArrowDown" ? 1 : found.length - 1)) % found.length;
    showSuggestions();
    return;
  }
  if (found.length > 0 && (event.key === "Tab" || (event.key === "Enter" && !event.shiftKey))) {
    const chosen = found[state.suggestion];
    // "/info" typed in full runs at once; a partial name is completed first.
    if (event.key === "Tab" || chosen.name !== box.value.slice(1).toLowerCase()) {
      event.preventDefault();
      complete(chosen.name);
      return;
    }
  }
  if (event.key === "Escape") hideSuggestions();
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    void send();
  }
});

$("#composer").addEventListener("submit", (event) => {
  event.preventDefault();
  void send();
});

// ── the live channel ─────────────────────────────────────────────────────────────────────────────

function connect() {
  const events = new EventSource("/api/events");
  events.onopen = () => {
    connection.textContent = "live";
    connection.classList.add("live");
  };
  events.onmessage = (event) => {
    state.channel = JSON.parse(event.data);
    if (!state.channel.people.some((person) => person.name === state.me))
      state.me = state.channel.people[0]?.name;
    renderPeople();
    render();
  };
  events.onerror = () => {
    connection.textContent = "reconnecting…";
    connection.classList.remove("live");
  };
}

connect();
box.focus();
