// The screen of a device the organizer removed, the same in both apps. Rust acted on the hub's
// signed notice already: it stopped syncing, sealed what never reached the hub into an export
// file, and deleted everything else. `removed` is what `app_core::removed::Removed` serializes
// to; `work` says what the device did ("scan tickets", "sell tickets").

const $ = (id) => document.getElementById(id);

function paragraph(text, className) {
  const p = document.createElement("p");
  p.textContent = text;
  if (className) p.className = className;
  return p;
}

/** Fills #removed-screen; `onEnroll` runs when staff choose to enroll the device again. */
export function renderRemoved(removed, work, onEnroll) {
  const screen = $("removed-screen");
  if (screen.dataset.shown === String(removed.wiped_at)) return;
  screen.dataset.shown = String(removed.wiped_at);
  const when = new Date(removed.revoked_at).toLocaleString();
  const title = document.createElement("h1");
  title.textContent = "The organizer removed this device";
  const parts = [
    title,
    paragraph(`It was removed from the event on ${when}, so it can no longer ${work}. ` +
      "Guest names, receipts, reports and its keys have been deleted from it."),
  ];
  if (removed.export) {
    const [entries, them] = removed.unsynced === 1 ? ["1 record", "It is"] : [`${removed.unsynced} records`, "They are"];
    parts.push(paragraph(removed.unsynced === 0
      ? "Everything it recorded had reached the organizer already."
      : `${entries} had not reached the organizer yet. ${them} kept, sealed so that only the organizer can read them, in this file:`));
    const file = document.createElement("code");
    file.id = "removed-export";
    file.textContent = removed.export;
    if (removed.unsynced > 0) {
      parts.push(file, paragraph("Give the file to the organizer, who uploads it in the console (Devices)."));
    }
  } else {
    parts.push(paragraph(`What it recorded could not be sealed (${removed.export_error}); ` +
      "it is still on this device. Hand the device to the organizer.", "error"));
  }
  const again = document.createElement("button");
  again.type = "button";
  again.className = "secondary";
  again.id = "removed-enroll";
  again.textContent = "Enroll again with a new code";
  again.addEventListener("click", onEnroll);
  parts.push(again);
  screen.replaceChildren(...parts);
}
