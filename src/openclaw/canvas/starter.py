"""The page a new canvas starts with (written only when `index.html` is missing)."""

STARTER_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>OpenClaw Canvas</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; margin: 3rem auto; max-width: 40rem; padding: 0 1rem; }
    code { background: #f2f2f2; padding: 0 .25rem; border-radius: 3px; }
    button { font: inherit; padding: .4rem .9rem; }
  </style>
</head>
<body>
  <h1>OpenClaw Canvas</h1>
  <p>This page lives in your workspace's <code>canvas/</code> folder. Edit it, or add files beside it:
     every open page reloads when a file changes.</p>
  <p><button id="now" type="button">What time is it?</button> <span id="out"></span></p>
  <script>
    document.getElementById("now").addEventListener("click", () => {
      document.getElementById("out").textContent = new Date().toLocaleTimeString();
    });
  </script>
</body>
</html>
"""
