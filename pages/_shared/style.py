"""The app's own style sheet: a visible "Updating…" state while the page runs again after a click.

``serve.py`` adds it to the HTML page Streamlit serves, so it is there from the first paint
and through every rerun (an element the page script emitted is replaced while it reruns).
"""

RERUN_STYLE = """<style id="gcrm-style">
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
</style>"""
"""While Streamlit runs the page again (``data-test-script-state="running"`` on the app), maps
fade and a pill says "Updating…": a click on a map is seen to have been taken. A constant: no
data from the book reaches it."""
