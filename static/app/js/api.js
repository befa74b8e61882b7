// HTTP to the server. A network failure (no answer at all) is a NetworkError; every answer,
// good or bad, comes back as {status, data} for the caller to decide.
import { getMeta } from "./storage.js";

export class NetworkError extends Error {}

export async function request(method, path, { json, body, headers = {}, timeout = 30000, auth = true } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  const allHeaders = { Accept: "application/json", ...headers };
  if (auth) {
    const token = await getMeta("token");
    if (token) allHeaders.Authorization = `Bearer ${token}`;
  }
  let payload = body;
  if (json !== undefined) {
    allHeaders["Content-Type"] = "application/json";
    payload = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers: allHeaders, body: payload, signal: controller.signal, credentials: "same-origin", cache: "no-store" });
  } catch (error) {
    throw new NetworkError(error?.message || "network");
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try { data = await response.json(); } catch (_error) { data = null; }
  }
  return { status: response.status, data };
}

// Image bytes the phone does not hold itself (taken on another phone), for thumbnails.
export async function fetchBlob(sha256) {
  const token = await getMeta("token");
  if (!token) return null;
  try {
    const response = await fetch(`/api/v1/blobs/${sha256}`, { headers: { Authorization: `Bearer ${token}` } });
    return response.ok ? await response.blob() : null;
  } catch (_error) {
    return null;
  }
}
