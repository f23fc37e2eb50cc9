// Small helpers shared by the studio pages.
export function readJson(id) {
  const holder = document.getElementById(id);
  return holder ? JSON.parse(holder.textContent) : null;
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute('content') : '';
}

export async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken(), Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  let payload = null;
  try {
    payload = await response.json();
  } catch (err) {
    payload = { error: { message: `${response.status} ${response.statusText}` } };
  }
  return { status: response.status, payload };
}

export function say(region, text, kind = 'info') {
  region.textContent = text;
  region.className = `status ${kind}`;
}

// Leaving a page with edits not yet deployed asks first: changed() after an edit, saved() after a deploy.
export function guardUnsaved() {
  let unsaved = false;
  window.addEventListener('beforeunload', (event) => {
    if (!unsaved) return;
    event.preventDefault();
    event.returnValue = '';
  });
  return {
    changed() { unsaved = true; },
    saved() { unsaved = false; },
  };
}
