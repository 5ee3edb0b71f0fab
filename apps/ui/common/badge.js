// The always-visible sync badge, the same in both apps: link (online / peer / offline /
// connecting), entries waiting for the hub, and the time since the last hub sync — the age of
// the revocation list. `badge` is what Rust's `app_core::links::Badge` serializes to; `null`
// hides it (a device not enrolled yet has nothing to sync).

const $ = (id) => document.getElementById(id);

/** "synced 12 s ago" for a time since the last sync in milliseconds. */
export function ago(ms) {
  if (ms == null) return "never synced";
  const s = Math.round(ms / 1000);
  if (s < 60) return `synced ${s} s ago`;
  if (s < 3600) return `synced ${Math.round(s / 60)} min ago`;
  return `synced ${Math.round(s / 3600)} h ago`;
}

/** Draws the badge into #badge (with #badge-link, #badge-pending, #badge-age). */
export function renderBadge(badge) {
  $("badge").hidden = badge === null;
  if (badge === null) return;
  $("badge").dataset.link = badge.link;
  $("badge-link").textContent =
    { online: "Online", peer: "Peer", offline: "Offline", connecting: "Connecting" }[badge.link];
  $("badge-pending").textContent = `${badge.pending} waiting`;
  $("badge-pending").dataset.count = badge.pending;
  $("badge-age").textContent = ago(badge.last_sync_ms_ago);
}
