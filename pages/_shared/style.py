"""The app's own style sheet: a visible "Updating…" state while the page runs again after a click,
and placeholders that stand still.

``serve.py`` adds it to the HTML page Streamlit serves, so it is there from the first paint
and through every rerun (an element the page script emitted is replaced while it reruns).
"""

APP_STYLE = """<style id="gcrm-style">
[data-testid="stApp"][data-test-script-state="running"] iframe {
  opacity: 0.45;
  transition: opacity 0.15s ease-in;
}
[data-testid="stApp"][data-test-script-state="running"] [data-testid="stMain"]::before {
  content: "Updating…";
  position: fixed;
  top: 0.75rem;
  left: 50%;
  transform: translateX(-50%);
  z-index: 1000;
  padding: 0.3rem 0.9rem;
  border-radius: 1rem;
  background: #1f4e79;
  color: #fff;
  font-weight: 600;
  box-shadow: 0 2px 6px rgba(0, 0, 0, 0.25);
}
[data-testid="stApp"] [data-testid="stSkeleton"] {
  animation: none;
}
</style>"""
"""While Streamlit runs the page again (``data-test-script-state="running"`` on the app), maps
fade and a pill says "Updating…": a click on a map is seen to have been taken.

The grey placeholder Streamlit shows where a map will be, until its component has loaded,
stands still: its shimmer repainted the placeholder on every frame (60 a second), which in a
sales meeting of eight headless Chromium sessions on two cores made the slowest sign-in to a
first map 12 s instead of 8 s (``benchmarks/concurrent_users.py``), and costs a phone its
battery. The "Updating…" pill says the page is at work.

A constant: no data from the book reaches it."""
