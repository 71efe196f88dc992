"""The managed browser: Chromium per profile, driven over CDP, served on the browser-control port."""
