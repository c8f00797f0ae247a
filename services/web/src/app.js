"use strict";

const API_URL = (window.API_URL || "").replace(/\/+$/, "");
const POLL_MS = 500;
const MAX_POLLS = 120;

const $ = (id) => document.getElementById(id);

async function submitJob(text) {
  const response = await fetch(API_URL + "/jobs", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ kind: "wordcount", payload: { text } }),
  });
  const body = await response.json();
  if (response.status !== 201) throw new Error(body.error || `HTTP ${response.status}`);
  return body.id;
}

async function fetchJob(id) {
  const response = await fetch(`${API_URL}/jobs/${id}`);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function show(job) {
  $("status").hidden = false;
  $("job-id").textContent = job.id;
  $("job-status").textContent = job.status;
  $("result").hidden = job.status !== "done";
  $("error").hidden = !job.error;
  $("error").textContent = job.error || "";
  $("top").replaceChildren();
  if (job.status === "done") {
    $("words").textContent = job.result.words;
    $("unique").textContent = job.result.unique;
    for (const [word, count] of job.result.top) {
      const item = document.createElement("li");
      item.textContent = `${word} (${count})`;
      $("top").append(item);
    }
  }
}

async function poll(id) {
  for (let i = 0; i < MAX_POLLS; i++) {
    const job = await fetchJob(id);
    show(job);
    if (job.status === "done" || job.status === "failed") return;
    await sleep(POLL_MS);
  }
  throw new Error("gave up waiting for the result");
}

$("job-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = event.target.querySelector("button");
  button.disabled = true;
  try {
    const id = await submitJob($("text").value);
    show({ id, status: "pending" });
    await poll(id);
  } catch (err) {
    $("status").hidden = false;
    $("error").hidden = false;
    $("error").textContent = String(err.message || err);
  } finally {
    button.disabled = false;
  }
});
