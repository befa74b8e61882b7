// Intake: recognise a returning customer by phone number and show their history.
const phone = document.getElementById("phone");
const box = document.getElementById("customer-history");
let timer = null;
let asked = "";

function digits(value) {
  let d = value.replace(/\D/g, "");
  if (d.length === 13 && d.startsWith("86")) d = d.slice(2);
  return d;
}

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

function fill(id, value) {
  const input = document.getElementById(id);
  if (input && value) input.value = value;
}

function show(data) {
  const t = box.dataset;
  if (!data.found) {
    box.replaceChildren(el("p", t.new, {class: "muted"}));
    return;
  }
  const c = data.customer;
  const head = el("div", null, {class: "found"});
  head.append(el("p", null));
  head.firstChild.append(el("b", c.name), ` · ${c.phone}`);
  if (c.address) head.append(el("p", c.address, {class: "muted"}));
  const use = el("button", t.use, {type: "button", class: "use-customer"});
  use.addEventListener("click", () => { fill("name", c.name); fill("address", c.address); });
  head.append(use);
  box.replaceChildren(el("h2", t.returning), head);
  if (data.jobs.length) {
    box.append(el("h3", `${t.jobs} (${data.job_total})`));
    const list = el("ul", null, {class: "past-jobs"});
    for (const job of data.jobs) {
      const item = el("li");
      item.append(el("a", job.ref, {href: job.url}),
        ` · ${job.created} · ${job.type} · ${job.status}`);
      if (job.technician) item.append(` · ${job.technician}`);
      item.append(el("br"), el("small", `${job.product_model}: ${job.problem}`));
      list.append(item);
    }
    box.append(list);
    if (data.job_total > data.jobs.length) {
      box.append(el("a", t.more, {href: `${t.searchUrl}?q=${encodeURIComponent(c.phone)}`}));
    }
  }
  if (data.complaints.length) {
    box.append(el("h3", t.complaints));
    const list = el("ul", null, {class: "past-complaints"});
    for (const complaint of data.complaints) {
      const item = el("li");
      item.append(el("a", complaint.ref, {href: complaint.url}),
        ` · ${complaint.created} · ${complaint.status}`, el("br"), el("small", complaint.content));
      list.append(item);
    }
    box.append(list);
  }
  if (!document.getElementById("name").value) fill("name", c.name);
  if (!document.getElementById("address").value) fill("address", c.address);
}

async function lookup() {
  const d = digits(phone.value);
  if (d.length < 7 || d === asked) return;
  asked = d;
  try {
    const answer = await fetch(`${phone.dataset.lookup}?phone=${encodeURIComponent(d)}`,
      {credentials: "same-origin", headers: {Accept: "application/json"}});
    if (answer.ok && digits(phone.value) === d) show(await answer.json());
  } catch (error) {
    asked = ""; // try again on the next change
  }
}

if (phone && box) {
  phone.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(lookup, 350); });
  phone.addEventListener("change", lookup);
  if (phone.value) lookup();
}
