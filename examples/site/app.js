// Shows that the script arrived, and what the server said about this page.
fetch(location.href, { method: 'HEAD' }).then((res) => {
  document.getElementById('status').textContent =
    `Script loaded. ${res.headers.get('server')} sent this page with ETag ${res.headers.get('etag')}.`;
});
